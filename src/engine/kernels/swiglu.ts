// SwiGLU gate: h = silu(g) · u, elementwise (vec4).
import type { Kernel } from '../gpu/resources.ts';

// gate [N, H], up [N, H] -> h [N, H]
export function swigluForward(): Kernel {
  return {
    name: 'swiglu_forward',
    uniforms: [['count4', 'u32']],
    code: `
@group(0) @binding(1) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> h: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.count4) { return; }
  let g = gate[i];
  let sig = 1.0 / (1.0 + exp(-g));
  h[i] = g * sig * up[i];
}
`,
  };
}

// dh [N, H], gate, up -> dgate, dup
//   dgate = dh · u · σ(g)(1 + g(1 − σ(g))),  dup = dh · g·σ(g)
export function swigluBackward(): Kernel {
  return {
    name: 'swiglu_backward',
    uniforms: [['count4', 'u32']],
    code: `
@group(0) @binding(1) var<storage, read> dh: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dgate: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dup: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.count4) { return; }
  let g = gate[i];
  let sig = 1.0 / (1.0 + exp(-g));
  let d = dh[i];
  dgate[i] = d * up[i] * sig * (1.0 + g * (1.0 - sig));
  dup[i] = d * g * sig;
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
