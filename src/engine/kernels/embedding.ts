// Token embedding lookup and its gradient. The backward pass is a gather, not a scatter:
// the CPU groups positions by token id (CSR: offsets [V+1], positions [N]), so each thread
// owns one (token, 4 columns) slice and sums its rows in a fixed order — deterministic,
// no atomics.
// A frozen model's 16-bit table (format 'f16'/'bf16', half.ts) is read as vec2<u32>, four
// packed values, and unpacked to f32.
import type { Kernel } from '../gpu/resources.ts';
import { unpack4Wgsl, type WeightFormat } from '../half.ts';

// ids [N] i32, E [V, D] -> x [N, D]
//   x_n = E[ids_n]
export function embeddingForward(D: number, format: WeightFormat = 'f32'): Kernel {
  const packed = format !== 'f32';
  return {
    name: packed ? `embedding_forward_${format}` : 'embedding_forward',
    uniforms: [['N', 'u32']],
    code: `
const D4 = ${D / 4}u;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read> E: array<${packed ? 'vec2<u32>' : 'vec4<f32>'}>;
@group(0) @binding(3) var<storage, read_write> x: array<vec4<f32>>;${packed ? `\n${unpack4Wgsl(format)}` : ''}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.N * D4) { return; }
  let n = i / D4;
  let j = i % D4;
  x[i] = ${packed ? 'unpack4(E[u32(ids[n]) * D4 + j])' : 'E[u32(ids[n]) * D4 + j]'};
}
`,
  };
}

// dx [N, D], csrOffsets [V+1], csrPositions [N] -> dE [V, D]
//   dE_v += Σ_{n: ids_n = v} dx_n   (the positions of token v, in CSR order)
export function embeddingBackward(D: number): Kernel {
  return {
    name: 'embedding_backward',
    uniforms: [['V', 'u32']],
    code: `
const D4 = ${D / 4}u;
@group(0) @binding(1) var<storage, read> dx: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> positions: array<u32>;
@group(0) @binding(4) var<storage, read_write> dE: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.V * D4) { return; }
  let v = i / D4;
  let j = i % D4;
  let start = offsets[v];
  let end = offsets[v + 1u];
  if (start == end) { return; }
  var acc = vec4<f32>(0.0);
  for (var q = start; q < end; q = q + 1u) { acc = acc + dx[positions[q] * D4 + j]; }
  dE[i] = dE[i] + acc;
}
`,
  };
}
