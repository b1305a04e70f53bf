// Rotary position embedding, Hugging Face "rotate-half" convention: within each head the
// pair (i, i + hd/2) is rotated by angle pos·θ^(−2i/hd). Applied in place. The backward
// pass is the inverse rotation of the gradient (dir = −1), so no pre-rotation copy is kept.
import type { Kernel } from '../gpu/resources.ts';
import type { RopeScaling } from '../config.ts';
import { SLOTS_WGSL } from './slots.ts';

// x [N, rowStride] whose first heads·hd columns are rotated (row n = b·T + t, position t);
// table [maxSeq, hd/2, 2] = (cos, sin) -> x (in place). With x = [q | k | v] rows, heads = H + KVH
// rotates q and k in one dispatch.
//   (x_i, x_{i+hd/2}) ← (x_i cos − x_{i+hd/2} dir·sin, x_{i+hd/2} cos + x_i dir·sin), angle t·θ^(−2i/hd)
export function ropeKernel(headDim: number): Kernel {
  const half = headDim / 2;
  return {
    name: 'rope',
    uniforms: [['N', 'u32'], ['T', 'u32'], ['heads', 'u32'], ['rowStride', 'u32'], ['dir', 'f32']],
    code: `
const HD = ${headDim}u;
const HALF = ${half}u;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<vec2<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let id = gid.x;
  let perRow = p.heads * HALF;
  if (id >= p.N * perRow) { return; }
  let n = id / perRow;
  let rest = id % perRow;
  let h = rest / HALF;
  let i = rest % HALF;
  let t = n % p.T;
  let cs = table[t * HALF + i];
  let s = cs.y * p.dir;
  let base = n * p.rowStride + h * HD;
  let x1 = x[base + i];
  let x2 = x[base + i + HALF];
  x[base + i] = x1 * cs.x - x2 * s;
  x[base + i + HALF] = x2 * cs.x + x1 * s;
}
`,
  };
}

/** Pair i's angular frequency θ^(−2i/hd), with Llama 3's scaling when given: wavelengths
 *  longer than originalMaxPositions / lowFreqFactor are stretched by `factor`, those shorter
 *  than originalMaxPositions / highFreqFactor kept, and the band between blended linearly in
 *  originalMaxPositions / wavelength. */
export function ropeFrequency(i: number, headDim: number, theta: number, scaling?: RopeScaling): number {
  const freq = 1 / Math.pow(theta, (2 * i) / headDim);
  if (!scaling) return freq;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions: L } = scaling;
  const wavelength = (2 * Math.PI) / freq;
  if (wavelength < L / highFreqFactor) return freq;
  if (wavelength > L / lowFreqFactor) return freq / factor;
  const smooth = (L / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
  return (1 - smooth) * (freq / factor) + smooth * freq;
}

/** cos/sin table computed in double precision, as [maxSeq][hd/2][cos, sin]. */
/** Floats of the RoPE table for positions 0..maxSeq-1: (cos, sin) per position and pair. */
export function ropeTableFloats(maxSeq: number, headDim: number): number {
  return maxSeq * (headDim / 2) * 2;
}

export function ropeTable(maxSeq: number, headDim: number, theta: number, scaling?: RopeScaling): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(ropeTableFloats(maxSeq, headDim));
  const freqs = Array.from({ length: half }, (_, i) => ropeFrequency(i, headDim, theta, scaling));
  for (let t = 0; t < maxSeq; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * freqs[i];
      out[(t * half + i) * 2] = Math.cos(a);
      out[(t * half + i) * 2 + 1] = Math.sin(a);
    }
  }
  return out;
}

// Generation's twin of `rope` (dir = +1), on token slots (kernels/slots.ts): slot n sits at
// position slots[n].pos of cache row slots[n].row.
// One thread per (slot, head of q|k|v, pair i); the rotation is `rope`'s, bit for bit.
// slots [nTok], qkv [N, (H + 2·KVH)·hd], table -> q (in place), kc, vc [rows, KVH, maxSeq, hd]
//   q_n ← rot(q_n, pos_n);  kc[row_n, g, pos_n] = rot(k_n,g, pos_n);  vc[row_n, g, pos_n] = v_n,g
export function ropeCacheWrite(d: { nHeads: number; nKvHeads: number; headDim: number }, maxSeq: number): Kernel {
  const half = d.headDim / 2;
  return {
    name: 'rope_cache_write',
    uniforms: [],
    code: `${SLOTS_WGSL}
const H = ${d.nHeads}u;
const KVH = ${d.nKvHeads}u;
const HD = ${d.headDim}u;
const HALF = ${half}u;
const S = ${(d.nHeads + 2 * d.nKvHeads) * d.headDim}u;
const MAX_SEQ = ${maxSeq}u;
@group(0) @binding(2) var<storage, read> slots: array<Tok>;
@group(0) @binding(3) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(4) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> kc: array<f32>;
@group(0) @binding(6) var<storage, read_write> vc: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let id = gid.x;
  let perRow = (H + 2u * KVH) * HALF;
  if (id >= dims.nTok * perRow) { return; }
  let n = id / perRow;
  let rest = id % perRow;
  let h = rest / HALF;
  let i = rest % HALF;
  let t = slots[n];
  let base = n * S + h * HD;
  let x1 = qkv[base + i];
  let x2 = qkv[base + i + HALF];
  if (h >= H + KVH) {
    let dst = ((t.row * KVH + h - H - KVH) * MAX_SEQ + t.pos) * HD;
    vc[dst + i] = x1;
    vc[dst + i + HALF] = x2;
    return;
  }
  let cs = table[t.pos * HALF + i];
  let s = cs.y;
  let r1 = x1 * cs.x - x2 * s;
  let r2 = x2 * cs.x + x1 * s;
  if (h < H) {
    qkv[base + i] = r1;
    qkv[base + i + HALF] = r2;
  } else {
    let dst = ((t.row * KVH + h - H) * MAX_SEQ + t.pos) * HD;
    kc[dst + i] = r1;
    kc[dst + i + HALF] = r2;
  }
}
`,
  };
}
