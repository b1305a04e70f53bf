// A run's model in the page's workers: its starting weights and tokenizer (the experiment
// worker trains from them), its tokenizer alone (the data worker's token view of the mask
// panel), and the files of its tokenizer (saved beside exported weights so the folder loads on
// its own). Preset models come from the bundle, URL models by fetch, picked
// folders from IndexedDB (src/store/models.ts), models downloaded from the hub from OPFS
// (src/hub/opfs-folder.ts).
import { getPreset } from '../models/presets.ts';
import { fileListSource, urlSource, type FileSource } from '../src/engine/weights/file-source.ts';
import { bundledModelBrowser } from '../src/experiment/bundled-models-browser.ts';
import { modelFromFiles, presetModel, tokenizerFromFiles, type ModelWithTokenizer } from '../src/experiment/model-source.ts';
import { defaultTokenizer } from '../src/data/defaultTokenizer.ts';
import defaultTokenizerJson from '../models/default-tokenizer/tokenizer.json';
import defaultTokenizerConfig from '../models/default-tokenizer/tokenizer_config.json';
import type { TextTokenizer } from '../src/data/tokenize.ts';
import { BadInputError } from '../src/experiment/run-events.ts';
import type { ExperimentConfig, ModelSource } from '../src/experiment/protocol.ts';
import { tokenizerFileNames } from '../src/experiment/tokenizer-files.ts';
import { loadModelFiles } from '../src/store/models.ts';
import { hubRefText, refFromStoreKey } from '../src/hub/hub-id.ts';
import { cachedHubFiles } from '../src/hub/opfs-folder.ts';

/** A stored model's files as a source, and the llama2.c checkpoint among them (if any): a
 *  picked folder from IndexedDB, or a model downloaded from the hub (key "hub:…") from OPFS. */
async function storedSource(src: Extract<ModelSource, { kind: 'stored' }>): Promise<{ files: FileSource; binName?: string }> {
  const hub = refFromStoreKey(src.key);
  if (hub) {
    const files = await cachedHubFiles(hub).catch((err: Error) => Promise.reject(new BadInputError(err.message)));
    return { files: fileListSource(files, `hub model ${hubRefText(hub)}`) };
  }
  const stored = await loadModelFiles(src.key);
  if (!stored) throw new BadInputError(`the stored model "${src.label}" is no longer in this browser's storage`);
  const files = stored.files.map((f) => new File([f.blob], f.path.split('/').pop()!));
  const bin = files.find((f) => f.name.endsWith('.bin') && !/^tok(\d+|enizer)\.bin$/.test(f.name));
  return { files: fileListSource(files, src.label), binName: bin?.name };
}

export async function resolveModel(config: ExperimentConfig): Promise<ModelWithTokenizer> {
  const src = config.model;
  if (src.kind === 'preset') return presetModel(src.name, bundledModelBrowser);
  if (src.kind === 'url') return modelFromFiles(urlSource(src.url));
  const { files, binName } = await storedSource(src);
  return modelFromFiles(files, binName);
}

/**
 * The tokenizer files a run's model trained with: for a preset the bundled default tokenizer
 * (or, for a preset with shipped weights, the tokenizer beside them); for a URL or a picked
 * folder the files the loader read (tokenizerFileNames).
 */
export async function tokenizerFiles(model: ModelSource, vocabSize: number): Promise<{ name: string; bytes: Uint8Array }[]> {
  let src: FileSource;
  let binName: string | undefined;
  if (model.kind === 'preset') {
    const p = getPreset(model.name);
    if (!p.weights) {
      const [tok, cfg] = await Promise.all([import('../models/default-tokenizer/tokenizer.json?raw'), import('../models/default-tokenizer/tokenizer_config.json?raw')]);
      const enc = new TextEncoder();
      return [
        { name: 'tokenizer.json', bytes: enc.encode(tok.default) },
        { name: 'tokenizer_config.json', bytes: enc.encode(cfg.default) },
      ];
    }
    src = bundledModelBrowser(p.weights);
  } else if (model.kind === 'url') src = urlSource(model.url);
  else ({ files: src, binName } = await storedSource(model));
  const names = await tokenizerFileNames(src, vocabSize, binName);
  return Promise.all(names.map(async (name) => ({ name, bytes: new Uint8Array(await src.read(name)) })));
}

/** The tokenizer a run's model trains with, read without its weights where the files allow: a
 *  preset's (the bundled default tokenizer; for a preset with shipped weights the tokenizer
 *  beside them), a Hugging Face folder's tokenizer files (its config.json read for vocab_size
 *  only) from a URL, a picked folder or a downloaded hub model; a llama2.c checkpoint is
 *  loaded as a run loads it (its vocabulary size is in the .bin). Cached per model source; a
 *  failed load is not kept, so a hub model downloaded later or a URL back online loads. */
export function modelTokenizer(model: ModelSource): Promise<TextTokenizer> {
  const key = JSON.stringify(model);
  let p = tokenizerCache.get(key);
  if (!p) {
    p = loadModelTokenizer(model);
    tokenizerCache.set(key, p);
    p.catch(() => tokenizerCache.delete(key));
  }
  return p;
}

const tokenizerCache = new Map<string, Promise<TextTokenizer>>();

async function loadModelTokenizer(model: ModelSource): Promise<TextTokenizer> {
  if (model.kind === 'preset') {
    const p = getPreset(model.name);
    return p.weights ? bundledTokenizer(p.weights, p.config.vocabSize) : defaultTokenizer();
  }
  if (model.kind === 'url') {
    // A URL model is a Hugging Face folder (modelFromFiles): config.json is read, not probed,
    // so that an unreachable server says so rather than "no config.json".
    const src = urlSource(model.url);
    return tokenizerFromFiles(src, vocabSizeOf(await readConfig(src)));
  }
  const { files, binName } = await storedSource(model);
  if (await files.exists('config.json')) return tokenizerFromFiles(files, vocabSizeOf(await readConfig(files)));
  return (await modelFromFiles(files, binName)).tokenizer;
}

/** The tokenizer beside a preset's shipped weights: the default tokenizer itself when its files
 *  are the default tokenizer's (models/base's are), so the label can say so. */
async function bundledTokenizer(folder: string, vocabSize: number): Promise<TextTokenizer> {
  const src = bundledModelBrowser(folder);
  const text = async (name: string) => ((await src.exists(name)) ? new TextDecoder().decode(await src.read(name)) : undefined);
  const [tok, cfg] = await Promise.all([text('tokenizer.json'), text('tokenizer_config.json')]);
  const same = (file: string | undefined, json: unknown) => file !== undefined && JSON.stringify(JSON.parse(file)) === JSON.stringify(json);
  if (same(tok, defaultTokenizerJson) && same(cfg, defaultTokenizerConfig)) return defaultTokenizer();
  return tokenizerFromFiles(src, vocabSize);
}

async function readConfig(src: FileSource): Promise<Record<string, unknown>> {
  let bytes: ArrayBuffer;
  try {
    bytes = await src.read('config.json');
  } catch (err) {
    // fetch's TypeError ("Failed to fetch") does not name the file.
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(message.includes('config.json') ? message : `could not read ${src.label}${src.label.endsWith('/') ? '' : '/'}config.json: ${message}`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${src.label}: config.json is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** config.json's vocab_size (or its text_config's): it names a llama2.c tokenizer file
 *  (tok<vocab>.bin) when the folder has no tokenizer.json; 0 when absent. */
function vocabSizeOf(config: Record<string, unknown>): number {
  const text = config.text_config as Record<string, unknown> | undefined;
  const v = Number(config.vocab_size ?? text?.vocab_size);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

/** The mask panel's tokenizer: the run model's (modelTokenizer) with a short label naming it and
 *  its chat layout, or — when the model's cannot be loaded (a hub model not downloaded, a URL
 *  offline, a stored folder gone) — the default tokenizer with `fallback` saying why. */
export interface MaskTokenizer {
  tokenizer: TextTokenizer;
  /** "the default tokenizer …" or "the model's tokenizer (…; chat template: …)". */
  label: string;
  /** Why the model's own tokenizer is not the one shown (absent when it is). */
  fallback?: string;
}

export async function maskTokenizer(model: ModelSource): Promise<MaskTokenizer> {
  try {
    const tokenizer = await modelTokenizer(model);
    return { tokenizer, label: tokenizerLabel(model, tokenizer) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      tokenizer: defaultTokenizer(),
      label: 'the default tokenizer, not the model’s (see below)',
      fallback: `The tokenizer of ${modelName(model)} could not be loaded (${why}), so these are the default tokenizer’s tokens; a run trains with the model’s own tokenizer and chat template.`,
    };
  }
}

/** The model as the label names it. */
function modelName(model: ModelSource): string {
  if (model.kind === 'preset') return `preset ${model.name}`;
  if (model.kind === 'url') return model.url;
  const hub = refFromStoreKey(model.key);
  return hub ? `the hub model ${hubRefText(hub)}` : `the stored model “${model.label}”`;
}

/** A layout string with its newlines written as \n (the label is one line). */
const shown = (text: string) => JSON.stringify(text).slice(1, -1);

/** How a tokenizer lays out turns, in a few words: the assistant's header and end-of-turn token
 *  of its chat template, or the plain headers (and why a template present was not used). */
function layoutText(tok: TextTokenizer): string {
  const c = tok.chat;
  if (c.source === 'chat-template') return `chat template: ${shown(c.header.assistant)} … ${shown(c.eotText)}`;
  const plain = `plain “${shown(c.header.user)}” / “${shown(c.header.assistant)}” headers, turns end with ${shown(c.eotText)}`;
  return c.note ? `${plain} — ${c.note}` : `no chat template: ${plain}`;
}

/** The tokenizer shown, in words: a preset with random weights trains with the default
 *  tokenizer, and so does preset base (its shipped tokenizer is the default one). */
export function tokenizerLabel(model: ModelSource, tok: TextTokenizer): string {
  if (tok === defaultTokenizer()) return `the default tokenizer, which ${modelName(model)} trains with (${layoutText(tok)})`;
  return `the model’s tokenizer (${modelName(model)}; ${layoutText(tok)})`;
}
