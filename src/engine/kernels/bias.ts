// Biases of the q, k and v projections (Qwen2). The fused projection writes one [N, q+2kv]
// matrix of rows [q | k | v]; its three biases live in three parameter slots, so both
// kernels bind them separately and pick one by column.
import type { Kernel } from '../gpu/resources.ts';

const BIAS_BINDINGS = (access: 'read' | 'read_write') => `
@group(0) @binding(2) var<storage, ${access}> bq: array<f32>;
@group(0) @binding(3) var<storage, ${access}> bk: array<f32>;
@group(0) @binding(4) var<storage, ${access}> bv: array<f32>;`;

function widths(q: number, kv: number): string {
  return `const QW = ${q}u;\nconst KVW = ${kv}u;\nconst W = ${q + 2 * kv}u;`;
}

// qkv [N, q+2kv], bq [q], bk [kv], bv [kv] -> qkv (in place)
//   qkv[n, :] += [bq | bk | bv]
export function qkvBiasForward(q: number, kv: number): Kernel {
  return {
    name: 'qkv_bias_forward',
    uniforms: [['N', 'u32']],
    code: `
${widths(q, kv)}
@group(0) @binding(1) var<storage, read_write> qkv: array<f32>;${BIAS_BINDINGS('read')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.N * W) { return; }
  let j = i % W;
  var b = 0.0;
  if (j < QW) { b = bq[j]; } else if (j < QW + KVW) { b = bk[j - QW]; } else { b = bv[j - QW - KVW]; }
  qkv[i] = qkv[i] + b;
}
`,
  };
}

// dqkv [N, q+2kv] -> dbq [q], dbk [kv], dbv [kv] (accumulated)
//   d[bq | bk | bv][j] += Σ_n dqkv[n, j]; one thread per column, rows summed in order
export function qkvBiasBackward(q: number, kv: number): Kernel {
  return {
    name: 'qkv_bias_backward',
    uniforms: [['N', 'u32']],
    code: `
${widths(q, kv)}
@group(0) @binding(1) var<storage, read> dqkv: array<f32>;${BIAS_BINDINGS('read_write')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= W) { return; }
  var s = 0.0;
  for (var n = 0u; n < p.N; n = n + 1u) { s = s + dqkv[n * W + j]; }
  if (j < QW) { bq[j] = bq[j] + s; } else if (j < QW + KVW) { bk[j - QW] = bk[j - QW] + s; } else { bv[j - QW - KVW] = bv[j - QW - KVW] + s; }
}
`,
  };
}
