// Recipes that run (src/data/recipes): `atlas export --format axolotl|llamafactory|torchtune|trl`
// writes a complete trainer config beside the data. Every written config is parsed with a real
// YAML parser (the `yaml` package, YAML 1.2 and 1.1; PyYAML too where python3 has it), every
// Python file is parsed by python3 where present, and the keys that carry the ATLaS mask are
// checked against the data file and the selection: Axolotl's message_field_training /
// roles_to_train and the per-message flag, LLaMA-Factory's mask_history with one sample per
// selected step, torchtune's builder and the per-message `masked`, TRL's unprepared dataset of
// labels as given.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sampleTrajectory } from './helpers.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';
import { command as exportCmd } from '../../../src/cli/commands/export.ts';
import { toYaml, yamlNumber, type YamlMap } from '../../../src/data/recipes/yaml.ts';
import { exportRecipe, recipeSettings, RECIPE_DEFAULTS } from '../../../src/data/recipes/index.ts';
import { TORCHTUNE_MODELS } from '../../../src/data/recipes/torchtune.ts';

const root = mkdtempSync(path.join(tmpdir(), 'atlas-recipes-'));
afterEach(() => vi.restoreAllMocks());

function python(code: string, input?: string): string | undefined {
  try {
    return execFileSync('python3', ['-c', code], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}
const hasPython = python('print(1)') !== undefined;
const hasPyYaml = python('import yaml; print(1)') !== undefined;

/** The file's YAML as PyYAML (YAML 1.1, what the trainers load configs with) reads it. */
const pyYaml = (text: string) => JSON.parse(python('import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))', text)!);
/** Throws with python's message when the file is not valid Python. */
function pySyntax(file: string) {
  execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])', file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function run(args: string[]) {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});
  const code = await exportCmd.run(args);
  const lines = log.mock.calls.map((c) => String(c[0]));
  vi.restoreAllMocks();
  return { code, lines, last: JSON.parse(lines[lines.length - 1]) };
}

/** Parse every side file an export wrote (YAML, JSON, Python), failing on any that does not parse. */
function parseAll(sideFiles: string[]): Record<string, unknown> {
  const parsed: Record<string, unknown> = {};
  for (const f of sideFiles) {
    const text = readFileSync(f, 'utf8');
    const name = path.basename(f);
    if (f.endsWith('.yaml')) {
      parsed[name] = parseYaml(text);
      expect(parseYaml(text, { version: '1.1' }), name).toEqual(parsed[name]);
      if (hasPyYaml) expect(pyYaml(text), `${name} (PyYAML)`).toEqual(parsed[name]);
    } else if (f.endsWith('.json')) parsed[name] = JSON.parse(text);
    else if (f.endsWith('.py')) {
      parsed[name] = text;
      if (hasPython) pySyntax(f);
    } else throw new Error(`unexpected side file ${f}`);
  }
  return parsed;
}

// t1: system text, steps 1 and 3 selected; t2: AgentGym-style preamble, step 0 selected;
// t3: no selection (the critical arm selects nothing).
const trajectories: Trajectory[] = [
  sampleTrajectory('t1', 4, { system: 'You are a household agent.', critical: [1, 3] }),
  sampleTrajectory('t2', 3, { preamble: true, critical: [0] }),
  sampleTrajectory('t3', 2),
];
const selected: Record<string, number[]> = { t1: [1, 3], t2: [0] };

function folder(name: string) {
  const dir = path.join(root, name);
  mkdirSync(dir);
  const src = path.join(dir, 'src.jsonl');
  writeFileSync(src, trajectoriesToJsonl(trajectories));
  return { dir, src, out: path.join(dir, 'crit.jsonl') };
}
const jsonl = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('the YAML writer', () => {
  const tricky: YamlMap = {
    words: ['yes', 'No', 'on', 'OFF', 'null', 'Null', '~', 'true', 'y', 'n', '', ' lead', 'trail ', 'a: b', 'a #b', '#x', '- x', '? x', '[x]', '{x}', '*x', '&x', '!x', '%x', '@x', '`x', '|', '>', "'q'", '"q"'],
    numbers_as_text: ['1', '1.5', '0x1F', '1e-5', '.5', '.inf', '.NaN', '-.inf', '1_000', '0o17', '12:30', '2026-01-01', '+1', '-1'],
    paths: ['Qwen/Qwen2.5-7B-Instruct', './models/x', '../x', '/abs/p', 'model-00001-of-00004.safetensors', '${output_dir}/logs', 'C:\\x'],
    text: 'line one\nline two\ttab "quoted" \\ back ✓ é',
    numbers: [0, -3, 180000000, 1.5, 0.00001, 2e-5, 1e-7, 3.25e-12, 2.5e30, 1e21, -0],
    flags: [true, false, null],
    empty: { list: [], map: {} },
    nested: [{ a: 1, b: [{ c: 'd' }, [1, 2]] }, [['x']], { 'key with space': 'v', 'yes': 'key' }],
  };

  it('writes values every parser reads back unchanged: YAML 1.2, YAML 1.1 and PyYAML', () => {
    const text = toYaml(tricky, { header: ['a header', '', 'two'], comments: { words: 'a comment', 'empty.map': ['nested', 'comment'] } });
    const expected = JSON.parse(JSON.stringify(tricky));
    expect(parseYaml(text)).toEqual(expected);
    expect(parseYaml(text, { version: '1.1' })).toEqual(expected);
    if (hasPyYaml) expect(pyYaml(text)).toEqual(expected);
    expect(text.startsWith('# a header\n#\n# two\n')).toBe(true);
    expect(text).toContain('  # nested\n  # comment\n  map: {}\n');
  });

  it('quotes what a YAML 1.1 reader would take for something else, and writes numbers 1.1 reads as numbers', () => {
    expect(toYaml({ a: 'yes', b: 'off', c: 'plain/path-1.0' })).toBe('a: "yes"\nb: "off"\nc: plain/path-1.0\n');
    expect([1e-7, 2.5e30, 1e21, 0.5, 3].map(yamlNumber)).toEqual(['1.0e-7', '2.5e+30', '1.0e+21', '0.5', '3']);
    expect(() => yamlNumber(NaN)).toThrow(/cannot write NaN/);
    expect(() => toYaml({ x: Infinity })).toThrow(/cannot write Infinity/);
  }, 60_000);
});

describe('atlas export --format axolotl', () => {
  it('writes a config whose chat_template dataset trains exactly the messages flagged in the data', async () => {
    const { src, out } = folder('axolotl');
    const { last } = await run([src, '--format', 'axolotl', '--out', out, '--model', 'hf:Qwen/Qwen2.5-3B-Instruct', '--seq-len', '2048', '--gpus', '4']);
    const files = parseAll(last.sideFiles);
    expect(Object.keys(files).sort()).toEqual(['atlas_zero3.json', 'crit.axolotl.yaml']);
    const cfg = files['crit.axolotl.yaml'] as Record<string, any>;
    expect(cfg.base_model).toBe('Qwen/Qwen2.5-3B-Instruct');
    expect(cfg.sequence_len).toBe(2048);
    expect(cfg.datasets).toEqual([{ path: 'crit.jsonl', ds_type: 'json', type: 'chat_template', field_messages: 'messages', roles_to_train: [], train_on_eos: 'turn', message_field_training: 'train' }]);
    // The data carries the flag the config names, on every message, true on exactly the selected agent turns.
    const { field_messages: messagesKey, message_field_training: flag } = cfg.datasets[0];
    for (const r of jsonl(out)) {
      const msgs: Record<string, unknown>[] = r[messagesKey];
      expect(msgs.every((m) => typeof m[flag] === 'boolean'), r.id).toBe(true);
      const steps = msgs.filter((m) => m.role === 'assistant' && !(r.id === 't2' && m.content === 'OK'));
      expect(steps.flatMap((m, i) => (m[flag] ? [i] : [])), r.id).toEqual(selected[r.id] ?? []);
      expect(msgs.filter((m) => m[flag]).every((m) => m.role === 'assistant')).toBe(true);
    }
    // Full fine-tuning by default, sharded by the ZeRO-3 file beside it.
    expect(cfg.adapter).toBeUndefined();
    expect(cfg.deepspeed).toBe('atlas_zero3.json');
    expect((files['atlas_zero3.json'] as any).zero_optimization.stage).toBe(3);
    expect(last.run).toEqual(['axolotl train crit.axolotl.yaml --launcher torchrun -- --nproc_per_node=4']);

    const lora = await run([src, '--format', 'axolotl', '--out', out, '--lora', '16']);
    const loraCfg = parseAll(lora.last.sideFiles)['crit.axolotl.yaml'] as Record<string, any>;
    expect(loraCfg).toMatchObject({ adapter: 'lora', lora_r: 16, lora_alpha: 32, lora_target_linear: true, base_model: RECIPE_DEFAULTS.model, sequence_len: RECIPE_DEFAULTS.seqLen });
    expect(loraCfg.deepspeed).toBeUndefined();
    expect(readFileSync(path.join(path.dirname(out), 'crit.axolotl.yaml'), 'utf8')).toMatch(/PLACEHOLDER/);
    expect(lora.last.run).toEqual([`axolotl train crit.axolotl.yaml --launcher torchrun -- --nproc_per_node=${RECIPE_DEFAULTS.gpus}`]);
  }, 60_000);
});

describe('atlas export --format llamafactory', () => {
  it('writes a config with mask_history over one sample per selected step, and still merges dataset_info.json', async () => {
    const { dir, src, out } = folder('llamafactory');
    const registry = path.join(dir, 'dataset_info.json');
    writeFileSync(registry, JSON.stringify({ alpaca_en: { file_name: 'alpaca_en.json' } }));
    const { last } = await run([src, '--format', 'llamafactory', '--out', out, '--dataset-name', 'alf_crit', '--model', 'meta-llama/Llama-3.1-8B-Instruct', '--seq-len', '8192', '--gpus', '2', '--lora', '8']);
    const files = parseAll(last.sideFiles);
    expect(Object.keys(files).sort()).toEqual(['crit.train.yaml', 'dataset_info.json']);
    const cfg = files['crit.train.yaml'] as Record<string, any>;
    expect(cfg).toMatchObject({ model_name_or_path: 'meta-llama/Llama-3.1-8B-Instruct', stage: 'sft', do_train: true, dataset_dir: '.', dataset: 'alf_crit', cutoff_len: 8192, mask_history: true, train_on_prompt: false });
    expect(cfg).toMatchObject({ finetuning_type: 'lora', lora_rank: 8, lora_alpha: 16, lora_target: 'all' });
    expect(cfg.template).toBeUndefined(); // parsed from the model's own chat template
    // The registry the config names (dataset_dir + dataset) holds the data file, beside the entries already there.
    const info = files['dataset_info.json'] as Record<string, any>;
    expect(Object.keys(info)).toEqual(['alpaca_en', 'alf_crit']);
    expect(info[cfg.dataset]).toMatchObject({ file_name: 'crit.jsonl', formatting: 'sharegpt', columns: { messages: 'conversations' } });
    // mask_history trains the last turn of each sample: one sample per selected step, ending at its agent turn.
    const samples = jsonl(out);
    expect(samples.map((s) => s.id)).toEqual(['t1#step1', 't1#step3', 't2#step0']);
    for (const s of samples) {
      const turns = s.conversations;
      expect(turns[turns.length - 1].from, s.id).toBe('gpt');
      expect(turns[turns.length - 1].value, s.id).toMatch(new RegExp(`go to shelf ${s.id.split('#step')[1]}$`));
    }
    expect(last.run).toEqual(['CUDA_VISIBLE_DEVICES=0,1 FORCE_TORCHRUN=1 llamafactory-cli train crit.train.yaml']);

    // Full fine-tuning (no --lora) with the placeholder model: DeepSpeed ZeRO-3 and the placeholder's template.
    const full = await run([src, '--format', 'llamafactory', '--out', out, '--dataset-name', 'alf_crit']);
    const fullCfg = parseAll(full.last.sideFiles)['crit.train.yaml'] as Record<string, any>;
    expect(fullCfg).toMatchObject({ finetuning_type: 'full', deepspeed: 'atlas_zero3.json', template: 'qwen', mask_history: true, model_name_or_path: RECIPE_DEFAULTS.model });
    expect(fullCfg.lora_rank).toBeUndefined();
    expect(full.last.replaced).toEqual([path.join(dir, 'crit.train.yaml')]); // the LoRA config it replaced, with a warning
    // The same export again changes nothing.
    expect((await run([src, '--format', 'llamafactory', '--out', out, '--dataset-name', 'alf_crit'])).last.replaced).toBeUndefined();
  }, 60_000);
});

describe('atlas export --format torchtune', () => {
  it('writes messages with their own masked flags, the builder that reads them, and a distributed config', async () => {
    const { dir, src, out } = folder('torchtune');
    const { last } = await run([src, '--format', 'torchtune', '--out', out, '--model', 'Qwen/Qwen2.5-3B-Instruct', '--seq-len', '2048', '--gpus', '4']);
    expect(last).toMatchObject({ format: 'torchtune', trajectories: 3, records: 2, withoutSelectedSteps: 1 });
    const files = parseAll(last.sideFiles);
    expect(Object.keys(files).sort()).toEqual(['atlas_torchtune.py', 'crit.torchtune.yaml']);
    const cfg = files['crit.torchtune.yaml'] as Record<string, any>;
    // The dataset is the builder beside the config, reading the exported file.
    expect(cfg.dataset).toEqual({ _component_: 'atlas_torchtune.atlas_messages', data_files: 'crit.jsonl', packed: false });
    const builder = files['atlas_torchtune.py'] as string;
    expect(builder).toMatch(/^def atlas_messages\(tokenizer, data_files: str, packed: bool = False/m);
    expect(builder).toContain('masked=m["masked"]');
    expect(builder).toContain('message_transform=AtlasMessages()');
    // Every message has a boolean masked flag, false on exactly the selected agent turns; a
    // trajectory without a selected step gives no record; the messages form a conversation
    // torchtune accepts (system first, a user turn before each assistant turn, no two users in a row).
    const records = jsonl(out);
    expect(records.map((r) => r.id)).toEqual(['t1', 't2']);
    for (const r of records) {
      const msgs: { role: string; content: string; masked: unknown }[] = r.messages;
      expect(msgs.every((m) => typeof m.masked === 'boolean')).toBe(true);
      const steps = msgs.filter((m) => m.role === 'assistant' && !(r.id === 't2' && m.content === 'OK'));
      expect(steps.flatMap((m, i) => (m.masked ? [] : [i])), r.id).toEqual(selected[r.id]);
      expect(msgs.filter((m) => !m.masked).every((m) => m.role === 'assistant')).toBe(true);
      let last = 'assistant';
      msgs.forEach((m, i) => {
        if (m.role === 'system') expect(i).toBe(0);
        if (m.role === 'assistant') expect(last, `${r.id} message ${i}`).toBe('user');
        if (m.role === 'user') expect(last, `${r.id} message ${i}`).not.toBe('user');
        last = m.role;
      });
    }
    // The model's own torchtune builders, checkpoint files and tokenizer, at --seq-len.
    expect(cfg.model).toEqual({ _component_: 'torchtune.models.qwen2_5.qwen2_5_3b' });
    expect(cfg.tokenizer).toEqual({ _component_: 'torchtune.models.qwen2_5.qwen2_5_tokenizer', path: 'models/Qwen2.5-3B-Instruct/vocab.json', merges_file: 'models/Qwen2.5-3B-Instruct/merges.txt', max_seq_len: 2048 });
    expect(cfg.checkpointer).toMatchObject({ _component_: 'torchtune.training.FullModelHFCheckpointer', checkpoint_dir: 'models/Qwen2.5-3B-Instruct', checkpoint_files: ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'], model_type: 'QWEN2' });
    expect(last.run).toEqual([
      'tune download Qwen/Qwen2.5-3B-Instruct --output-dir models/Qwen2.5-3B-Instruct',
      'PYTHONPATH=$PWD tune run --nproc_per_node 4 full_finetune_distributed --config crit.torchtune.yaml',
    ]);

    // LoRA, from a local folder of a known checkpoint: the LoRA builder and recipe, no download.
    const lora = await run([src, '--format', 'torchtune', '--out', out, '--model', '/data/Llama-3.2-1B-Instruct/', '--lora', '32']);
    const loraCfg = parseAll(lora.last.sideFiles)['crit.torchtune.yaml'] as Record<string, any>;
    expect(loraCfg.model).toMatchObject({ _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b', lora_rank: 32, lora_alpha: 64 });
    expect(loraCfg.tokenizer.path).toBe('/data/Llama-3.2-1B-Instruct/original/tokenizer.model');
    expect(loraCfg.checkpointer).toMatchObject({ checkpoint_dir: '/data/Llama-3.2-1B-Instruct', checkpoint_files: ['model.safetensors'], model_type: 'LLAMA3_2' });
    expect(lora.last.run).toEqual([`PYTHONPATH=$PWD tune run --nproc_per_node ${RECIPE_DEFAULTS.gpus} lora_finetune_distributed --config crit.torchtune.yaml`]);
    // torchtune builds models from its own builders: an unknown checkpoint is refused, naming the known ones.
    await expect(run([src, '--format', 'torchtune', '--out', path.join(dir, 'other.jsonl'), '--model', 'mistralai/Mistral-7B-Instruct-v0.3'])).rejects.toThrow(/this recipe knows Qwen\/Qwen2\.5-0\.5B-Instruct, .*got --model mistralai\/Mistral-7B-Instruct-v0\.3/);
    expect(Object.keys(TORCHTUNE_MODELS)).toContain(RECIPE_DEFAULTS.model);
  }, 60_000);
});

describe('atlas export --format trl', () => {
  it('writes the tokenized lines and a TRL config and script that train on their labels as given', async () => {
    const { src, out } = folder('trl');
    const { last } = await run([src, '--format', 'trl', '--out', out, '--model', 'models/base', '--seq-len', '128', '--gpus', '2']);
    expect(last).toMatchObject({ format: 'trl', seqLen: 128 });
    const files = parseAll(last.sideFiles);
    expect(Object.keys(files).sort()).toEqual(['atlas_trl.py', 'atlas_zero3.json', 'crit.meta.json', 'crit.trl.yaml']);
    const cfg = files['crit.trl.yaml'] as Record<string, any>;
    expect(cfg.model_name_or_path).toBe('models/base');
    expect(cfg.train_file).toBe('crit.jsonl');
    // The labels carry the mask: the dataset is used as prepared by atlas, not prepared again.
    expect(cfg.sft_config).toMatchObject({ max_length: 128, dataset_kwargs: { skip_prepare_dataset: true }, remove_unused_columns: false, packing: false, deepspeed: 'atlas_zero3.json' });
    expect(cfg.lora).toBeNull();
    const lines = jsonl(path.join(path.dirname(out), cfg.train_file));
    expect(lines.length).toBe(last.records);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['attention_mask', 'input_ids', 'labels']);
      expect(l.input_ids.length).toBeLessThanOrEqual(cfg.sft_config.max_length);
      expect(l.labels.some((x: number) => x !== -100)).toBe(true);
    }
    expect((files['crit.meta.json'] as any).data).toBe(cfg.train_file);
    // The script keeps the file's labels: only its collator pads them (with -100), handed to SFTTrainer.
    const script = files['atlas_trl.py'] as string;
    expect(script).toContain('"labels": column("labels", -100)');
    expect(script).toContain('data_collator=pad_rows(pad_id)');
    expect(script).toContain('SFTConfig(**cfg["sft_config"])');
    expect(script).toContain('load_dataset("json", data_files=cfg["train_file"]');
    expect(last.run).toEqual(['accelerate launch --multi_gpu --num_processes 2 atlas_trl.py crit.trl.yaml']);

    const lora = await run([src, '--format', 'trl', '--out', out, '--model', 'models/base', '--lora', '8', '--gpus', '1']);
    const loraCfg = parseAll(lora.last.sideFiles)['crit.trl.yaml'] as Record<string, any>;
    expect(loraCfg.lora).toEqual({ r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: 'all-linear', task_type: 'CAUSAL_LM' });
    expect(loraCfg.sft_config.deepspeed).toBeUndefined();
    expect(loraCfg.sft_config.max_length).toBe(lora.last.seqLen); // the model's context when --seq-len is not given
    expect(lora.last.run).toEqual(['accelerate launch --num_processes 1 atlas_trl.py crit.trl.yaml']);
  }, 60_000);
});

describe('recipe options', () => {
  it('refuse what a trainer cannot load and options for formats without a recipe', async () => {
    const { src, out } = folder('options');
    await expect(run([src, '--format', 'openai', '--out', out, '--lora', '8'])).rejects.toThrow(/--lora applies to the formats with a trainer recipe only \(axolotl, llamafactory, torchtune, trl\)/);
    await expect(run([src, '--format', 'openai', '--out', out, '--model', 'Qwen/Qwen2.5-7B-Instruct'])).rejects.toThrow(/--model apply to --format tokenized only/);
    await expect(run([src, '--format', 'axolotl', '--out', out, '--gpus', '0'])).rejects.toThrow(/--gpus must be an integer ≥ 1 \(got "0"\)/);
    await expect(run([src, '--format', 'axolotl', '--out', out, '--lora', '1.5'])).rejects.toThrow(/--lora must be an integer/);
    await expect(run([src, '--format', 'llamafactory', '--out', out, '--model', 'preset:base'])).rejects.toThrow(/the trainer loads a Hugging Face model/);
    await expect(run([src, '--format', 'trl', '--out', out, '--model', 'preset:base'])).rejects.toThrow(/the trainer loads a Hugging Face model/);
    expect(recipeSettings('labels', {})).toBeUndefined();
    expect(exportRecipe('openai', recipeSettings('axolotl', {}), { dataFile: 'x.jsonl' })).toBeUndefined();
  }, 60_000);
});
