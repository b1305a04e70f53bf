// Global-norm gradient clipping and AdamW, entirely on the GPU. Step-dependent values
// (learning rate, bias corrections) arrive in a small `hyper` uniform the trainer writes
// with queue.writeBuffer before submitting the step.
//   stats: [0] loss, [1] gradient norm, [2] clip scale
import type { Kernel } from '../gpu/resources.ts';

export const GRADNORM_GROUPS = 64;

const HYPER = `struct Hyper {
  lr: f32,
  weightDecay: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  biasCorrection1: f32,
  biasCorrection2Sqrt: f32,
  gradClip: f32,
}`;

/** Layout of the hyper uniform (8 f32), in WGSL field order. */
export const HYPER_FIELDS = ['lr', 'weightDecay', 'beta1', 'beta2', 'eps', 'biasCorrection1', 'biasCorrection2Sqrt', 'gradClip'] as const;

// grads [total] -> partial [GRADNORM_GROUPS] sums of squares
//   partial_g = Σ_{i in block g} grads_i²
export function gradNormPartial(): Kernel {
  return {
    name: 'gradnorm_partial',
    uniforms: [['count4', 'u32']],
    code: `
@group(0) @binding(1) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
var<workgroup> part: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  var s = 0.0;
  for (var i = wid.x * 64u + lid.x; i < p.count4; i = i + ${GRADNORM_GROUPS * 64}u) { let g = grads[i]; s = s + dot(g, g); }
  part[lid.x] = s;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w = w / 2u) {
    if (lid.x < w) { part[lid.x] = part[lid.x] + part[lid.x + w]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { partial[wid.x] = part[0]; }
}
`,
  };
}

// partial [GRADNORM_GROUPS] -> stats[1], stats[2]
//   ‖g‖ = √(Σ_g partial_g);  stats[1] = ‖g‖;  stats[2] = min(1, clip / (‖g‖ + 1e-6)) (1 when clip ≤ 0)
export function gradNormFinish(): Kernel {
  return {
    name: 'gradnorm_finish',
    uniforms: [],
    code: `${HYPER}
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<uniform> hyper: Hyper;
@compute @workgroup_size(1)
fn main() {
  var s = 0.0;
  for (var i = 0u; i < ${GRADNORM_GROUPS}u; i = i + 1u) { s = s + partial[i]; }
  let norm = sqrt(s);
  stats[1] = norm;
  var scale = 1.0;
  if (hyper.gradClip > 0.0) { scale = min(1.0, hyper.gradClip / (norm + 1e-6)); }
  stats[2] = scale;
}
`,
  };
}

// params, grads, m, v [total]; decayMask [total / 64] (1 = apply weight decay; every
// 64-float block belongs to one tensor because slots are 64-float aligned) -> params, m, v (in place)
//   PyTorch AdamW order: p ← p(1 − lr·wd); m, v updated; p ← p − lr/bc1 · m / (√v/√bc2 + eps)
export function adamw(): Kernel {
  return {
    name: 'adamw',
    uniforms: [['blocks', 'u32'], ['blocksX', 'u32']],
    code: `${HYPER}
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> decayMask: array<u32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>;
@group(0) @binding(7) var<uniform> hyper: Hyper;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let block = wid.x + wid.y * p.blocksX;
  if (block >= p.blocks) { return; }
  let i = block * 64u + lid.x;
  let g = grads[i] * stats[2];
  var w = params[i];
  if (decayMask[block] != 0u) { w = w * (1.0 - hyper.lr * hyper.weightDecay); }
  let mi = hyper.beta1 * m[i] + (1.0 - hyper.beta1) * g;
  let vi = hyper.beta2 * v[i] + (1.0 - hyper.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / hyper.biasCorrection2Sqrt + hyper.eps;
  params[i] = w - (hyper.lr / hyper.biasCorrection1) * (mi / denom);
}
`,
  };
}
