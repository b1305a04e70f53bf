// atlas export <trajectories.jsonl> --format openai|agentgym|axolotl|llamafactory|torchtune|labels|tokenized|trl --out <file>
// Marks exactly the steps of the chosen arm (default: critical = each trajectory's active selection).
// --format tokenized writes the arm's training windows as Hugging Face token lines
// (src/cli/tokenized-export.ts) with a <out>.meta.json side file.
// axolotl, llamafactory, torchtune and trl also write a trainer recipe (src/data/recipes): a complete
// config and the multi-GPU command to run it.
// Built-in held-out demonstrations are left out unless --split asks for them (then marked).
// Files the user did not name are never replaced silently: LLaMA-Factory's dataset_info.json is
// merged (a name clash is an error, and nothing is written), and a side file that exists with
// other content is replaced only with a warning naming it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from '../main.ts';
import { numberOption, parseCommandArgs, requireOption, intOption } from '../args.ts';
import { EXPORT_FORMATS, EXPORT_SPLITS, exportTrajectories, type ExportFormat, type ExportSplit } from '../../data/export.ts';
import { splitMessage } from '../../data/exportSplit.ts';
import { mergeDatasetInfo } from '../../data/datasetInfo.ts';
import { parseTrajectoriesJsonl } from '../../data/jsonl.ts';
import { ARMS, type Arm } from '../../data/arms.ts';
import { AGENT_TEXT_STYLES, type AgentTextStyle } from '../../data/agentText.ts';
import { tokenizedExport } from '../tokenized-export.ts';
import { BESIDE_OUT, exportRecipe, hasRecipe, RECIPE_DEFAULTS, RECIPE_FORMATS, recipeSettings } from '../../data/recipes/index.ts';

const FORMATS = [...EXPORT_FORMATS, 'tokenized', 'trl'] as const;
/** Options only the tokenized format takes. */
const TOKENIZED_ONLY = ['model', 'seq-len', 'pad', 'selection', 'step-loss'] as const;

const HELP = `usage: atlas export <trajectories.jsonl> --format ${EXPORT_FORMATS.join('|')} --out <file>
       [--arm ${ARMS.filter((a) => a !== 'highest-loss').join('|')}] [--seed N] [--budget F] [--dataset-name NAME]
       [--agent-text ${AGENT_TEXT_STYLES.join('|')}] [--split ${EXPORT_SPLITS.join('|')}]
       atlas export <trajectories.jsonl> --format tokenized --model <hf-folder|model.bin|preset:NAME> --out <file.jsonl>
       [--arm ${ARMS.join('|')}] [--seq-len N] [--pad] [--seed N] [--budget F] [--selection NAME]
       [--step-loss <file.jsonl>] [--agent-text ${AGENT_TEXT_STYLES.join('|')}] [--split ${EXPORT_SPLITS.join('|')}]
  The supervised turns are the arm's steps (default: critical, the active selection).
  --agent-text thought-action writes agent turns as "Thought: …\\nAction: …" (default: as imported).
  --split: built-in demonstrations record their split; the default exports the held-in
  (training) split and every trajectory without a split, and leaves the held-out split out so
  it stays unseen for evaluation. held-out or all include it, each record marked
  "split": "held-out" (except in openai files, which hold only "messages").
  llamafactory also writes <file>'s entry into dataset_info.json next to <file> (merged with
  the entries already there; a different dataset of the same name is an error) and
  <out>.train.yaml (mask_history: true).
  tokenized: one JSON line per training window, {"input_ids", "labels", "attention_mask"}, built
  by the code that builds "atlas train"'s batches (the model's tokenizer and chat layout; windows
  that keep the instruction and end at a supervised turn). labels follow Hugging Face: equal to
  input_ids where the token counts in the loss, -100 elsewhere, unshifted (the model shifts);
  feed the lines to a Trainer / TRL as they are, without applying a chat template. --seq-len N:
  at most N tokens a line (default: the model's context), i.e. the windows of
  "atlas train --seq N-1"; --pad pads every line to N (attention_mask 0). <out>.meta.json names
  the tokenizer (files + sha256), the chat layout, arm, seed, seq len and counts.
  --arm highest-loss uses --step-loss <file> ({"id","stepLoss":[…]} lines) or the model's own
  per-step loss (WebGPU). --format tokenized downloads --model hf:ORG/NAME[@REV] into the hub cache
  ("atlas help"); trl does not (its config names the hub id): give it the downloaded folder.
  Recipes (docs/data.md, "Recipes that run"): ${RECIPE_FORMATS.join(', ')} also write a complete config for
  that trainer next to <out> and print the command to run it on the GPUs; trl is the tokenized
  export plus a TRL SFTTrainer config and script. [--model <hf-id|folder>] the base model
  (default: the placeholder ${RECIPE_DEFAULTS.model}, marked in the file), [--seq-len N]
  (default ${RECIPE_DEFAULTS.seqLen}; trl: the tokenized lines'), [--lora R] LoRA rank R (default: full
  fine-tuning), [--gpus N] GPUs of the launch line (default ${RECIPE_DEFAULTS.gpus}).`;

/** Where a side file goes: dataset_info.json and the recipes' shared files (BESIDE_OUT) beside the output, others as `<out>.<suffix>`. */
const sidePath = (out: string, name: string) => (BESIDE_OUT.has(name) ? join(dirname(out), name) : `${out.replace(/\.jsonl?$/, '')}.${name}`);

export const command: Command = {
  summary: 'export trajectories for OpenAI, AgentGym, Axolotl, LLaMA-Factory, torchtune, TRL (with trainer recipes), as tokens or as a labels file',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('export', argv, {
      format: { type: 'string' },
      out: { type: 'string' },
      arm: { type: 'string' },
      seed: { type: 'string' },
      budget: { type: 'string' },
      'dataset-name': { type: 'string' },
      'agent-text': { type: 'string' },
      split: { type: 'string' },
      model: { type: 'string' },
      'seq-len': { type: 'string' },
      pad: { type: 'boolean' },
      selection: { type: 'string' },
      'step-loss': { type: 'string' },
      lora: { type: 'string' },
      gpus: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, true);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new Error(`expected exactly one trajectories file (got ${positionals.length}) (see "atlas export --help")`);
    const format = requireOption('export', values.format, 'format') as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new Error(`--format must be one of ${FORMATS.join(', ')} (got "${format}")`);
    const tokenized = format === 'tokenized' || format === 'trl';
    // --model and --seq-len also set a recipe's base model and sequence length.
    const misplaced = tokenized ? (values['dataset-name'] !== undefined ? ['dataset-name'] : []) : TOKENIZED_ONLY.filter((k) => values[k] !== undefined && !(hasRecipe(format) && (k === 'model' || k === 'seq-len')));
    if (misplaced.length) throw new Error(`--${misplaced.join(', --')} ${tokenized ? `does not apply to --format ${format}` : 'apply to --format tokenized only'}`);
    const recipeFor = recipeSettings(format, { model: values.model, seqLen: values['seq-len'], lora: values.lora, gpus: values.gpus });
    const arm = (values.arm ?? 'critical') as Arm;
    if (!ARMS.includes(arm)) throw new Error(`--arm must be one of ${ARMS.join(', ')} (got "${arm}")`);
    if (arm === 'highest-loss' && !tokenized) throw new Error('--arm highest-loss needs per-step losses from a model; use --format tokenized with --model (or --step-loss), or export it from the trainer');
    const agentText = (values['agent-text'] ?? 'as-written') as AgentTextStyle;
    if (!AGENT_TEXT_STYLES.includes(agentText)) throw new Error(`--agent-text must be one of ${AGENT_TEXT_STYLES.join(', ')} (got "${agentText}")`);
    const split = (values.split ?? 'held-in') as ExportSplit;
    if (!EXPORT_SPLITS.includes(split)) throw new Error(`--split must be one of ${EXPORT_SPLITS.join(', ')} (got "${split}")`);
    const out = requireOption('export', values.out, 'out');
    const file = positionals[0];
    const { trajectories } = parseTrajectoriesJsonl(readFileSync(file, 'utf8'), file);
    const tok = tokenized
      ? await tokenizedExport({
          file,
          trajectories,
          out,
          modelArg: requireOption('export', values.model, 'model'),
          arm,
          seed: intOption('export', values.seed, 'seed', 0),
          budget: numberOption('export', values.budget, 'budget', 0.3),
          seqLen: values['seq-len'] === undefined ? undefined : intOption('export', values['seq-len'], 'seq-len', 0),
          pad: values.pad === true,
          selection: values.selection,
          stepLossFile: values['step-loss'],
          agentText,
          split,
        })
      : undefined;
    const result = tok ? { ...tok, records: tok.lines, datasetInfo: undefined } : exportTrajectories(trajectories, format as ExportFormat, {
      arm,
      seed: intOption('export', values.seed, 'seed', 0),
      budget: numberOption('export', values.budget, 'budget', 0.3),
      datasetName: values['dataset-name'],
      fileName: basename(out),
      agentText,
      split,
    });

    const recipe = exportRecipe(format, recipeFor, { dataFile: basename(out), datasetName: values['dataset-name'], seqLen: tok?.summary.seqLen });
    if (recipe) Object.assign(result.sideFiles, recipe.sideFiles);

    // Decide every side file's content before writing anything, so a clash leaves all files as they were.
    const side: { path: string; text: string }[] = [];
    const replaced: string[] = [];
    for (const [name, content] of Object.entries(result.sideFiles)) {
      const path = sidePath(out, name);
      if (resolve(path) === resolve(out)) throw new Error(`--out ${out} is the path of the ${name} side file; choose another output name`);
      const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
      if (name === 'dataset_info.json' && result.datasetInfo) {
        side.push({ path, text: mergeDatasetInfo(existing, result.datasetInfo, path).text });
        continue;
      }
      if (existing !== undefined && existing !== content) replaced.push(path);
      side.push({ path, text: content });
    }
    writeFileSync(out, result.text);
    for (const s of side) writeFileSync(s.path, s.text);

    for (const path of replaced) console.log(`export: warning: replaced ${path}, which held different content (it is written next to --out; keep a copy under another name if you need it)`);
    if (result.withoutSelectedSteps.length) {
      console.log(`export: warning: ${result.withoutSelectedSteps.length} trajectories have no step selected by arm "${arm}" (e.g. ${result.withoutSelectedSteps.slice(0, 3).join(', ')}); they carry no supervised turn${tokenized ? ' and give no line' : ''}`);
    }
    const said = splitMessage(result.split);
    if (said) console.log(`export: ${said}`);
    for (const c of recipe?.commands ?? []) console.log(`export: run on the GPU machine, in the folder holding ${basename(out)}: ${c}`);
    console.log(
      JSON.stringify({
        out,
        format,
        arm,
        trajectories: result.trajectories,
        records: result.records,
        sideFiles: side.map((s) => s.path),
        withoutSelectedSteps: result.withoutSelectedSteps.length,
        split: result.split,
        ...(tok && tok.summary),
        ...(recipe && { run: recipe.commands }),
        ...(replaced.length && { replaced }),
      }),
    );
    return 0;
  },
};
