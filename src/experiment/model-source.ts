// Resolves an experiment's model source into starting weights and the tokenizer that goes
// with them: a built-in preset (random init, the bundled default tokenizer), a Hugging Face
// folder (config.json + safetensors + tokenizer.json), or a llama2.c checkpoint (.bin +
// tok<vocab>.bin). File access goes through FileSource so this runs in workers and in Node.
import { getPreset } from '../../models/presets.ts';
import { defaultTokenizer } from '../data/defaultTokenizer.ts';
import { hfTokenizer, llama2cTokenizer, type TextTokenizer } from '../data/tokenize.ts';
import { Llama2cTokenizer } from '../data/tokenizer/llama2c.ts';
import type { FileSource } from '../engine/weights/file-source.ts';
import { loadHfModel } from '../engine/weights/hf.ts';
import { parseLlama2c } from '../engine/weights/llama2c.ts';
import { tokenizerFileNames } from './tokenizer-files.ts';
import type { ResolvedModel } from './runner.ts';

export interface ModelWithTokenizer {
  model: ResolvedModel;
  tokenizer: TextTokenizer;
}

/** Where the app's bundled model folders (models/<folder>/) are read from: the file system in
 *  Node, the bundler's asset URLs in a browser. */
export type BundledModels = (folder: string) => FileSource;

/** A named preset: seeded random weights (left to the runner) with the bundled default
 *  tokenizer, or — for a preset with shipped weights (preset:base) — those weights and the
 *  tokenizer beside them. */
export async function presetModel(name: string, bundled: BundledModels): Promise<ModelWithTokenizer> {
  const p = getPreset(name);
  if (!p.weights) return { model: { config: p.config, label: `preset ${p.name}: random weights (${p.description})` }, tokenizer: defaultTokenizer() };
  const loaded = await modelFromFiles(bundled(p.weights));
  const mismatch = (['vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'hiddenDim', 'maxSeqLen'] as const).filter((k) => loaded.model.config[k] !== p.config[k]);
  if (mismatch.length) throw new Error(`preset ${p.name}: the shipped weights in models/${p.weights} do not have the preset's shape (${mismatch.map((k) => `${k} ${loaded.model.config[k]} ≠ ${p.config[k]}`).join(', ')})`);
  return { model: { ...loaded.model, label: `preset ${p.name}: ${p.description}` }, tokenizer: loaded.tokenizer };
}

const readJson = async (src: FileSource, name: string) => JSON.parse(new TextDecoder().decode(await src.read(name))) as Record<string, unknown>;

/** A Hugging Face folder or a llama2.c checkpoint, whichever the source holds. `binName`
 *  names the checkpoint inside the source when it is a llama2.c model. */
export async function modelFromFiles(src: FileSource, binName?: string): Promise<ModelWithTokenizer> {
  if (await src.exists('config.json')) {
    const { config, tensors } = await loadHfModel(src);
    const tokenizer = await tokenizerFromFiles(src, config.vocabSize);
    return { model: { config, tensors, label: `Hugging Face model from ${src.label}` }, tokenizer };
  }
  if (!binName) throw new Error(`${src.label}: neither config.json (Hugging Face folder) nor a llama2.c .bin checkpoint`);
  const { config, tensors } = parseLlama2c(await src.read(binName), `${src.label}/${binName}`);
  const tokenizer = await tokenizerFromFiles(src, config.vocabSize, binName);
  return { model: { config, tensors, label: `llama2.c checkpoint ${binName}` }, tokenizer };
}

/** The tokenizer beside a model (the files tokenizerFileNames names). */
export async function tokenizerFromFiles(src: FileSource, vocabSize: number, binName?: string): Promise<TextTokenizer> {
  const [file, configFile] = await tokenizerFileNames(src, vocabSize, binName);
  if (file === 'tokenizer.json') {
    const tokConfig = configFile ? await readJson(src, configFile) : {};
    return hfTokenizer(await readJson(src, file), tokConfig, `${src.label} tokenizer`);
  }
  return llama2cTokenizer(Llama2cTokenizer.fromBytes(await src.read(file), vocabSize, `${src.label}/${file}`), file);
}
