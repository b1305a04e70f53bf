// Node adapters: a file on disk as a byte source (fs read stream, 1 MiB chunks) with its size,
// and tokenizers loaded from files.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { hfTokenizer, llama2cTokenizer, type TextTokenizer } from '../tokenize.ts';
import { Llama2cTokenizer } from '../tokenizer/llama2c.ts';
import { defaultTokenizer } from '../defaultTokenizer.ts';
import type { ByteSource } from '../lines.ts';

export function nodeFileSource(file: string): { source: ByteSource; totalBytes: number } {
  if (!existsSync(file)) throw new Error(`input file ${file} not found`);
  const stat = statSync(file);
  if (!stat.isFile()) throw new Error(`${file} is not a file`);
  const totalBytes = stat.size;
  return { source: createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, totalBytes };
}

/** Number of entries in a llama2.c tokenizer .bin (the file does not store it). */
export function countLlama2cTokens(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 4;
  let n = 0;
  while (at + 8 <= bytes.byteLength) {
    const len = view.getInt32(at + 4, true);
    if (len < 0) break;
    at += 8 + len;
    if (at > bytes.byteLength) break;
    n++;
  }
  return n;
}

/** Loads a tokenizer: "default", a folder with tokenizer.json (+ tokenizer_config.json),
 *  a tokenizer.json file, or a llama2.c tokenizer .bin. */
export function loadTokenizer(spec: string, vocabSize?: number): TextTokenizer {
  if (spec === 'default') return defaultTokenizer();
  if (!existsSync(spec)) throw new Error(`tokenizer "${spec}" not found (give "default", a folder with tokenizer.json, a tokenizer.json or a .bin)`);
  const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
  if (spec.endsWith('.bin')) {
    const bytes = readFileSync(spec);
    return llama2cTokenizer(Llama2cTokenizer.fromBytes(bytes, vocabSize ?? countLlama2cTokens(bytes), spec), path.basename(spec));
  }
  const file = spec.endsWith('.json') ? spec : path.join(spec, 'tokenizer.json');
  if (!existsSync(file)) throw new Error(`no tokenizer.json in ${spec}`);
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  return hfTokenizer(json(file), existsSync(configFile) ? json(configFile) : {}, path.basename(path.dirname(path.resolve(file))));
}
