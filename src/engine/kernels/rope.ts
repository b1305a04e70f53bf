// Rotary position embedding, Hugging Face "rotate-half" convention: within each head the
// pair (i, i + hd/2) is rotated by angle pos·θ^(−2i/hd). Applied in place. The backward
// pass is the inverse rotation of the gradient (dir = −1), so no pre-rotation copy is kept.
import type { Kernel } from '../gpu/resources.ts';

// x [N, rowStride] whose first heads·hd columns are rotated (row n = b·T + t, position t);
// table [maxSeq, hd/2, 2] = (cos, sin). With x = [q | k | v] rows, heads = H + KVH rotates
// q and k in one dispatch.
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

/** cos/sin table computed in double precision, as [maxSeq][hd/2][cos, sin]. */
export function ropeTable(maxSeq: number, headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(maxSeq * half * 2);
  for (let t = 0; t < maxSeq; t++) {
    for (let i = 0; i < half; i++) {
      const invFreq = 1 / Math.pow(theta, (2 * i) / headDim);
      const a = t * invFreq;
      out[(t * half + i) * 2] = Math.cos(a);
      out[(t * half + i) * 2 + 1] = Math.sin(a);
    }
  }
  return out;
}
