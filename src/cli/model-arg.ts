// A model on disk as an environment policy (Node): an HF folder or a llama2.c .bin with its
// tokenizer, generating on WebGPU with the KV cache, prompted exactly as training renders
// trajectories (src/experiment/model-turns.ts).
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGpuContext } from '../engine/device.ts';
import { createModel, initParams } from '../engine/model.ts';
import { Trainer } from '../engine/trainer.ts';
import { perStepLoss } from '../experiment/per-step-loss.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { dirSource } from '../engine/weights/file-source-node.ts';
import { modelFromFiles, presetModel, type ModelWithTokenizer } from '../experiment/model-source.ts';
import { generatorPolicy } from '../experiment/generator-policy.ts';
import type { Policy } from '../envs/policy.ts';

/** The app's shipped model folders (models/<folder>/) on disk. */
export function bundledModelNode(folder: string) {
  return dirSource(fileURLToPath(new URL(`../../models/${folder}/`, import.meta.url)));
}

/** `preset:NAME` (the shipped base agent, or random init in a preset's shape), an HF folder,
 *  or a llama2.c `.bin`. */
export async function loadModelFromArg(arg: string, seed = 0): Promise<ModelWithTokenizer> {
  if (arg.startsWith('preset:')) {
    const m = await presetModel(arg.slice('preset:'.length), bundledModelNode);
    return { ...m, model: { ...m.model, tensors: m.model.tensors ?? initParams(m.model.config, seed) } };
  }
  let isDir: boolean;
  try {
    isDir = statSync(arg).isDirectory();
  } catch {
    throw new Error(`model path ${arg} does not exist`);
  }
  return isDir ? modelFromFiles(dirSource(arg)) : modelFromFiles(dirSource(path.dirname(arg)), path.basename(arg));
}

export async function loadModelPolicy(arg: string, opts: { batchSize?: number; maxTurnTokens?: number; seed?: number } = {}): Promise<Policy> {
  const { model, tokenizer } = await loadModelFromArg(arg, opts.seed);
  const ctx = await createGpuContext();
  return (await generatorPolicy(ctx, model, tokenizer, { ...opts, name: arg })).policy;
}

/** Per-step loss of a base model (`preset:NAME`, HF folder or .bin) on trajectories, for the
 *  highest-loss selector: mean CE of each agent turn given the history, at the model's context. */
export async function modelStepLoss(arg: string, ts: readonly Trajectory[], opts: { batchSize?: number; seed?: number } = {}): Promise<(t: Trajectory) => number[]> {
  const { model, tokenizer } = await loadModelFromArg(arg, opts.seed);
  const ctx = await createGpuContext();
  const gpuModel = await createModel(ctx, model.config, model.tensors!);
  const batchSize = opts.batchSize ?? 4;
  const trainer = new Trainer(gpuModel, {}, { maxBatch: batchSize, maxSeqLen: model.config.maxSeqLen });
  const byId = await perStepLoss(trainer, ts, tokenizer, model.config.maxSeqLen, batchSize);
  trainer.destroy();
  gpuModel.destroy();
  return (t) => {
    const loss = byId[t.id];
    if (!loss) throw new Error(`no per-step loss computed for trajectory "${t.id}"`);
    return loss;
  };
}
