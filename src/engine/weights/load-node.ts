// Loads a model from a path on disk (Node only): a llama2.c `.bin` file or a Hugging Face
// folder. Browser code uses hf.ts / llama2c.ts with a FileSource instead.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LlamaConfig } from '../config.ts';
import type { NamedTensors } from '../params.ts';
import { dirSource } from './file-source-node.ts';
import { loadHfModel } from './hf.ts';
import { parseLlama2c } from './llama2c.ts';
import { Llama2cTokenizer } from '../../data/tokenizer/llama2c.ts';
import { hfTextTokenizer, llama2cTextTokenizer, type TextTokenizer } from '../generate/text-tokenizer.ts';

const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

export interface ModelOnDisk {
  kind: 'llama2c' | 'hf';
  /** The .bin file or the folder. */
  path: string;
  config: LlamaConfig;
  tensors: NamedTensors;
  /** Tokens that end generation: eos_token_id of config.json and generation_config.json
   *  (numbers or lists, e.g. Llama 3's [128001, 128009]); EOS 2 for llama2.c. */
  stopTokens: number[];
}

async function readEosIds(dir: string): Promise<number[]> {
  const ids = new Set<number>();
  for (const name of ['config.json', 'generation_config.json']) {
    const file = path.join(dir, name);
    if (!(await isFile(file))) continue;
    let eos: unknown;
    try {
      eos = JSON.parse(await readFile(file, 'utf8')).eos_token_id;
    } catch (err) {
      throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const id of Array.isArray(eos) ? eos : [eos]) if (Number.isInteger(id)) ids.add(id as number);
  }
  return [...ids];
}

export async function loadModelFromPath(modelPath: string): Promise<ModelOnDisk> {
  let info;
  try {
    info = await stat(modelPath);
  } catch {
    throw new Error(`model path ${modelPath} does not exist`);
  }
  if (info.isDirectory()) {
    const { config, tensors } = await loadHfModel(dirSource(modelPath));
    const stopTokens = (await readEosIds(modelPath)).filter((id) => id < config.vocabSize);
    return { kind: 'hf', path: modelPath, config, tensors, stopTokens };
  }
  if (modelPath.endsWith('.safetensors') || path.basename(modelPath) === 'config.json') {
    throw new Error(`${modelPath}: pass the Hugging Face model folder, not a file inside it`);
  }
  const { config, tensors } = parseLlama2c(await readFile(modelPath), modelPath);
  return { kind: 'llama2c', path: modelPath, config, tensors, stopTokens: [config.eosTokenId!] };
}


/** The llama2.c tokenizer file conventionally beside a checkpoint (or inside a converted
 *  folder): tok<vocab>.bin or tokenizer.bin. */
export async function findLlama2cTokenizer(dir: string, vocabSize: number): Promise<string | undefined> {
  for (const name of [`tok${vocabSize}.bin`, 'tokenizer.bin']) {
    const p = path.join(dir, name);
    if (await isFile(p)) return p;
  }
  return undefined;
}

/** The tokenizer that goes with a model on disk: tokenizer.json in an HF folder, else a
 *  llama2.c tokenizer .bin beside the checkpoint / in the folder. */
export async function loadTokenizerForModel(model: ModelOnDisk): Promise<TextTokenizer> {
  const dir = model.kind === 'hf' ? model.path : path.dirname(model.path);
  if (model.kind === 'hf' && (await isFile(path.join(dir, 'tokenizer.json')))) {
    const json = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8'));
    const cfgPath = path.join(dir, 'tokenizer_config.json');
    const cfg = (await isFile(cfgPath)) ? JSON.parse(await readFile(cfgPath, 'utf8')) : {};
    return hfTextTokenizer(json, cfg, model.config.bosTokenId);
  }
  const bin = await findLlama2cTokenizer(dir, model.config.vocabSize);
  if (!bin) {
    throw new Error(`no tokenizer for ${model.path}: looked for ${model.kind === 'hf' ? 'tokenizer.json, ' : ''}tok${model.config.vocabSize}.bin and tokenizer.bin in ${dir}`);
  }
  return llama2cTextTokenizer(Llama2cTokenizer.fromBytes(await readFile(bin), model.config.vocabSize, bin));
}
