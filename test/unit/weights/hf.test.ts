import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import { buildParamLayout, type NamedTensors } from '../../../src/engine/params.ts';
import { memoryFolder } from '../../../src/engine/weights/file-source.ts';
import { dirSink, dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { hfFolderFiles, loadHfModel, saveHfModel } from '../../../src/engine/weights/hf.ts';
import { writeSafetensors } from '../../../src/engine/weights/safetensors.ts';
import { configToHf } from '../../../src/engine/config.ts';

const FIX = path.resolve(__dirname, '../../fixtures/weights');
const expected = JSON.parse(readFileSync(path.join(FIX, 'expected.json'), 'utf8'));

const tiny = (tied: boolean): LlamaConfig => ({
  vocabSize: 10, dModel: 8, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 4, hiddenDim: 12,
  maxSeqLen: 16, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: tied, bosTokenId: 1, eosTokenId: 2,
});
function randomTensors(c: LlamaConfig, seed = 1): NamedTensors {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return new Map(buildParamLayout(c).slots.map((sl) => [sl.name, new Float32Array(sl.size).map(() => next())]));
}
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** An in-memory HF folder with the given tensors (shapes from the layout unless overridden). */
async function folder(c: LlamaConfig | Record<string, unknown>, tensors: Map<string, { shape: number[]; data: Float32Array }>) {
  const f = memoryFolder('mem');
  await f.write('config.json', JSON.stringify('vocabSize' in c ? configToHf(c as LlamaConfig) : c));
  await f.write('model.safetensors', writeSafetensors(tensors));
  return f;
}
const withShapes = (c: LlamaConfig, t: NamedTensors) => {
  const layout = buildParamLayout(c);
  return new Map([...t].map(([n, d]) => [n, { shape: layout.byName.get(n)!.shape, data: d }]));
};

describe('Hugging Face folders', () => {
  for (const tied of [true, false]) {
    it(`save → load round-trips bit-identically (${tied ? 'tied' : 'untied'})`, async () => {
      const c = tiny(tied);
      const t = randomTensors(c);
      const f = memoryFolder();
      await saveHfModel(f, c, t);
      expect([...f.files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
      const back = await loadHfModel(f);
      expect(back.config).toEqual(c);
      expect([...back.tensors.keys()]).toEqual([...t.keys()]);
      for (const [n, d] of t) expect(bits(back.tensors.get(n)!), n).toEqual(bits(d));
      expect(back.tensors.has('lm_head.weight')).toBe(!tied);
    });
  }

  it('saves and loads through the Node directory source/sink', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atlas-hf-'));
    try {
      const c = tiny(false);
      const t = randomTensors(c, 7);
      await saveHfModel(dirSink(dir), c, t);
      const back = await loadHfModel(dirSource(dir));
      for (const [n, d] of t) expect(bits(back.tensors.get(n)!)).toEqual(bits(d));
      const again = hfFolderFiles(back.config, back.tensors);
      expect(Buffer.compare(Buffer.from(again.get('model.safetensors') as Uint8Array), readFileSync(path.join(dir, 'model.safetensors')))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a sharded bf16 folder (index.json weight_map) written by torch', async () => {
    const m = await loadHfModel(dirSource(path.join(FIX, 'tiny-sharded')));
    expect(m.config).toMatchObject({ vocabSize: 16, dModel: 8, nLayers: 1, nHeads: 2, nKvHeads: 1, headDim: 4, hiddenDim: 12, tiedEmbeddings: false });
    const want = expected['tiny-sharded'] as Record<string, number[]>;
    expect([...m.tensors.keys()].sort()).toEqual(Object.keys(want).sort());
    for (const [n, vals] of Object.entries(want)) expect(Array.from(m.tensors.get(n)!), n).toEqual(vals.map(Math.fround));
  });

  it('a tied model may carry an lm_head equal to the embedding (dropped), not a different one', async () => {
    const c = tiny(true);
    const t = randomTensors(c);
    const emb = t.get('model.embed_tokens.weight')!;
    const same = withShapes(c, t).set('lm_head.weight', { shape: [10, 8], data: emb.slice() });
    const loaded = await loadHfModel(await folder(c, same));
    expect(loaded.tensors.has('lm_head.weight')).toBe(false);
    const other = emb.slice();
    other[3] += 1;
    const diff = withShapes(c, t).set('lm_head.weight', { shape: [10, 8], data: other });
    await expect(loadHfModel(await folder(c, diff))).rejects.toThrow(/ties the embeddings .* lm_head\.weight differs/);
  });

  it('drops rotary inv_freq buffers but rejects other unknown tensors', async () => {
    const c = tiny(true);
    const t = withShapes(c, randomTensors(c));
    t.set('model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [2], data: new Float32Array(2) });
    expect((await loadHfModel(await folder(c, t))).tensors.size).toBe(buildParamLayout(c).slots.length);
    t.set('model.layers.0.self_attn.q_norm.weight', { shape: [4], data: new Float32Array(4) });
    await expect(loadHfModel(await folder(c, t))).rejects.toThrow(/unexpected tensors for this config: model\.layers\.0\.self_attn\.q_norm\.weight/);
  });

  it('missing tensors and wrong shapes are named', async () => {
    const c = tiny(false);
    const t = withShapes(c, randomTensors(c));
    t.delete('model.layers.1.mlp.up_proj.weight');
    t.delete('lm_head.weight');
    await expect(loadHfModel(await folder(c, t))).rejects.toThrow(/missing tensors model\.layers\.1\.mlp\.up_proj\.weight, lm_head\.weight/);
    const t2 = withShapes(c, randomTensors(c));
    t2.set('model.layers.0.self_attn.k_proj.weight', { shape: [8, 4], data: new Float32Array(32) });
    await expect(loadHfModel(await folder(c, t2))).rejects.toThrow(/k_proj\.weight has shape \[8, 4\]; config\.json implies \[4, 8\]/);
  });

  it('unsupported configs are refused with the reason', async () => {
    const c = tiny(true);
    const t = withShapes(c, randomTensors(c));
    const hf = configToHf(c);
    await expect(loadHfModel(await folder({ ...hf, rope_scaling: { type: 'linear', factor: 2 } }, t))).rejects.toThrow(/config\.json: Unsupported model config: rope_scaling/);
    await expect(loadHfModel(await folder({ ...hf, head_dim: 3 }, t))).rejects.toThrow(/headDim \(3\) must be even/);
    await expect(loadHfModel(await folder({ ...hf, num_key_value_heads: 3 }, t))).rejects.toThrow(/multiple of nKvHeads/);
    const f = memoryFolder('empty');
    await expect(loadHfModel(f)).rejects.toThrow(/empty: no config\.json/);
    await f.write('config.json', JSON.stringify(hf));
    await expect(loadHfModel(f)).rejects.toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json/);
  });

  it('a shard index that names a missing shard or tensor is an error', async () => {
    const c = tiny(true);
    const t = withShapes(c, randomTensors(c));
    const f = memoryFolder('sharded');
    await f.write('config.json', JSON.stringify(configToHf(c)));
    const norm = t.get('model.norm.weight')!;
    t.delete('model.norm.weight');
    await f.write('a.safetensors', writeSafetensors(t));
    const map = Object.fromEntries([...t.keys()].map((n) => [n, 'a.safetensors']));
    await f.write('model.safetensors.index.json', JSON.stringify({ weight_map: { ...map, 'model.norm.weight': 'b.safetensors' } }));
    await expect(loadHfModel(f)).rejects.toThrow(/shard b\.safetensors named in model\.safetensors\.index\.json does not exist/);
    await f.write('b.safetensors', writeSafetensors(new Map([['x', { shape: [1], data: new Float32Array(1) }]])));
    await expect(loadHfModel(f)).rejects.toThrow(/b\.safetensors: tensor "x" is not listed for this shard/);
    await f.write('b.safetensors', writeSafetensors(new Map()));
    await expect(loadHfModel(f)).rejects.toThrow(/puts "model\.norm\.weight" in b\.safetensors, but that shard does not contain it/);
    await f.write('b.safetensors', writeSafetensors(new Map([['model.norm.weight', norm]])));
    expect((await loadHfModel(f)).tensors.get('model.norm.weight')).toEqual(norm.data);
  });

  it('saving refuses tensors that do not fit the config', async () => {
    const c = tiny(true);
    const t = randomTensors(c);
    t.set('model.norm.weight', new Float32Array(3));
    await expect(saveHfModel(memoryFolder(), c, t)).rejects.toThrow(/model\.norm\.weight has 3 values/);
  });
});
