// A run's model shape (its LlamaConfig) without its weights: what the memory plan needs before
// Start. A preset's comes from models/presets.ts; a URL folder's from its config.json; a stored
// model's (a picked folder, a downloaded hub model) from its config.json, or a llama2.c
// checkpoint's 28-byte header — read the way the workers' loaders read them
// (src/experiment/model-source.ts, workers/model-files.ts), never the weights.
import { getPreset } from '../../models/presets.ts';
import { configFromHf, type LlamaConfig } from '../engine/config.ts';
import { LLAMA2C_HEADER_BYTES, llama2cConfig, readLlama2cHeader } from '../engine/weights/llama2c.ts';
import type { ModelSource } from './protocol.ts';

/** A stored model's files: a picked folder's (IndexedDB) or a downloaded hub model's (OPFS). */
export type StoredFiles = ReadonlyArray<{ path: string; blob: Blob }>;

export interface ModelConfigDeps {
  fetch: typeof fetch;
  /** The files of a stored model; undefined when this browser no longer holds it. */
  storedFiles(src: Extract<ModelSource, { kind: 'stored' }>): Promise<StoredFiles | undefined>;
}

/** The config of a source whose shape is known without reading anything (a preset), else undefined. */
export function knownModelConfig(src: ModelSource): LlamaConfig | undefined {
  return src.kind === 'preset' ? getPreset(src.name).config : undefined;
}

/** The config of any source; throws with the file and the problem when it cannot be read. */
export async function modelConfigOf(src: ModelSource, deps: ModelConfigDeps): Promise<LlamaConfig> {
  const known = knownModelConfig(src);
  if (known) return known;
  if (src.kind === 'url') {
    const url = `${src.url.endsWith('/') ? src.url : src.url + '/'}config.json`;
    const res = await deps.fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
    return hfConfig(await res.text(), url);
  }
  if (src.kind === 'stored') {
    const files = await deps.storedFiles(src);
    if (!files) throw new Error(`the stored model "${src.label}" is no longer in this browser's storage`);
    return storedModelConfig(src.label, files);
  }
  throw new Error(`no model shape is known for a model of kind "${(src as { kind: string }).kind}" before it loads`);
}

/** A stored folder's config.json, or its llama2.c checkpoint's header (the same .bin the loader picks). */
export async function storedModelConfig(label: string, files: StoredFiles): Promise<LlamaConfig> {
  const base = (f: { path: string }) => f.path.split('/').pop()!;
  const json = files.find((f) => base(f) === 'config.json');
  if (json) return hfConfig(await json.blob.text(), `${label}/config.json`);
  const bin = files.find((f) => base(f).endsWith('.bin') && !/^tok(\d+|enizer)\.bin$/.test(base(f)));
  if (!bin) throw new Error(`${label}: neither config.json (Hugging Face folder) nor a llama2.c .bin checkpoint`);
  const header = await bin.blob.slice(0, LLAMA2C_HEADER_BYTES).arrayBuffer();
  return llama2cConfig(readLlama2cHeader(header, `${label}/${base(bin)}`));
}

function hfConfig(text: string, label: string): LlamaConfig {
  try {
    return configFromHf(JSON.parse(text) as Record<string, unknown>);
  } catch (err) {
    throw new Error(`${label}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
