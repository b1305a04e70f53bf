import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import { buildParamLayout } from '../../../src/engine/params.ts';
import { dirSink } from '../../../src/engine/weights/file-source-node.ts';
import { saveHfModel } from '../../../src/engine/weights/hf.ts';
import { loadModelFromPath, loadTokenizerForModel } from '../../../src/engine/weights/load-node.ts';

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
    await expect(loadTokenizerForModel(m)).rejects.toThrow(/no tokenizer for .*hf: looked for tokenizer\.json, tok12\.bin and tokenizer\.bin/);
  });
});
