// llama2.c's legacy (version 0) checkpoint format, converted to Hugging Face layout.
//
// File: 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size, seq_len; a negative vocab_size means the classifier is NOT shared with the
// embedding), then f32 arrays: token_embedding [vocab, dim]; rms_att [L, dim];
// wq [L, dim, dim]; wk [L, kv_dim, dim]; wv [L, kv_dim, dim]; wo [L, dim, dim];
// rms_ffn [L, dim]; w1 [L, hidden, dim]; w2 [L, dim, hidden]; w3 [L, hidden, dim];
// rms_final [dim]; freq_cis_real, freq_cis_imag [seq_len, head_size/2] (ignored);
// then wcls [vocab, dim] only when untied.
//
// llama2.c rotates interleaved pairs (x[2i], x[2i+1]); HF Llama rotates halves
// (x[i], x[i + hd/2]). Permuting the rows of wq and wk per head turns one into the other:
// HF row (h, j, i) = llama2.c row (h, i, j) for j ∈ {0,1}, i < hd/2.
import type { LlamaConfig } from '../config.ts';
import { validateConfig } from '../config.ts';
import { layerPrefix, type NamedTensors } from '../params.ts';

export const LLAMA2C_HEADER_BYTES = 28;

export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  shared: boolean;
}

export function readLlama2cHeader(bytes: ArrayBuffer | Uint8Array, label = 'llama2.c checkpoint'): Llama2cHeader {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.byteLength < LLAMA2C_HEADER_BYTES) throw new Error(`${label}: ${u8.byteLength} bytes, too short for the 28-byte header`);
  const v = new DataView(u8.buffer, u8.byteOffset, LLAMA2C_HEADER_BYTES);
  const h = [0, 1, 2, 3, 4, 5, 6].map((i) => v.getInt32(i * 4, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = h;
  const header = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, shared: vocab > 0 };
  const bad = Object.entries(header).filter(([k, x]) => k !== 'shared' && !((x as number) > 0));
  if (bad.length) throw new Error(`${label}: header field(s) ${bad.map(([k, x]) => `${k}=${x}`).join(', ')} must be positive (not a llama2.c version-0 file?)`);
  if (dim % nHeads !== 0) throw new Error(`${label}: dim ${dim} is not a multiple of n_heads ${nHeads}`);
  return header;
}

export function llama2cConfig(h: Llama2cHeader): LlamaConfig {
  const cfg: LlamaConfig = {
    vocabSize: h.vocabSize,
    dModel: h.dim,
    nLayers: h.nLayers,
    nHeads: h.nHeads,
    nKvHeads: h.nKvHeads,
    headDim: h.dim / h.nHeads,
    hiddenDim: h.hiddenDim,
    maxSeqLen: h.seqLen,
    ropeTheta: 10000,
    normEps: 1e-5,
    tiedEmbeddings: h.shared,
    bosTokenId: 1,
    eosTokenId: 2,
  };
  validateConfig(cfg);
  return cfg;
}

/** Total file size implied by a header, in bytes. */
export function llama2cExpectedBytes(h: Llama2cHeader): number {
  const hd = h.dim / h.nHeads;
  const kvDim = h.nKvHeads * hd;
  const L = h.nLayers;
  const floats =
    h.vocabSize * h.dim +
    L * h.dim +
    L * h.dim * h.dim +
    2 * L * kvDim * h.dim +
    L * h.dim * h.dim +
    L * h.dim +
    3 * L * h.hiddenDim * h.dim +
    h.dim +
    h.seqLen * hd + // freq_cis_real + freq_cis_imag: 2 × seq_len × hd/2
    (h.shared ? 0 : h.vocabSize * h.dim);
  return LLAMA2C_HEADER_BYTES + floats * 4;
}

/** Reorders the rows of a [heads*hd, dim] projection from interleaved to rotate-half RoPE. */
export function permuteRopeRows(w: Float32Array, heads: number, hd: number, dim: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * hd + 2 * i + j) * dim;
        const dst = (h * hd + j * half + i) * dim;
        out.set(w.subarray(src, src + dim), dst);
      }
    }
  }
  return out;
}

/** Parses a llama2.c version-0 checkpoint into an HF-layout model. */
export function parseLlama2c(bytes: ArrayBuffer | Uint8Array, label = 'llama2.c checkpoint'): { config: LlamaConfig; tensors: NamedTensors } {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const h = readLlama2cHeader(u8, label);
  const expected = llama2cExpectedBytes(h);
  if (u8.byteLength !== expected) {
    const what = u8.byteLength < expected ? 'truncated' : 'has trailing bytes';
    throw new Error(
      `${label}: file ${what}: the header (dim ${h.dim}, hidden ${h.hiddenDim}, ${h.nLayers} layers, ${h.nHeads} heads, ${h.nKvHeads} kv heads, vocab ${h.vocabSize}${h.shared ? '' : ' untied'}, seq_len ${h.seqLen}) implies ${expected} bytes but the file has ${u8.byteLength}`,
    );
  }
  const config = llama2cConfig(h);
  // Copy the payload once into an aligned f32 array, then slice views out of it.
  const all = new Float32Array(u8.buffer.slice(u8.byteOffset + LLAMA2C_HEADER_BYTES, u8.byteOffset + expected));
  let at = 0;
  const take = (n: number) => {
    const t = all.subarray(at, at + n);
    at += n;
    return t;
  };
  const { dim, hiddenDim: hid, nLayers: L, nHeads, nKvHeads, vocabSize } = h;
  const hd = dim / nHeads;
  const kvDim = nKvHeads * hd;
  const emb = take(vocabSize * dim);
  const rmsAtt = take(L * dim);
  const wq = take(L * dim * dim);
  const wk = take(L * kvDim * dim);
  const wv = take(L * kvDim * dim);
  const wo = take(L * dim * dim);
  const rmsFfn = take(L * dim);
  const w1 = take(L * hid * dim);
  const w2 = take(L * dim * hid);
  const w3 = take(L * hid * dim);
  const rmsFinal = take(dim);
  take(h.seqLen * hd); // freq_cis (recomputed from ropeTheta)
  const wcls = h.shared ? undefined : take(vocabSize * dim);

  const tensors: NamedTensors = new Map();
  const layer = (arr: Float32Array, l: number, n: number) => arr.slice(l * n, (l + 1) * n);
  tensors.set('model.embed_tokens.weight', emb.slice());
  for (let l = 0; l < L; l++) {
    const p = layerPrefix(l);
    tensors.set(p + 'input_layernorm.weight', layer(rmsAtt, l, dim));
    tensors.set(p + 'self_attn.q_proj.weight', permuteRopeRows(layer(wq, l, dim * dim), nHeads, hd, dim));
    tensors.set(p + 'self_attn.k_proj.weight', permuteRopeRows(layer(wk, l, kvDim * dim), nKvHeads, hd, dim));
    tensors.set(p + 'self_attn.v_proj.weight', layer(wv, l, kvDim * dim));
    tensors.set(p + 'self_attn.o_proj.weight', layer(wo, l, dim * dim));
    tensors.set(p + 'post_attention_layernorm.weight', layer(rmsFfn, l, dim));
    tensors.set(p + 'mlp.gate_proj.weight', layer(w1, l, hid * dim));
    tensors.set(p + 'mlp.up_proj.weight', layer(w3, l, hid * dim));
    tensors.set(p + 'mlp.down_proj.weight', layer(w2, l, dim * hid));
  }
  tensors.set('model.norm.weight', rmsFinal.slice());
  if (wcls) tensors.set('lm_head.weight', wcls.slice());
  return { config, tensors };
}
