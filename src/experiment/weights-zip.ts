// One trained run's weights as one loadable folder, zipped: config.json + model.safetensors
// (Hugging Face layout, src/engine/weights/hf.ts) + the tokenizer the run trained with, under a
// top-level folder, so that unzipping gives a folder `atlas generate --model <folder>` opens —
// or, for a LoRA run, its adapter as a PEFT folder (adapter_config.json +
// adapter_model.safetensors, src/engine/weights/peft.ts). The weights come from the live runner
// or, after a reload, from the run's stored checkpoint (its flat trainable parameters per run,
// keyed by runKey: the model's, or a LoRA run's adapter's). Pure: runs in a worker, in Node and in tests.
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { LlamaConfig } from '../engine/config.ts';
import { loraLayout, type LoraSpec } from '../engine/lora.ts';
import { buildParamLayout, unpackParams, type NamedTensors } from '../engine/params.ts';
import { memoryFolder } from '../engine/weights/file-source.ts';
import { savePeftAdapter } from '../engine/weights/peft.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { ModelSource } from './protocol.ts';

/** A folder's files by name. */
export type FolderFiles = Map<string, Uint8Array | string>;

/** The named tensors of one run (`key`: runKey(arm, trainSeed, firstSeed)) in a checkpoint: the
 *  model's weights, or with `lora` (a LoRA run) its adapter's, by PEFT's names. */
export function checkpointTensors(config: LlamaConfig, checkpoint: Checkpoint, key: string, lora?: LoraSpec): NamedTensors {
  const flat = checkpoint.arms[key];
  if (!flat) throw new Error(`the checkpoint at step ${checkpoint.step} holds no run "${key}" (it holds ${Object.keys(checkpoint.arms).join(', ') || 'none'})`);
  const layout = lora ? loraLayout(config, lora) : buildParamLayout(config);
  const what = lora ? `LoRA adapter (rank ${lora.rank} on ${lora.targets.join(',')})` : "model's configuration";
  if (flat.length !== layout.totalFloats) throw new Error(`the checkpoint's run "${key}" has ${flat.length} parameters; the ${what} needs ${layout.totalFloats} — it was saved for another ${lora ? 'adapter or model' : 'model'}`);
  return unpackParams(layout, flat);
}

/** A LoRA adapter as a PEFT folder's files: adapter_config.json (r, lora_alpha, target_modules, …)
 *  and adapter_model.safetensors (F32, PEFT's tensor names and shapes). */
export async function peftFolderFiles(config: LlamaConfig, spec: LoraSpec, adapter: NamedTensors, baseModel: string): Promise<FolderFiles> {
  const folder = memoryFolder('adapter');
  await savePeftAdapter(folder, config, spec, adapter, baseModel);
  return new Map(folder.files);
}

/** The base model an adapter belongs to, as adapter_config.json's base_model_name_or_path: the
 *  run's model as a link names it (`preset:base`, a URL, a picked folder's name). */
export function baseModelName(m: ModelSource): string {
  if (m.kind === 'preset') return `preset:${m.name}`;
  if (m.kind === 'url') return m.url;
  if (m.kind === 'stored') return m.label;
  return (m as { kind: string }).kind;
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
