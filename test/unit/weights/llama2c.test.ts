import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { llama2cExpectedBytes, parseLlama2c, permuteRopeRows, readLlama2cHeader } from '../../../src/engine/weights/llama2c.ts';

const BIN = path.resolve('../shared/models/stories260K/stories260K.bin');
const haveShared = existsSync(BIN);
if (!haveShared) console.warn(`SKIPPED stories260K checks: ${BIN} not found (../shared absent)`);

/** A synthetic llama2.c file whose floats count up 0, 1, 2, … so every tensor's source is checkable. */
function synthetic(h: { dim: number; hidden: number; layers: number; heads: number; kvHeads: number; vocab: number; seq: number }) {
  const header = { dim: h.dim, hiddenDim: h.hidden, nLayers: h.layers, nHeads: h.heads, nKvHeads: h.kvHeads, vocabSize: Math.abs(h.vocab), seqLen: h.seq, shared: h.vocab > 0 };
  const bytes = llama2cExpectedBytes(header);
  const buf = new ArrayBuffer(bytes);
  const dv = new DataView(buf);
  [h.dim, h.hidden, h.layers, h.heads, h.kvHeads, h.vocab, h.seq].forEach((v, i) => dv.setInt32(i * 4, v, true));
  const f = new Float32Array(buf, 28);
  f.forEach((_, i) => (f[i] = i));
  return new Uint8Array(buf);
}

/** llama2.c RoPE: rotate interleaved pairs (x[2i], x[2i+1]) of each head. */
function ropeInterleaved(x: Float64Array, heads: number, hd: number, pos: number) {
  for (let h = 0; h < heads; h++) for (let i = 0; i < hd / 2; i++) {
    const a = pos / Math.pow(10000, (2 * i) / hd);
    const [c, s] = [Math.cos(a), Math.sin(a)];
    const [x0, x1] = [x[h * hd + 2 * i], x[h * hd + 2 * i + 1]];
    x[h * hd + 2 * i] = x0 * c - x1 * s;
    x[h * hd + 2 * i + 1] = x0 * s + x1 * c;
  }
}
/** HF RoPE: rotate halves (x[i], x[i + hd/2]). */
function ropeHalf(x: Float64Array, heads: number, hd: number, pos: number) {
  const half = hd / 2;
  for (let h = 0; h < heads; h++) for (let i = 0; i < half; i++) {
    const a = pos / Math.pow(10000, (2 * i) / hd);
    const [c, s] = [Math.cos(a), Math.sin(a)];
    const [x0, x1] = [x[h * hd + i], x[h * hd + i + half]];
    x[h * hd + i] = x0 * c - x1 * s;
    x[h * hd + i + half] = x1 * c + x0 * s;
  }
}
const matvec = (W: Float32Array, x: Float64Array, rows: number) => {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let i = 0; i < x.length; i++) out[r] += W[r * x.length + i] * x[i];
  return out;
};

describe('llama2.c checkpoint reader', () => {
  it('maps every array of a synthetic untied file to its HF tensor', () => {
    const h = { dim: 8, hidden: 6, layers: 2, heads: 2, kvHeads: 1, vocab: -5, seq: 4 };
    const { config, tensors } = parseLlama2c(synthetic(h));
    expect(config).toMatchObject({ vocabSize: 5, dModel: 8, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 4, hiddenDim: 6, maxSeqLen: 4, tiedEmbeddings: false, ropeTheta: 10000, normEps: 1e-5 });
    // Offsets (in floats) of each array in the file, per the documented order.
    const D = 8, L = 2, KV = 4, HID = 6, V = 5;
    let at = 0;
    const next = (n: number) => ((at += n), at - n);
    const emb = next(V * D), rmsAtt = next(L * D), wq = next(L * D * D), wk = next(L * KV * D), wv = next(L * KV * D), wo = next(L * D * D);
    const rmsFfn = next(L * D), w1 = next(L * HID * D), w2 = next(L * D * HID), w3 = next(L * HID * D), rmsF = next(D);
    next(2 * 4 * 2); // freq_cis real + imag: seq 4 × hd/2 2, each
    const wcls = next(V * D);
    const first = (name: string) => tensors.get(name)![0];
    expect(first('model.embed_tokens.weight')).toBe(emb);
    expect(first('model.layers.1.input_layernorm.weight')).toBe(rmsAtt + D);
    expect(first('model.layers.1.self_attn.v_proj.weight')).toBe(wv + KV * D);
    expect(first('model.layers.0.self_attn.o_proj.weight')).toBe(wo);
    expect(first('model.layers.1.post_attention_layernorm.weight')).toBe(rmsFfn + D);
    expect(first('model.layers.1.mlp.gate_proj.weight')).toBe(w1 + HID * D);
    expect(first('model.layers.0.mlp.down_proj.weight')).toBe(w2);
    expect(first('model.layers.0.mlp.up_proj.weight')).toBe(w3);
    expect(first('model.norm.weight')).toBe(rmsF);
    expect(Array.from(tensors.get('lm_head.weight')!)).toEqual(Array.from({ length: V * D }, (_, i) => wcls + i));
    // q/k rows are permuted per head: HF row (h, j, i) = llama2.c row (h, 2i + j).
    const q1 = tensors.get('model.layers.1.self_attn.q_proj.weight')!;
    const rowStart = (r: number) => q1[r * D];
    const srcRow = (r: number) => wq + D * D + r * D;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(rowStart)).toEqual([0, 2, 1, 3, 4, 6, 5, 7].map(srcRow));
    expect(tensors.get('model.layers.0.self_attn.k_proj.weight')![1 * D]).toBe(wk + 2 * D);
  });

  it('the q/k row permutation turns interleaved RoPE into rotate-half RoPE (same attention scores)', () => {
    const heads = 3, hd = 8, dim = 12;
    const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.7);
    const Wq = rnd(heads * hd * dim, 1), Wk = rnd(heads * hd * dim, 2);
    const x = Float64Array.from(rnd(dim, 3)), y = Float64Array.from(rnd(dim, 4));
    const [pq, pk] = [7, 3];
    const qa = matvec(Wq, x, heads * hd), ka = matvec(Wk, y, heads * hd);
    ropeInterleaved(qa, heads, hd, pq);
    ropeInterleaved(ka, heads, hd, pk);
    const qb = matvec(permuteRopeRows(Wq, heads, hd, dim), x, heads * hd), kb = matvec(permuteRopeRows(Wk, heads, hd, dim), y, heads * hd);
    ropeHalf(qb, heads, hd, pq);
    ropeHalf(kb, heads, hd, pk);
    for (let h = 0; h < heads; h++) {
      let a = 0, b = 0;
      for (let i = 0; i < hd; i++) (a += qa[h * hd + i] * ka[h * hd + i]), (b += qb[h * hd + i] * kb[h * hd + i]);
      expect(Math.abs(a - b)).toBeLessThan(1e-9 * Math.max(1, Math.abs(a)));
    }
  });

  it('a truncated file says how many bytes were expected', () => {
    const f = synthetic({ dim: 8, hidden: 6, layers: 1, heads: 2, kvHeads: 2, vocab: 5, seq: 4 });
    expect(() => parseLlama2c(f.subarray(0, f.length - 10), 'm.bin')).toThrow(new RegExp(`m\\.bin: file truncated: .* implies ${f.length} bytes but the file has ${f.length - 10}`));
    const longer = new Uint8Array(f.length + 4);
    longer.set(f);
    expect(() => parseLlama2c(longer)).toThrow(/has trailing bytes/);
    expect(() => parseLlama2c(f.subarray(0, 20))).toThrow(/too short for the 28-byte header/);
  });

  it('a header with impossible sizes is refused', () => {
    const f = synthetic({ dim: 8, hidden: 6, layers: 1, heads: 2, kvHeads: 2, vocab: 5, seq: 4 });
    const bad = f.slice();
    new DataView(bad.buffer).setInt32(8, 0, true);
    expect(() => parseLlama2c(bad)).toThrow(/nLayers=0 must be positive/);
    const odd = f.slice();
    new DataView(odd.buffer).setInt32(12, 3, true);
    expect(() => readLlama2cHeader(odd)).toThrow(/dim 8 is not a multiple of n_heads 3/);
  });

  describe.skipIf(!haveShared)('stories260K.bin', () => {
    it('reads the documented config and all tensors', () => {
      const { config, tensors } = parseLlama2c(readFileSync(BIN));
      expect(config).toEqual({ vocabSize: 512, dModel: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, headDim: 8, hiddenDim: 172, maxSeqLen: 512, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: true, bosTokenId: 1, eosTokenId: 2 });
      expect(tensors.size).toBe(1 + 5 * 9 + 1);
      expect(tensors.has('lm_head.weight')).toBe(false);
      // the first embedding float is the first float after the 28-byte header
      expect(tensors.get('model.embed_tokens.weight')![0]).toBe(readFileSync(BIN).readFloatLE(28));
    });
  });
});
