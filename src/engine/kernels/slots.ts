// Token slots: generation runs the model on a list of slots, slot n = (token id, cache row,
// position, is-last-of-row), so one plan serves a ragged prefill (every uncached prompt
// token of every row, flattened) and a decode step (one slot per row). The engine's
// row-wise kernels (embedding, RMSNorm, matmul, SwiGLU) treat slots as rows; the kernels
// that need a slot's row or position (the KV-cache write, cached attention, gather,
// sampling) read `slots`. Values that change per submit (slot count, rows, sampling
// settings) live in the `Dims` uniform, written before each submit and bound at binding 1.
import type { Kernel } from '../gpu/resources.ts';

export const DIMS_BYTES = 32;

export const SLOTS_WGSL = /* wgsl */ `
struct Dims {
  nTok: u32,        // token slots in this submit (a prefill chunk, or one per row in decode)
  nRows: u32,       // batch rows of this call
  topK: u32,        // 0 = no top-k filter
  nStop: u32,       // entries used in stopIds
  temperature: f32, // 0 = greedy
  maxNew: u32,      // new tokens per row (the call's limit)
  _pad0: u32,
  _pad1: u32,
};
struct Tok { id: u32, row: u32, pos: u32, last: u32 };
struct RowState { promptLen: u32, count: u32, finished: u32, maxNew: u32 };
@group(0) @binding(1) var<uniform> dims: Dims;
`;

/** Dims as written with queue.writeBuffer. */
export function dimsBytes(d: { nTok: number; nRows: number; topK: number; nStop: number; temperature: number; maxNew: number }): ArrayBuffer {
  const buf = new ArrayBuffer(DIMS_BYTES);
  const u = new Uint32Array(buf);
  new Float32Array(buf)[4] = d.temperature;
  [u[0], u[1], u[2], u[3], u[5]] = [d.nTok, d.nRows, d.topK, d.nStop, d.maxNew];
  return buf;
}

// Each row's newest slot, the head's input; one thread per (slot, 4 columns).
// slots [nTok], x [N, D] -> lastX [nRows, D]
//   lastX[row_n] = x_n  for the slots n with last_n = 1
export function gatherLast(D: number): Kernel {
  return {
    name: 'gather_last',
    uniforms: [],
    code: `${SLOTS_WGSL}
const D4 = ${D / 4}u;
@group(0) @binding(2) var<storage, read> slots: array<Tok>;
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> lastX: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= dims.nTok * D4) { return; }
  let t = slots[i / D4];
  if (t.last != 0u) { lastX[t.row * D4 + i % D4] = x[i]; }
}
`,
  };
}
