// RMSNorm: y = x · rstd · w with rstd = 1/sqrt(mean(x²) + eps), one thread per row.
import type { Kernel } from '../gpu/resources.ts';

// x [N, D], w [D] -> y [N, D], rstd [N]
//   rstd_n = 1/√(mean_j x_nj² + eps);  y_n = x_n · rstd_n · w
export function rmsnormForward(D: number): Kernel {
  return {
    name: 'rmsnorm_forward',
    uniforms: [['N', 'u32'], ['eps', 'f32']],
    code: `
const D4 = ${D / 4}u;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var ss = 0.0;
  for (var j = 0u; j < D4; j = j + 1u) { let v = x[n * D4 + j]; ss = ss + dot(v, v); }
  let r = inverseSqrt(ss / f32(${D}) + p.eps);
  rstd[n] = r;
  for (var j = 0u; j < D4; j = j + 1u) { y[n * D4 + j] = (x[n * D4 + j] * r) * w[j]; }
}
`,
  };
}

// dy [N, D], x [N, D], w [D], rstd [N] -> dx [N, D], added to dx when `accumulate` (the
// residual stream's gradient flows through unchanged), else stored
//   dx = rstd·w·dy − rstd³/D · x · Σ_j w_j dy_j x_j
export function rmsnormBackwardInput(D: number, accumulate: boolean): Kernel {
  return {
    name: `rmsnorm_backward_input_${accumulate ? 'accumulate' : 'store'}`,
    uniforms: [['N', 'u32']],
    code: `
const D4 = ${D / 4}u;
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  let r = rstd[n];
  var s = 0.0;
  for (var j = 0u; j < D4; j = j + 1u) { s = s + dot(w[j] * dy[n * D4 + j], x[n * D4 + j]); }
  let c = r * r * r * s / f32(${D});
  for (var j = 0u; j < D4; j = j + 1u) {
    let i = n * D4 + j;
    dx[i] = ${accumulate ? 'dx[i] + ' : ''}(r * w[j] * dy[i] - c * x[i]);
  }
}
`,
  };
}

// dy [N, D], x [N, D], rstd [N] -> dw [D]   (one thread per 4 columns)
//   dw_j += Σ_n dy_nj x_nj rstd_n
export function rmsnormBackwardWeight(D: number): Kernel {
  return {
    name: 'rmsnorm_backward_weight',
    uniforms: [['N', 'u32']],
    code: `
const D4 = ${D / 4}u;
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= D4) { return; }
  var acc = vec4<f32>(0.0);
  for (var n = 0u; n < p.N; n = n + 1u) { acc = acc + dy[n * D4 + j] * x[n * D4 + j] * rstd[n]; }
  dw[j] = dw[j] + acc;
}
`,
  };
}
