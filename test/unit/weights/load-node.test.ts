import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import { buildParamLayout } from '../../../src/engine/params.ts';
import { dirSink, dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { saveHfModel } from '../../../src/engine/weights/hf.ts';
import { loadModelFromPath } from '../../../src/engine/weights/load-node.ts';
import { modelFromFiles, tokenizerFromFiles } from '../../../src/experiment/model-source.ts';
import { decodeContinuation, encodePrompt } from '../../../src/data/prompt-text.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'atlas-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config: LlamaConfig = {
  vocabSize: 12, dModel: 8, nLayers: 1, nHeads: 2, nKvHeads: 2, headDim: 4, hiddenDim: 8,
  maxSeqLen: 16, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: true, bosTokenId: 1, eosTokenId: 2,
};
const tensors = new Map(buildParamLayout(config).slots.map((s) => [s.name, new Float32Array(s.size).fill(0.5)]));

describe('loading models from disk', () => {
  it('collects stop tokens from config.json and generation_config.json (lists too)', async () => {
    const dir = path.join(tmp, 'hf');
    await saveHfModel(dirSink(dir), config, tensors);
    writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [2, 7, 99] }));
    const m = await loadModelFromPath(dir);
    expect(m.kind).toBe('hf');
    expect(m.stopTokens.sort()).toEqual([2, 7]); // 99 is outside the vocabulary
  });
  it('explains a missing path, a file inside a folder, and a missing tokenizer', async () => {
    await expect(loadModelFromPath(path.join(tmp, 'nope'))).rejects.toThrow(/model path .*nope does not exist/);
    await expect(loadModelFromPath(path.join(tmp, 'hf', 'model.safetensors'))).rejects.toThrow(/pass the Hugging Face model folder, not a file inside it/);
    const m = await loadModelFromPath(path.join(tmp, 'hf'));
    await expect(tokenizerFromFiles(dirSource(m.path), m.config.vocabSize)).rejects.toThrow(/hf: no tokenizer beside config\.json \(looked for tokenizer\.json, tok12\.bin and tokenizer\.bin\)/);
    await expect(modelFromFiles(dirSource(m.path))).rejects.toThrow(/hf: no tokenizer beside config\.json/);
  });
  it('an HF folder with only a llama2.c tokenizer (as `atlas convert` leaves it) uses that tokenizer', async () => {
    const dir = path.join(tmp, 'hf-bin');
    await saveHfModel(dirSink(dir), config, tensors);
    writeFileSync(path.join(dir, 'tok12.bin'), tinyLlama2cTokenizer());
    const tok = await tokenizerFromFiles(dirSource(dir), 12);
    expect(tok.name).toBe('tok12.bin');
    // Merges by score: a,b → ab (1), ␣ab (2), then ␣c (0.5).
    const prompt = encodePrompt(tok, 'ab c');
    expect(prompt).toEqual([1, 7, 9]);
    // After BOS the first piece loses its leading space; EOS writes nothing.
    expect(decodeContinuation(tok, [1], [7, 9, 2])).toBe('ab c');
    expect(decodeContinuation(tok, [1, 7], [9, 2])).toBe(' c');
    const { tokenizer } = await modelFromFiles(dirSource(dir));
    expect(tokenizer.encode('ab c')).toEqual([7, 9]);
  });
});

/** A 12-piece llama2.c tokenizer .bin: <unk>, <s>, </s>, then ␣ a b ab ␣ab c ␣c ba x with scores. */
function tinyLlama2cTokenizer(): Uint8Array {
  const pieces: [string, number][] = [['<unk>', 0], ['\n<s>\n', 0], ['\n</s>\n', 0], [' ', 0], ['a', 0], ['b', 0], ['ab', 1], [' ab', 2], ['c', 0], [' c', 0.5], ['ba', 0], ['x', 0]];
  const enc = new TextEncoder();
  const parts = pieces.map(([p]) => enc.encode(p));
  const buf = new DataView(new ArrayBuffer(4 + parts.reduce((n, b) => n + 8 + b.length, 0)));
  buf.setInt32(0, 7, true);
  let at = 4;
  parts.forEach((b, i) => {
    buf.setFloat32(at, pieces[i][1], true);
    buf.setInt32(at + 4, b.length, true);
    new Uint8Array(buf.buffer, at + 8, b.length).set(b);
    at += 8 + b.length;
  });
  return new Uint8Array(buf.buffer);
}
