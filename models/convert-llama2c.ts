// Converts a llama2.c version-0 checkpoint (.bin) into a Hugging Face Llama folder:
// config.json + model.safetensors (f32, rotate-half RoPE rows), generation_config.json,
// and a tokenizer: the HF tokenizer.json (+ tokenizer_config.json) from an `hf/` folder
// beside the .bin when there is one, otherwise the llama2.c tokenizer .bin copied as is.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LlamaConfig } from '../src/engine/config.ts';
import { dirSink } from '../src/engine/weights/file-source-node.ts';
import { saveHfModel } from '../src/engine/weights/hf.ts';
import { parseLlama2c } from '../src/engine/weights/llama2c.ts';
import { findLlama2cTokenizer } from '../src/engine/weights/load-node.ts';

export interface ConversionReport {
  config: LlamaConfig;
  files: string[];
  /** How the tokenizer was handled, in words. */
  tokenizer: string;
}

const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);
// Read + write rather than copyFile: sources may be read-only and the copy must stay writable.
const copy = async (from: string, to: string) => writeFile(to, await readFile(from));

export async function convertLlama2c(binPath: string, outDir: string): Promise<ConversionReport> {
  const { config, tensors } = parseLlama2c(await readFile(binPath), binPath);
  await saveHfModel(dirSink(outDir), config, tensors);
  const files = ['config.json', 'model.safetensors'];
  await writeFile(path.join(outDir, 'generation_config.json'), JSON.stringify({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId }, null, 2) + '\n');
  files.push('generation_config.json');

  let tokenizer: string;
  const hfDir = path.join(path.dirname(binPath), 'hf');
  const tokBin = await findLlama2cTokenizer(path.dirname(binPath), config.vocabSize);
  if (await isFile(path.join(hfDir, 'tokenizer.json'))) {
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      if (await isFile(path.join(hfDir, name))) {
        await copy(path.join(hfDir, name), path.join(outDir, name));
        files.push(name);
      }
    }
    tokenizer = `copied ${path.join(hfDir, 'tokenizer.json')}`;
  } else if (tokBin) {
    await copy(tokBin, path.join(outDir, path.basename(tokBin)));
    files.push(path.basename(tokBin));
    tokenizer = `no HF tokenizer.json beside the checkpoint; copied the llama2.c tokenizer ${path.basename(tokBin)} (atlas generate reads it)`;
  } else {
    tokenizer = 'no tokenizer found beside the checkpoint (looked for hf/tokenizer.json, tok<vocab>.bin, tokenizer.bin)';
  }
  return { config, files, tokenizer };
}
