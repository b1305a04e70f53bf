// One trained run's weights as one loadable folder, zipped: config.json + model.safetensors
// (Hugging Face layout, src/engine/weights/hf.ts) + the tokenizer the run trained with, under a
// top-level folder, so that unzipping gives a folder `atlas generate --model <folder>` opens.
// The weights come from the live runner or, after a reload, from the run's stored checkpoint
// (its flat parameters per run, keyed by runKey). Pure: runs in a worker, in Node and in tests.
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { LlamaConfig } from '../engine/config.ts';
import { buildParamLayout, unpackParams, type NamedTensors } from '../engine/params.ts';
import type { Checkpoint } from './checkpoint.ts';

/** A folder's files by name. */
export type FolderFiles = Map<string, Uint8Array | string>;

/** The named tensors of one run (`key`: runKey(arm, trainSeed, firstSeed)) in a checkpoint. */
export function checkpointTensors(config: LlamaConfig, checkpoint: Checkpoint, key: string): NamedTensors {
  const flat = checkpoint.arms[key];
  if (!flat) throw new Error(`the checkpoint at step ${checkpoint.step} holds no run "${key}" (it holds ${Object.keys(checkpoint.arms).join(', ') || 'none'})`);
  const layout = buildParamLayout(config);
  if (flat.length !== layout.totalFloats) throw new Error(`the checkpoint's run "${key}" has ${flat.length} parameters; the model's configuration needs ${layout.totalFloats} — it was saved for another model`);
  return unpackParams(layout, flat);
}

/** A zip of `files` under the top-level folder `folder` (stored, not compressed: weights do
 *  not shrink, and storing keeps it fast). */
export function zipFolder(folder: string, files: FolderFiles): Uint8Array {
  const entries: Zippable = {};
  for (const [name, data] of files) entries[`${folder}/${name}`] = typeof data === 'string' ? strToU8(data) : data;
  return zipSync(entries, { level: 0 });
}

/** The vocabulary size a config.json names (for the tokenizer files that go with it). */
export function configVocabSize(configJson: string): number {
  const v = Number((JSON.parse(configJson) as { vocab_size?: unknown }).vocab_size);
  if (!Number.isInteger(v) || v <= 0) throw new Error('config.json names no vocab_size');
  return v;
}
