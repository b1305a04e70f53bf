// `atlas train --model <path|preset:NAME> --data <file.jsonl> --steps N [...]`: trains on a
// JSONL of token sequences {"input_ids": […], "labels"?: […], "weights"?: […]} (labels
// default to the inputs shifted by one; weights to 1), prints one JSON line of metrics per
// step and saves the result as a Hugging Face folder.
import { readFile } from 'node:fs/promises';
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

const USAGE = `usage: atlas train --model <path|preset:NAME> --data <file.jsonl> --steps N
  [--lr ${DEFAULT_HYPER.lr}] [--warmup ${DEFAULT_HYPER.warmupSteps}] [--min-lr-ratio ${DEFAULT_HYPER.minLrRatio}] [--weight-decay ${DEFAULT_HYPER.weightDecay}]
  [--grad-clip ${DEFAULT_HYPER.gradClip}] [--batch 4] [--accum 1] [--seq <context>] [--seed 1] [--out atlas-train-out] [--matmul register8x8|register8x16|register16x8|register|register8x4|register4x8|shared]
  JSONL lines: {"input_ids": [...], "labels"?: [...], "weights"?: [...]}; labels default to input_ids shifted by one.
  Sequences longer than --seq are cut into windows of --seq tokens (all positions kept); shorter ones are padded with weight 0.`;

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

export const command: Command = {
  summary: 'train a model on a JSONL of token sequences with per-token weights',
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
    let config: LlamaConfig;
    let tensors: NamedTensors;
    if (modelArg.startsWith('preset:')) {
      config = getPreset(modelArg.slice('preset:'.length)).config;
      tensors = initParams(config, seed);
    } else {
      ({ config, tensors } = await loadModelFromPath(modelArg));
    }
    const B = intOption('train', values.batch, 'batch', 4);
    const accum = intOption('train', values.accum, 'accum', 1);
    const rows = parseTrainingJsonl(await readFile(dataPath, 'utf8'), dataPath, config.vocabSize);
    const longest = Math.max(...rows.map((r) => r.ids.length));
    const T = intOption('train', values.seq, 'seq', Math.min(config.maxSeqLen, longest));
    if (T < 1 || T > config.maxSeqLen) throw new Error(`--seq must be in 1..${config.maxSeqLen} (the model's context)`);
    if (values.matmul !== undefined && !MATMUL_VARIANTS.includes(values.matmul as MatmulVariant)) throw new Error(`--matmul must be one of ${MATMUL_VARIANTS.join(', ')} (got ${values.matmul})`);
    const data = windows(rows, T);
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
      { maxBatch: B, maxSeqLen: T, matmul: values.matmul as MatmulVariant | undefined },
    );
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
    console.error(`saved ${out}/config.json and ${out}/model.safetensors (${data.length} windows of ${T} tokens from ${rows.length} sequences)`);
    trainer.destroy();
    model.destroy();
    return 0;
  },
};
