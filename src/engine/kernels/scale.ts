// Multiplies a tensor by a constant in place (LoRA's alpha / r on its rank-r activations).
import type { Kernel } from '../gpu/resources.ts';

// x [count4 vec4s] -> x (in place)
//   x = s·x
export function scaleInPlace(): Kernel {
  return {
    name: 'scale_in_place',
    uniforms: [['count4', 'u32'], ['s', 'f32']],
    code: `
@group(0) @binding(1) var<storage, read_write> x: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= p.count4) { return; }
  x[i] = x[i] * p.s;
}
`,
  };
}
