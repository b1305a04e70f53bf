// Loads a model from a path on disk (Node only): a llama2.c `.bin` file or a Hugging Face
// folder. Browser code uses hf.ts / llama2c.ts with a FileSource instead. The tokenizer that
// goes with a model: tokenizerFromFiles in src/experiment/model-source.ts.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LlamaConfig } from '../config.ts';
import type { NamedTensors } from '../params.ts';
import { dirSource } from './file-source-node.ts';
import { loadHfModel } from './hf.ts';
import { parseLlama2c } from './llama2c.ts';

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
