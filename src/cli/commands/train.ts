// `atlas train --model <path|preset:NAME> --data <file.jsonl> --steps N [...]`: trains on
// either a JSONL of token sequences {"input_ids": […], "labels"?: […], "weights"?: […]}
// (labels default to the inputs shifted by one; weights to 1) or the project's trajectories
// JSONL (records with "version") with `--arm`, whose loss masks come from src/data/masks.ts.
// Prints one JSON line of metrics per step and saves the result as a Hugging Face folder.
import { copyFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../main.ts';
import { intOption, numberOption, parseCommandArgs, requireOption } from '../args.ts';
import { createGpuContext } from '../../engine/device.ts';
import { createModel, initParams } from '../../engine/model.ts';
import { DEFAULT_HYPER, Trainer, type StepResult } from '../../engine/trainer.ts';
import { IGNORE_LABEL, type TokenBatch } from '../../engine/batch.ts';
import { loadModelFromPath } from '../../engine/weights/load-node.ts';
import { saveHfModel } from '../../engine/weights/hf.ts';
import { dirSink } from '../../engine/weights/file-source-node.ts';
import { getPreset } from '../../../models/presets.ts';
import { Rng } from '../../data/rng.ts';
import type { LlamaConfig } from '../../engine/config.ts';
import type { NamedTensors } from '../../engine/params.ts';
import { MATMUL_VARIANTS, type MatmulVariant } from '../../engine/kernels/matmul.ts';
import { ARMS, DEFAULT_BUDGET, type Arm } from '../../data/arms.ts';
import { buildTrainingExamples, packBatches, type MaskReport, type TrainingExample } from '../../data/masks.ts';
import { parseTrajectoriesJsonl } from '../../data/jsonl.ts';
import { activeSelection, type Trajectory } from '../../data/trajectory.ts';
import type { TextTokenizer } from '../../data/tokenize.ts';
import { loadTokenizer } from '../../data/sources/node.ts';
import { loadModelFromArg } from '../model-policy.ts';
import { perStepLoss } from '../../experiment/step-loss.ts';
import { stepLossFromJsonl } from '../../select/step-loss.ts';

const USAGE = `usage: atlas train --model <path|preset:NAME> --data <file.jsonl> --steps N
  [--lr ${DEFAULT_HYPER.lr}] [--warmup min(${DEFAULT_HYPER.warmupSteps}, steps/10)] [--min-lr-ratio ${DEFAULT_HYPER.minLrRatio}] [--weight-decay ${DEFAULT_HYPER.weightDecay}]
  [--grad-clip ${DEFAULT_HYPER.gradClip}] [--batch 4] [--accum 1] [--seq <context>] [--seed 1] [--out atlas-train-out] [--matmul register8x8|register8x16|register16x8|register|register8x4|register4x8|shared]
  Token sequences: JSONL lines {"input_ids": [...], "labels"?: [...], "weights"?: [...]}; labels default to input_ids shifted by one.
  Sequences longer than --seq are cut into windows of --seq tokens (all positions kept); shorter ones are padded with weight 0.
  Trajectories (JSONL records with "version", e.g. from "atlas import" / "atlas env demo" / "atlas select"):
    --arm ${ARMS.join('|')} (required)   [--budget ${DEFAULT_BUDGET}] [--selection NAME]
    [--tokenizer default|<folder>|<tokenizer.json>|<tok.bin>]   (default: the model's own; preset:NAME uses the bundled default)
    [--step-loss <file.jsonl with {"id","stepLoss":[...]}>]     (highest-loss; default: the initial model's per-step loss)
  Loss masks, windows and the report (stderr) come from src/data/masks.ts. --seq (default: the model's context) is the
  examples' context; without --seq rows are as long as the longest example.`;

/** One training row of exactly T positions. */
interface Row {
  ids: number[];
  labels: number[];
  weights: number[];
}

export function parseTrainingJsonl(text: string, file: string, vocabSize: number): Row[] {
  const rows: Row[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${file}:${i + 1}`;
    let v: { input_ids?: unknown; labels?: unknown; weights?: unknown };
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const ids = numbers(v.input_ids, `${where} input_ids`, true);
    if (ids.length < 1) throw new Error(`${where}: input_ids is empty`);
    const labels = v.labels === undefined ? ids.map((_, t) => (t + 1 < ids.length ? ids[t + 1] : IGNORE_LABEL)) : numbers(v.labels, `${where} labels`, true);
    const weights = v.weights === undefined ? ids.map(() => 1) : numbers(v.weights, `${where} weights`, false);
    if (labels.length !== ids.length) throw new Error(`${where}: labels has ${labels.length} values, input_ids ${ids.length}`);
    if (weights.length !== ids.length) throw new Error(`${where}: weights has ${weights.length} values, input_ids ${ids.length}`);
    ids.forEach((id, t) => {
      if (id < 0 || id >= vocabSize) throw new Error(`${where}: input_ids[${t}] = ${id} is outside the vocabulary [0, ${vocabSize})`);
    });
    ids.forEach((_, t) => {
      const l = labels[t];
      if (l !== IGNORE_LABEL && (l < 0 || l >= vocabSize)) throw new Error(`${where}: labels[${t}] = ${l} is outside the vocabulary`);
      if (!(weights[t] >= 0)) throw new Error(`${where}: weights[${t}] = ${weights[t]} must be ≥ 0`);
    });
    rows.push({ ids, labels, weights });
  });
  if (!rows.length) throw new Error(`${file}: no sequences`);
  return rows;
}

function numbers(v: unknown, where: string, integers: boolean): number[] {
  if (!Array.isArray(v)) throw new Error(`${where} must be an array`);
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || (integers && !Number.isInteger(x))) throw new Error(`${where}[${i}] = ${JSON.stringify(x)} is not ${integers ? 'an integer' : 'a number'}`);
    return x;
  });
}

/** Cuts rows into windows of T (keeping every position) and pads the last with weight 0. */
export function windows(rows: Row[], T: number): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    for (let s = 0; s < r.ids.length; s += T) {
      const w: Row = { ids: r.ids.slice(s, s + T), labels: r.labels.slice(s, s + T), weights: r.weights.slice(s, s + T) };
      while (w.ids.length < T) {
        w.ids.push(0);
        w.labels.push(IGNORE_LABEL);
        w.weights.push(0);
      }
      out.push(w);
    }
  }
  return out;
}

export type DataKind = 'tokens' | 'trajectories' | 'unknown';

/** Which kind of JSONL `text` holds: token sequences carry "input_ids", trajectory records
 *  "version" (and no "input_ids"). A file with both kinds is refused, naming a line of each;
 *  lines with neither (or bad JSON) are left to the parser of the detected kind, which names
 *  file:line. */
export function detectDataKind(text: string, file: string): DataKind {
  let firstTrajectory = 0;
  let firstTokens = 0;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    // "input_ids" decides first, so every token file that trained before still does.
    if ('input_ids' in v) firstTokens ||= i + 1;
    else if ('version' in v) firstTrajectory ||= i + 1;
  });
  if (firstTrajectory && firstTokens) {
    throw new Error(`${file} mixes trajectory records (line ${firstTrajectory} has "version") and token sequences (line ${firstTokens} has "input_ids"); train on one kind per file`);
  }
  return firstTrajectory ? 'trajectories' : firstTokens ? 'tokens' : 'unknown';
}

export function parseArm(value: string | undefined): Arm {
  if (value === undefined) throw new Error(`--arm is required when --data holds trajectories (one of ${ARMS.join(', ')})`);
  if (!ARMS.includes(value as Arm)) throw new Error(`unknown --arm "${value}" (one of ${ARMS.join(', ')})`);
  return value as Arm;
}

/** With --selection NAME only that selector's labelled selection counts (no fallback to
 *  another selector's): the other selections are left out of the copy that is trained on. */
export function withSelection(ts: readonly Trajectory[], name: string | undefined): Trajectory[] {
  if (name === undefined) return [...ts];
  return ts.map((t) => ({ ...t, selections: t.selections.filter((s) => s.selector === name), activeSelection: name }));
}

const firstIds = (ids: readonly string[], n = 3) => ids.slice(0, n).map((id) => JSON.stringify(id)).join(', ') + (ids.length > n ? `, … (${ids.length - n} more)` : '');

/** Human-readable mask report lines (stderr). Every skipped trajectory and dropped turn is counted and named. */
export function describeMaskReport(r: MaskReport, skippedNoSelection: readonly string[], budgetFallback: readonly string[]): string[] {
  const lines = [
    `mask report: ${JSON.stringify({ arm: r.arm, contextLength: r.contextLength, trajectories: r.trajectories, skippedWithoutSelection: skippedNoSelection.length, examples: r.examples, supervisedTurns: r.supervisedTurns, supervisedTokens: r.supervisedTokens, windowed: r.windowed, cutTokens: r.cutTokens, droppedTurns: r.droppedTurns.length, withoutSupervisedSteps: r.withoutSupervisedSteps.length })}`,
  ];
  if (skippedNoSelection.length) lines.push(`skipped ${skippedNoSelection.length} trajectories with no labelled selection for --arm critical: ${firstIds(skippedNoSelection)}`);
  if (budgetFallback.length) lines.push(`note: ${budgetFallback.length} trajectories have no labelled selection; --arm ${r.arm} takes the budget count of steps for them: ${firstIds(budgetFallback)}`);
  if (r.withoutSupervisedSteps.length) lines.push(`no example from ${r.withoutSupervisedSteps.length} trajectories where --arm ${r.arm} selects no step: ${firstIds(r.withoutSupervisedSteps)}`);
  for (const d of r.droppedTurns.slice(0, 3)) lines.push(`dropped turn: "${d.trajectoryId}" step ${d.step}: ${d.reason}`);
  if (r.droppedTurns.length > 3) lines.push(`… ${r.droppedTurns.length - 3} more dropped turns`);
  return lines;
}

/** The tokenizer files to copy into the output folder so it loads back with its tokenizer. */
function tokenizerFilesOf(modelArg: string, tokenizerArg: string | undefined, vocabSize: number): { from: string; to: string }[] {
  const pick = (dir: string, names: string[]) => names.filter((n) => existsSync(path.join(dir, n))).map((n) => ({ from: path.join(dir, n), to: n }));
  const hfPair = (dir: string) => pick(dir, ['tokenizer.json', 'tokenizer_config.json']);
  const bin = (file: string) => [{ from: file, to: path.basename(file) === `tok${vocabSize}.bin` ? path.basename(file) : 'tokenizer.bin' }];
  const spec = tokenizerArg ?? (modelArg.startsWith('preset:') ? 'default' : modelArg);
  if (spec === 'default') return hfPair(fileURLToPath(new URL('../../../models/default-tokenizer/', import.meta.url)));
  if (spec.endsWith('.bin')) {
    if (tokenizerArg) return bin(spec);
    const dir = path.dirname(spec);
    const found = pick(dir, [`tok${vocabSize}.bin`, 'tokenizer.bin'])[0];
    return found ? bin(found.from) : [];
  }
  if (spec.endsWith('.json')) return [{ from: spec, to: 'tokenizer.json' }, ...pick(path.dirname(spec), ['tokenizer_config.json'])];
  const pair = hfPair(spec);
  return pair.length ? pair : pick(spec, [`tok${vocabSize}.bin`, 'tokenizer.bin']);
}

interface PreparedTrajectories {
  file: string;
  arm: Arm;
  /** Trajectories in the file (after --selection). */
  all: Trajectory[];
  /** The ones the arm trains on. */
  used: Trajectory[];
  /** Skipped by the critical arm for want of a labelled selection. */
  skipped: string[];
  /** random / rejected / highest-loss without a selection: the budget count applies. */
  budgetFallback: string[];
}

/** Parses trajectories and decides which the arm uses; refuses a critical arm with nothing labelled. */
export function prepareTrajectories(text: string, file: string, arm: Arm, selection?: string): PreparedTrajectories {
  const parsed = parseTrajectoriesJsonl(text, file).trajectories;
  if (!parsed.length) throw new Error(`${file}: no trajectories`);
  const all = withSelection(parsed, selection);
  const noSelection = all.filter((t) => !activeSelection(t)).map((t) => t.id);
  // The critical arm needs a labelled selection: trajectories without one are skipped (and reported).
  const used = arm === 'critical' ? all.filter((t) => activeSelection(t)) : all;
  if (!used.length) {
    throw new Error(`${file}: none of the ${all.length} trajectories has a labelled selection${selection ? ` named "${selection}"` : ''}, which --arm critical trains on (label them with "atlas select")`);
  }
  return { file, arm, all, used, skipped: arm === 'critical' ? noSelection : [], budgetFallback: arm === 'random' || arm === 'rejected' || arm === 'highest-loss' ? noSelection : [] };
}

/** Masked examples of ≤ T positions (src/data/masks.ts), reported on stderr, each packed as
 *  one padded row of `packLen` positions (default: the longest example's, so short data trains
 *  on short rows). */
export function trajectoryRows(p: PreparedTrajectories, opts: { tokenizer: TextTokenizer; T: number; packLen?: number; seed: number; budget: number; stepLoss?: Record<string, readonly number[]> }): { rows: Row[]; seqLen: number; examples: TrainingExample[]; report: MaskReport } {
  const { examples, report } = buildTrainingExamples(p.used, { arm: p.arm, tokenizer: opts.tokenizer, contextLength: opts.T, seed: opts.seed, budget: opts.budget, stepLoss: opts.stepLoss });
  for (const line of describeMaskReport(report, p.skipped, p.budgetFallback)) console.error(line);
  if (!examples.length) throw new Error(`${p.file}: --arm ${p.arm} gives no training example (see the mask report above)`);
  const seqLen = opts.packLen ?? examples.reduce((m, e) => Math.max(m, e.inputIds.length), 0);
  const rows = packBatches(examples, { batchSize: 1, seqLen, padId: opts.tokenizer.padId }).map((b) => ({ ids: Array.from(b.inputIds), labels: Array.from(b.labels), weights: Array.from(b.weights) }));
  return { rows, seqLen, examples, report };
}

export const command: Command = {
  summary: 'train a model on token sequences with per-token weights, or on trajectories with --arm full|critical|random|rejected|highest-loss',
  async run(argv) {
    const { values } = parseCommandArgs('train', argv, {
      model: { type: 'string' },
      data: { type: 'string' },
      steps: { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      'min-lr-ratio': { type: 'string' },
      'weight-decay': { type: 'string' },
      'grad-clip': { type: 'string' },
      batch: { type: 'string' },
      accum: { type: 'string' },
      seq: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      matmul: { type: 'string' },
      arm: { type: 'string' },
      tokenizer: { type: 'string' },
      budget: { type: 'string' },
      selection: { type: 'string' },
      'step-loss': { type: 'string' },
      help: { type: 'boolean', default: false },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const modelArg = requireOption('train', values.model, 'model');
    const dataPath = requireOption('train', values.data, 'data');
    const steps = intOption('train', requireOption('train', values.steps, 'steps'), 'steps', 0);
    if (steps < 1) throw new Error('--steps must be ≥ 1');
    const seed = intOption('train', values.seed, 'seed', 1);
    const text = await readFile(dataPath, 'utf8');
    const detected = detectDataKind(text, dataPath);
    // No line says which kind (empty, truncated, binary): let the parser the user asked for
    // (--arm → trajectories) name the bad line.
    const kind = detected === 'unknown' ? (values.arm !== undefined ? 'trajectories' : 'tokens') : detected;
    const trajectoryOnly = (['arm', 'tokenizer', 'budget', 'selection', 'step-loss'] as const).filter((k) => values[k] !== undefined);
    if (kind === 'tokens' && trajectoryOnly.length) {
      throw new Error(`--${trajectoryOnly.join(', --')} apply to trajectories JSONL, but ${dataPath} holds token sequences ({"input_ids": …}, no "version")`);
    }
    const arm = kind === 'trajectories' ? parseArm(values.arm) : undefined;
    const budget = numberOption('train', values.budget, 'budget', DEFAULT_BUDGET);
    if (!(budget > 0 && budget <= 1)) throw new Error(`--budget must be in (0, 1] (got ${values.budget})`);
    if (values['step-loss'] !== undefined && arm !== 'highest-loss') throw new Error('--step-loss applies to --arm highest-loss only');
    let config: LlamaConfig;
    let tensors: NamedTensors;
    let tokenizer: TextTokenizer | undefined;
    if (kind === 'tokens' || values.tokenizer !== undefined) {
      if (modelArg.startsWith('preset:')) {
        config = getPreset(modelArg.slice('preset:'.length)).config;
        tensors = initParams(config, seed);
      } else {
        ({ config, tensors } = await loadModelFromPath(modelArg));
      }
      if (values.tokenizer !== undefined) tokenizer = loadTokenizer(values.tokenizer);
    } else {
      // The model's own tokenizer: beside the weights, or the bundled default for a preset.
      let loaded;
      try {
        loaded = await loadModelFromArg(modelArg, seed);
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)} (or name a tokenizer with --tokenizer)`);
      }
      config = loaded.model.config;
      tensors = loaded.model.tensors!;
      tokenizer = loaded.tokenizer;
    }
    if (tokenizer && tokenizer.vocabSize > config.vocabSize) {
      throw new Error(`tokenizer "${tokenizer.name}" has ${tokenizer.vocabSize} tokens but the model ${modelArg} only ${config.vocabSize}: its ids would fall outside the embedding (pick a tokenizer with ≤ ${config.vocabSize} tokens with --tokenizer, or a larger model)`);
    }
    const B = intOption('train', values.batch, 'batch', 4);
    const accum = intOption('train', values.accum, 'accum', 1);
    const tokenRows = kind === 'tokens' ? parseTrainingJsonl(text, dataPath, config.vocabSize) : undefined;
    const longest = tokenRows ? Math.max(...tokenRows.map((r) => r.ids.length)) : config.maxSeqLen;
    // Trajectories: T is the examples' context; rows are as long as the longest example unless --seq is given.
    let T = intOption('train', values.seq, 'seq', Math.min(config.maxSeqLen, longest));
    const packLen = values.seq !== undefined ? T : undefined;
    if (T < 1 || T > config.maxSeqLen) throw new Error(`--seq must be in 1..${config.maxSeqLen} (the model's context)`);
    if (kind === 'trajectories' && T < 2) throw new Error('--seq must be ≥ 2 for trajectories');
    if (values.matmul !== undefined && !MATMUL_VARIANTS.includes(values.matmul as MatmulVariant)) throw new Error(`--matmul must be one of ${MATMUL_VARIANTS.join(', ')} (got ${values.matmul})`);
    const prepared = kind === 'trajectories' ? prepareTrajectories(text, dataPath, arm!, values.selection) : undefined;
    let stepLoss: Record<string, readonly number[]> | undefined;
    if (prepared && values['step-loss'] !== undefined) {
      const fromFile = stepLossFromJsonl(await readFile(values['step-loss'], 'utf8'), values['step-loss']);
      stepLoss = Object.fromEntries(await Promise.all(prepared.used.map(async (t) => [t.id, await fromFile(t)] as const)));
    }
    // Examples are built before the GPU starts unless the highest-loss arm needs the model's own per-step loss.
    const needsModelLoss = arm === 'highest-loss' && !stepLoss;
    let built = prepared && !needsModelLoss ? trajectoryRows(prepared, { tokenizer: tokenizer!, T, packLen, seed, budget, stepLoss }) : undefined;
    const trainerSeqLen = built ? built.seqLen : T;
    const ctx = await createGpuContext();
    const model = await createModel(ctx, config, tensors);
    const trainer = new Trainer(
      model,
      {
        lr: numberOption('train', values.lr, 'lr', DEFAULT_HYPER.lr),
        warmupSteps: intOption('train', values.warmup, 'warmup', Math.min(DEFAULT_HYPER.warmupSteps, Math.floor(steps / 10))),
        totalSteps: steps,
        minLrRatio: numberOption('train', values['min-lr-ratio'], 'min-lr-ratio', DEFAULT_HYPER.minLrRatio),
        weightDecay: numberOption('train', values['weight-decay'], 'weight-decay', DEFAULT_HYPER.weightDecay),
        gradClip: numberOption('train', values['grad-clip'], 'grad-clip', DEFAULT_HYPER.gradClip),
        accumSteps: accum,
      },
      { maxBatch: B, maxSeqLen: trainerSeqLen, matmul: values.matmul as MatmulVariant | undefined },
    );
    if (prepared && needsModelLoss) {
      // highest-loss: the per-step loss of the initial weights, before any update.
      console.error(`computing the initial model's per-step loss on ${prepared.used.length} trajectories (highest-loss arm)…`);
      try {
        stepLoss = await perStepLoss(trainer, prepared.used, tokenizer!, T, B);
        built = trajectoryRows(prepared, { tokenizer: tokenizer!, T, packLen, seed, budget, stepLoss });
      } catch (err) {
        trainer.destroy();
        model.destroy();
        throw err;
      }
    }
    const data: Row[] = built ? built.rows : windows(tokenRows!, T);
    const context = T;
    if (built) T = built.seqLen;
    // Epochs over the windows in a seeded shuffled order.
    const rng = new Rng(seed);
    let order: number[] = [];
    const nextRow = (): Row => {
      if (!order.length) order = rng.shuffle(data.map((_, i) => i));
      return data[order.pop()!];
    };
    const microBatch = (): TokenBatch => {
      const picked = Array.from({ length: B }, nextRow);
      return {
        inputIds: Int32Array.from(picked.flatMap((r) => r.ids)),
        labels: Int32Array.from(picked.flatMap((r) => r.labels)),
        weights: Float32Array.from(picked.flatMap((r) => r.weights)),
        batch: B,
        seqLen: T,
      };
    };
    const t0 = performance.now();
    const inFlight: Array<Promise<StepResult>> = [];
    const report = (r: StepResult) =>
      console.log(JSON.stringify({ step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, weightSum: r.weightSum, tokens: r.step * accum * B * T, seconds: (performance.now() - t0) / 1000 }));
    for (let s = 0; s < steps; s++) {
      inFlight.push(trainer.step(Array.from({ length: accum }, microBatch)));
      if (inFlight.length >= 2) report(await inFlight.shift()!);
    }
    for (const p of inFlight) report(await p);
    const out = values.out ?? 'atlas-train-out';
    await saveHfModel(dirSink(out), config, await model.readParams());
    if (prepared) {
      const copied = tokenizerFilesOf(modelArg, values.tokenizer, config.vocabSize);
      for (const f of copied) await copyFile(f.from, path.join(out, f.to));
      console.error(`saved ${out}/config.json and ${out}/model.safetensors${copied.map((f) => ` + ${f.to}`).join('')} (${data.length} examples of ≤ ${context} positions, in rows of ${T}, from ${prepared.used.length} trajectories, --arm ${prepared.arm})`);
    } else {
      console.error(`saved ${out}/config.json and ${out}/model.safetensors (${data.length} windows of ${T} tokens from ${tokenRows!.length} sequences)`);
    }
    trainer.destroy();
    model.destroy();
    return 0;
  },
};
