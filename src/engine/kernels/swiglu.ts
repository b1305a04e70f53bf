// SwiGLU gate: h = silu(g) · u, elementwise (vec4). gate and up sit side by side in one
// [N, 2·H] matrix (rows [gate | up], as the fused gate/up projection writes them).
import type { Kernel } from '../gpu/resources.ts';

// gu [N, 2H] -> h [N, H]
//   h = g·σ(g) · u
export function swigluForward(hidden: number): Kernel {
  return {
    name: 'swiglu_forward',
    uniforms: [['count4', 'u32']],
    code: `
const H4 = ${hidden / 4}u;
@group(0) @binding(1) var<storage, read> gu: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> h: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.count4) { return; }
  let gi = (i / H4) * 2u * H4 + i % H4;
  let g = gu[gi];
  let sig = 1.0 / (1.0 + exp(-g));
  h[i] = g * sig * gu[gi + H4];
}
`,
  };
}

// dh [N, H], gu [N, 2H] -> dgu [N, 2H] = [dgate | dup]
//   dgate = dh · u · σ(g)(1 + g(1 − σ(g))),  dup = dh · g·σ(g)
export function swigluBackward(hidden: number): Kernel {
  return {
    name: 'swiglu_backward',
    uniforms: [['count4', 'u32']],
    code: `
const H4 = ${hidden / 4}u;
@group(0) @binding(1) var<storage, read> dh: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gu: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dgu: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.count4) { return; }
  let gi = (i / H4) * 2u * H4 + i % H4;
  let g = gu[gi];
  let u = gu[gi + H4];
  let sig = 1.0 / (1.0 + exp(-g));
  let d = dh[i];
  dgu[gi] = d * u * sig * (1.0 + g * (1.0 - sig));
  dgu[gi + H4] = d * g * sig;
}
`,
  };
}

/** 1-D launches of 64-thread workgroups, split over y when x would exceed 65535. */
export function elementwiseWorkgroups(count: number): [number, number] {
  const groups = Math.ceil(count / 64);
  if (groups <= 65535) return [groups, 1];
  return [65535, Math.ceil(groups / 65535)];
}
