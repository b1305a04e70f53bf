// A model on disk as an environment policy (Node): an HF folder or a llama2.c .bin with its
// tokenizer, generating on WebGPU with the KV cache, prompted exactly as training renders
// trajectories (src/experiment/model-turns.ts).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGpuContext } from '../engine/device.ts';
import { createModel, initParams } from '../engine/model.ts';
import { Trainer } from '../engine/trainer.ts';
import { perStepLoss } from '../experiment/per-step-loss.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { dirSource } from '../engine/weights/file-source-node.ts';
import { modelFromFiles, presetModel, tokenizerFromFiles, type ModelWithTokenizer } from '../experiment/model-source.ts';
import { tokenizerFileNames } from '../experiment/tokenizer-files.ts';
import { LLAMA2C_HEADER_BYTES, llama2cConfig, readLlama2cHeader } from '../engine/weights/llama2c.ts';
import { PRESETS, getPreset } from '../../models/presets.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import { generatorPolicy } from '../experiment/generator-policy.ts';
import type { Policy } from '../envs/policy.ts';

/** The app's shipped model folders (models/<folder>/) on disk. */
export function bundledModelNode(folder: string) {
  return dirSource(fileURLToPath(new URL(`../../models/${folder}/`, import.meta.url)));
}

/** What `--model` may name, for messages. */
export const MODEL_ARG_FORMS = 'a Hugging Face model folder on disk, a llama2.c .bin with its tokenizer beside it, or preset:NAME';

/** `hf:ORG/NAME` (a Hugging Face hub id) reaching a loader: the `atlas` command line turns it
 *  into the downloaded folder before a command that reads one runs (src/cli/hub-model.ts), so
 *  here it was not (a caller of the command's code, or a command whose --model is not a folder):
 *  refused with what is supported and how to get the folder. */
export function refuseHubModel(arg: string): void {
  if (!arg.startsWith('hf:')) return;
  const id = arg.slice('hf:'.length);
  throw new Error(
    `--model ${arg}: models are read from disk here; hub ids are downloaded by the atlas command line (atlas <command> --model ${arg}, see "atlas help") — ` +
      `or download the folder yourself (e.g. "huggingface-cli download ${id} --local-dir <dir>", or only its tokenizer.json, tokenizer_config.json and config.json when exporting tokens) and pass --model <dir>. ` +
      `Supported: ${MODEL_ARG_FORMS} (presets: ${Object.keys(PRESETS).join(', ')})`,
  );
}

/** `preset:NAME` (the shipped base agent, or random init in a preset's shape), an HF folder,
 *  or a llama2.c `.bin`. */
export async function loadModelFromArg(arg: string, seed = 0): Promise<ModelWithTokenizer> {
  refuseHubModel(arg);
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
 *  highest-loss selector: mean CE of each agent turn given the history, at the model's context
 *  (or `contextLength`, the windows' context). */
export async function modelStepLoss(arg: string, ts: readonly Trajectory[], opts: { batchSize?: number; seed?: number; contextLength?: number } = {}): Promise<(t: Trajectory) => number[]> {
  const { model, tokenizer } = await loadModelFromArg(arg, opts.seed);
  const ctx = await createGpuContext();
  const gpuModel = await createModel(ctx, model.config, model.tensors!);
  const batchSize = opts.batchSize ?? 4;
  const context = opts.contextLength ?? model.config.maxSeqLen;
  const trainer = new Trainer(gpuModel, {}, { maxBatch: batchSize, maxSeqLen: context });
  const byId = await perStepLoss(trainer, ts, tokenizer, context, batchSize);
  trainer.destroy();
  gpuModel.destroy();
  return (t) => {
    const loss = byId[t.id];
    if (!loss) throw new Error(`no per-step loss computed for trajectory "${t.id}"`);
    return loss;
  };
}

/** The tokenizer `--model` renders trajectories with — the one loadModelFromArg (hence
 *  `atlas train`) picks — with the model's context and vocabulary when known, without loading
 *  weights: an HF folder needs only its tokenizer files (+ config.json for the context; its
 *  architecture need not be one the engine runs), a llama2.c .bin only its header. `files`:
 *  the tokenizer's files as named for the user (a preset's relative to the repository). */
export async function modelTokenizerFromArg(arg: string): Promise<{ tokenizer: TextTokenizer; contextLength?: number; vocabSize?: number; files: { path: string; abs: string }[] }> {
  refuseHubModel(arg);
  const here = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
  if (arg.startsWith('preset:')) {
    const preset = getPreset(arg.slice('preset:'.length));
    const { tokenizer } = await presetModel(preset.name, bundledModelNode);
    const folder = preset.weights ?? 'default-tokenizer';
    const names = await tokenizerFileNames(bundledModelNode(folder), preset.config.vocabSize);
    return { tokenizer, contextLength: preset.config.maxSeqLen, vocabSize: preset.config.vocabSize, files: names.map((n) => ({ path: `models/${folder}/${n}`, abs: here(`models/${folder}/${n}`) })) };
  }
  let isDir: boolean;
  try {
    isDir = statSync(arg).isDirectory();
  } catch {
    throw new Error(`model path ${arg} does not exist (expected ${MODEL_ARG_FORMS})`);
  }
  if (isDir) {
    let config: Record<string, unknown> = {};
    const configFile = path.join(arg, 'config.json');
    try {
      config = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${configFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const num = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
    const vocabSize = num('vocab_size');
    const src = dirSource(arg);
    const names = await tokenizerFileNames(src, vocabSize ?? 0);
    return { tokenizer: await tokenizerFromFiles(src, vocabSize ?? 0), contextLength: num('max_position_embeddings'), vocabSize, files: names.map((n) => ({ path: path.join(arg, n), abs: path.resolve(arg, n) })) };
  }
  const head = new Uint8Array(LLAMA2C_HEADER_BYTES);
  const fd = openSync(arg, 'r');
  try {
    readSync(fd, head, 0, LLAMA2C_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  const config = llama2cConfig(readLlama2cHeader(head, arg));
  const dir = path.dirname(arg);
  const names = await tokenizerFileNames(dirSource(dir), config.vocabSize, path.basename(arg));
  return { tokenizer: await tokenizerFromFiles(dirSource(dir), config.vocabSize, path.basename(arg)), contextLength: config.maxSeqLen, vocabSize: config.vocabSize, files: names.map((n) => ({ path: path.join(dir, n), abs: path.resolve(dir, n) })) };
}
