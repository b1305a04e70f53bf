// Hugging Face Llama folders: config.json + model.safetensors (or shards listed in
// model.safetensors.index.json). Loading checks every tensor's name and shape against
// the config; saving writes F32 tensors in parameter-layout order so the folder loads
// back bit-identically.
//
// Decisions (see docs/weights-and-generation.md):
// - A tied model (tie_word_embeddings) has no lm_head.weight. Some exporters still write
//   one; it is accepted and dropped only if it equals the embedding bit for bit, otherwise
//   it is an error (the file contradicts its config).
// - `*.rotary_emb.inv_freq` buffers (older transformers exports) are derived from the
//   config and dropped. Any other unknown tensor is an error.
import { configFromHf, configToHf, type LlamaConfig } from '../config.ts';
import { paramShapes, type NamedTensors } from '../params.ts';
import type { FileSink, FileSource } from './file-source.ts';
import { parseSafetensors, writeSafetensors, type SafetensorsFile, type TensorToWrite } from './safetensors.ts';

export interface LoadedModel {
  config: LlamaConfig;
  tensors: NamedTensors;
}

const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';

async function readJson(src: FileSource, name: string): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await src.read(name));
  try {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${src.label}/${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads every tensor of a folder's safetensors file(s), keyed by name, with shapes. */
async function readAllTensors(src: FileSource): Promise<Map<string, { shape: number[]; data: Float32Array; file: string }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array; file: string }>();
  const take = (file: SafetensorsFile, fileName: string, only?: Set<string>) => {
    for (const e of file.entries) {
      if (only && !only.has(e.name)) throw new Error(`${src.label}/${fileName}: tensor "${e.name}" is not listed for this shard in ${INDEX_FILE}`);
      if (out.has(e.name)) throw new Error(`${src.label}: tensor "${e.name}" appears in both ${out.get(e.name)!.file} and ${fileName}`);
      out.set(e.name, { shape: e.shape, data: file.read(e.name), file: fileName });
    }
  };
  if (await src.exists(INDEX_FILE)) {
    const index = await readJson(src, INDEX_FILE);
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null) throw new Error(`${src.label}/${INDEX_FILE}: missing "weight_map" object`);
    const byShard = new Map<string, Set<string>>();
    for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
        throw new Error(`${src.label}/${INDEX_FILE}: weight_map["${name}"] must be a file name in the folder (got ${JSON.stringify(shard)})`);
      }
      if (!byShard.has(shard)) byShard.set(shard, new Set());
      byShard.get(shard)!.add(name);
    }
    for (const [shard, names] of byShard) {
      if (!(await src.exists(shard))) throw new Error(`${src.label}: shard ${shard} named in ${INDEX_FILE} does not exist`);
      take(parseSafetensors(await src.read(shard), `${src.label}/${shard}`), shard, names);
    }
    for (const [name, shard] of Object.entries(map as Record<string, string>)) {
      if (!out.has(name)) throw new Error(`${src.label}: ${INDEX_FILE} puts "${name}" in ${shard}, but that shard does not contain it`);
    }
    return out;
  }
  if (!(await src.exists(SINGLE_FILE))) throw new Error(`${src.label}: neither ${SINGLE_FILE} nor ${INDEX_FILE} found`);
  take(parseSafetensors(await src.read(SINGLE_FILE), `${src.label}/${SINGLE_FILE}`), SINGLE_FILE);
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Checks loaded tensors against the config; returns exactly the layout's tensors. */
export function checkTensorsForConfig(config: LlamaConfig, found: Map<string, { shape: number[]; data: Float32Array }>, label: string): NamedTensors {
  const tensors: NamedTensors = new Map();
  const missing: string[] = [];
  for (const { name, shape } of paramShapes(config)) {
    const t = found.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${label}: tensor ${name} has shape [${t.shape.join(', ')}]; config.json implies [${shape.join(', ')}]`);
    }
    tensors.set(name, t.data);
  }
  if (missing.length) {
    throw new Error(`${label}: missing tensors ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ` and ${missing.length - 6} more` : ''}`);
  }
  const unexpected: string[] = [];
  for (const [name, t] of found) {
    if (tensors.has(name) || /\.rotary_emb\.inv_freq$/.test(name)) continue;
    if (name === 'lm_head.weight' && config.tiedEmbeddings) {
      if (sameBits(t.data, tensors.get('model.embed_tokens.weight')!)) continue;
      throw new Error(`${label}: config.json ties the embeddings (tie_word_embeddings) but lm_head.weight differs from model.embed_tokens.weight`);
    }
    unexpected.push(name);
  }
  if (unexpected.length) {
    throw new Error(`${label}: unexpected tensors for this config: ${unexpected.slice(0, 6).join(', ')}${unexpected.length > 6 ? ` and ${unexpected.length - 6} more` : ''}`);
  }
  return tensors;
}

/** Loads a Hugging Face Llama folder into f32 tensors (HF names and layouts). */
export async function loadHfModel(src: FileSource): Promise<LoadedModel> {
  if (!(await src.exists('config.json'))) throw new Error(`${src.label}: no config.json (not a Hugging Face model folder?)`);
  let config: LlamaConfig;
  try {
    config = configFromHf(await readJson(src, 'config.json'));
  } catch (err) {
    throw new Error(`${src.label}/config.json: ${err instanceof Error ? err.message : String(err)}`);
  }
  const found = await readAllTensors(src);
  return { config, tensors: checkTensorsForConfig(config, found, src.label) };
}

/** Serialises a model as config.json + model.safetensors (F32) bytes. */
export function hfFolderFiles(config: LlamaConfig, tensors: NamedTensors): Map<string, Uint8Array | string> {
  const ordered = new Map<string, TensorToWrite>();
  for (const { name, shape } of paramShapes(config)) {
    const data = tensors.get(name);
    if (!data) throw new Error(`saveHfModel: missing tensor ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`saveHfModel: tensor ${name} has ${data.length} values; the config implies [${shape.join(', ')}] = ${size}`);
    ordered.set(name, { shape, data });
  }
  const extra = [...tensors.keys()].filter((k) => !ordered.has(k));
  if (extra.length) throw new Error(`saveHfModel: tensors not in this config's layout: ${extra.slice(0, 6).join(', ')}`);
  return new Map<string, Uint8Array | string>([
    ['config.json', JSON.stringify(configToHf(config), null, 2) + '\n'],
    [SINGLE_FILE, writeSafetensors(ordered, { format: 'pt' })],
  ]);
}

/** Writes config.json + model.safetensors into a sink. */
export async function saveHfModel(sink: FileSink, config: LlamaConfig, tensors: NamedTensors): Promise<void> {
  for (const [name, data] of hfFolderFiles(config, tensors)) await sink.write(name, data);
}
