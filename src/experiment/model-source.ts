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
import type { ResolvedModel } from './runner.ts';

export interface ModelWithTokenizer {
  model: ResolvedModel;
  tokenizer: TextTokenizer;
}

export function presetModel(name: string): ModelWithTokenizer {
  const p = getPreset(name);
  return { model: { config: p.config, label: `preset ${p.name} (${p.description})` }, tokenizer: defaultTokenizer() };
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

/** The tokenizer beside a model: for a Hugging Face folder its tokenizer.json (+
 *  tokenizer_config.json), else the llama2.c tokenizer (`atlas convert` copies one into the
 *  folder when the checkpoint had no tokenizer.json); for the llama2.c checkpoint `binName`,
 *  tok<vocab>.bin or tokenizer.bin. */
export async function tokenizerFromFiles(src: FileSource, vocabSize: number, binName?: string): Promise<TextTokenizer> {
  if (!binName && (await src.exists('tokenizer.json'))) {
    const tokConfig = (await src.exists('tokenizer_config.json')) ? await readJson(src, 'tokenizer_config.json') : {};
    return hfTokenizer(await readJson(src, 'tokenizer.json'), tokConfig, `${src.label} tokenizer`);
  }
  const tokName = [`tok${vocabSize}.bin`, 'tokenizer.bin'];
  let tokFile: string | undefined;
  for (const n of tokName) if (await src.exists(n)) tokFile = tokFile ?? n;
  if (!tokFile) {
    throw new Error(binName
      ? `${src.label}: the llama2.c checkpoint ${binName} needs its tokenizer (${tokName.join(' or ')}) beside it`
      : `${src.label}: no tokenizer beside config.json (looked for tokenizer.json, ${tokName.join(' and ')})`);
  }
  return llama2cTokenizer(Llama2cTokenizer.fromBytes(await src.read(tokFile), vocabSize, `${src.label}/${tokFile}`), tokFile);
}
