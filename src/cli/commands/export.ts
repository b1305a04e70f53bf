// atlas export <trajectories.jsonl> --format openai|agentgym|axolotl|llamafactory|labels --out <file>
// Marks exactly the steps of the chosen arm (default: critical = each trajectory's active selection).
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

const HELP = `usage: atlas export <trajectories.jsonl> --format ${EXPORT_FORMATS.join('|')} --out <file>
       [--arm ${ARMS.join('|')}] [--seed N] [--budget F] [--dataset-name NAME]
       [--agent-text ${AGENT_TEXT_STYLES.join('|')}] [--split ${EXPORT_SPLITS.join('|')}]
  The supervised turns are the arm's steps (default: critical, the active selection).
  --agent-text thought-action writes agent turns as "Thought: …\\nAction: …" (default: as imported).
  --split: built-in demonstrations record their split; the default exports the held-in
  (training) split and every trajectory without a split, and leaves the held-out split out so
  it stays unseen for evaluation. held-out or all include it, each record marked
  "split": "held-out" (except in openai files, which hold only "messages").
  llamafactory also writes <file>'s entry into dataset_info.json next to <file> (merged with
  the entries already there; a different dataset of the same name is an error) and
  <out>.train.yaml (mask_history: true).`;

/** Where a side file goes: dataset_info.json beside the output, others as `<out>.<suffix>`. */
const sidePath = (out: string, name: string) => (name === 'dataset_info.json' ? join(dirname(out), name) : `${out.replace(/\.jsonl?$/, '')}.${name}`);

export const command: Command = {
  summary: 'export trajectories for OpenAI, AgentGym, Axolotl, LLaMA-Factory or as a labels file',
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
      help: { type: 'boolean', short: 'h' },
    }, true);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new Error(`expected exactly one trajectories file (got ${positionals.length}) (see "atlas export --help")`);
    const format = requireOption('export', values.format, 'format') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new Error(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got "${format}")`);
    const arm = (values.arm ?? 'critical') as Arm;
    if (!ARMS.includes(arm)) throw new Error(`--arm must be one of ${ARMS.join(', ')} (got "${arm}")`);
    if (arm === 'highest-loss') throw new Error('--arm highest-loss needs per-step losses from a model; export it from the trainer instead');
    const agentText = (values['agent-text'] ?? 'as-written') as AgentTextStyle;
    if (!AGENT_TEXT_STYLES.includes(agentText)) throw new Error(`--agent-text must be one of ${AGENT_TEXT_STYLES.join(', ')} (got "${agentText}")`);
    const split = (values.split ?? 'held-in') as ExportSplit;
    if (!EXPORT_SPLITS.includes(split)) throw new Error(`--split must be one of ${EXPORT_SPLITS.join(', ')} (got "${split}")`);
    const out = requireOption('export', values.out, 'out');
    const file = positionals[0];
    const { trajectories } = parseTrajectoriesJsonl(readFileSync(file, 'utf8'), file);
    const result = exportTrajectories(trajectories, format, {
      arm,
      seed: intOption('export', values.seed, 'seed', 0),
      budget: numberOption('export', values.budget, 'budget', 0.3),
      datasetName: values['dataset-name'],
      fileName: basename(out),
      agentText,
      split,
    });

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
      console.log(`export: warning: ${result.withoutSelectedSteps.length} trajectories have no step selected by arm "${arm}" (e.g. ${result.withoutSelectedSteps.slice(0, 3).join(', ')}); they carry no supervised turn`);
    }
    const said = splitMessage(result.split);
    if (said) console.log(`export: ${said}`);
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
        ...(replaced.length && { replaced }),
      }),
    );
    return 0;
  },
};
