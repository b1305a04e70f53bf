// Generation's twin of attention_forward (attention.ts): causal grouped-query attention of
// token slots (kernels/slots.ts) over the KV cache, where ropeCacheWrite has put every
// slot's rotated k and its v. Slot n at position pos attends to its own cache row's
// positions 0..pos. The arithmetic is attention_forward's, step for step (scores as sums of
// vec4 dot products × scale, the row maximum, exp(score − max) summed in position order,
// probabilities p·(1/Σ) times v accumulated in position order), so a slot's output equals
// the training forward pass's output for the same token, bit for bit where the compiler
// treats both kernels alike; nothing depends on the other slots of the submit.
//   'thread':    one thread per (slot, head); three passes over the keys (maximum, sum,
//                p·v) recompute the scores instead of storing them; no barriers, the
//                choice for software adapters (SwiftShader), where barriers are slow.
//   'workgroup': one 64-thread workgroup per (slot, head); scores in workgroup memory
//                (maxSeq floats), maximum by tree reduction, sum in order on one thread.
import type { Kernel } from '../gpu/resources.ts';
import { consts, NL4, unroll, type AttentionDims } from './attention.ts';
import { SLOTS_WGSL } from './slots.ts';

export type AttentionCachedVariant = 'thread' | 'workgroup';

/** Workgroup memory the 'workgroup' variant needs at a cache length. */
export function attentionCachedWorkgroupBytes(maxSeq: number): number {
  return maxSeq * 4 + 64 * 4;
}

/** Bindings: v and out as vec4s ('thread') or as floats ('workgroup': a thread per column). */
function header(d: AttentionDims, maxSeq: number, elem: string): string {
  return `${SLOTS_WGSL}${consts(d)}
const MAX_SEQ = ${maxSeq}u;
@group(0) @binding(2) var<storage, read> slots: array<Tok>;
@group(0) @binding(3) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> kc: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> vc: array<${elem}>;
@group(0) @binding(6) var<storage, read_write> out: array<${elem}>;
`;
}

/** sc = q·k_s × scale with k_s at kc[kBase …], as attention_forward computes it. */
const score = (d: AttentionDims) => `${unroll(d, (c) => `let k${c} = kc[kBase + ${c}u];`, NL4)}
    let sc = (${unroll(d, (c) => `dot(q${c}, k${c})`, ' + ')}) * SCALE;`;

// slots [nTok], qkv [N, (H + 2·KVH)·hd] (q rotated), kc/vc [rows, KVH, maxSeq, hd] -> out [N, H·hd]
//   out_n,h = Σ_{s ≤ pos_n} p_s v_s,  p = softmax_s(scale · q_n,h · k_s), k/v: row_n's cache, kv head h / (H/KVH)
export function attentionCached(d: AttentionDims, maxSeq: number, variant: AttentionCachedVariant): Kernel {
  return { name: `attention_cached_${variant}`, uniforms: [], code: variant === 'thread' ? threadCode(d, maxSeq) : workgroupCode(d, maxSeq) };
}

/** Dispatch size for N slot rows. */
export function attentionCachedWorkgroups(d: AttentionDims, N: number, variant: AttentionCachedVariant): [number, number] {
  return variant === 'thread' ? [Math.ceil((N * d.nHeads) / 64), 1] : [N, d.nHeads];
}

function threadCode(d: AttentionDims, maxSeq: number): string {
  return `${header(d, maxSeq, 'vec4<f32>')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let id = gid.x;
  if (id >= dims.nTok * H) { return; }
  let n = id / H;
  let h = id % H;
  let t = slots[n];
  let cache = (t.row * KVH + h / GROUP) * MAX_SEQ * HD4;
  ${unroll(d, (c) => `let q${c} = qkv[n * S4 + h * HD4 + ${c}u];`)}
  var mx = -3.0e38;
  for (var s = 0u; s <= t.pos; s = s + 1u) {
    let kBase = cache + s * HD4;
    ${score(d)}
    mx = max(mx, sc);
  }
  var sum = 0.0;
  for (var s = 0u; s <= t.pos; s = s + 1u) {
    let kBase = cache + s * HD4;
    ${score(d)}
    sum = sum + exp(sc - mx);
  }
  let inv = 1.0 / max(sum, 1e-30);
  ${unroll(d, (c) => `var a${c} = vec4<f32>(0.0);`)}
  for (var s = 0u; s <= t.pos; s = s + 1u) {
    let kBase = cache + s * HD4;
    ${score(d)}
    let pr = exp(sc - mx) * inv;
    ${unroll(d, (c) => `a${c} = a${c} + pr * vc[kBase + ${c}u];`, NL4)}
  }
  ${unroll(d, (c) => `out[n * QD4 + h * HD4 + ${c}u] = a${c};`)}
}
`;
}

function workgroupCode(d: AttentionDims, maxSeq: number): string {
  return `${header(d, maxSeq, 'f32')}
const HD = ${d.headDim}u;
var<workgroup> scores: array<f32, MAX_SEQ>;
var<workgroup> red: array<f32, 64>;
var<workgroup> invSum: f32;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let n = wid.x;
  let h = wid.y;
  let lid = lid3.x;
  if (n >= dims.nTok) { return; }
  let t = slots[n];
  let len = t.pos + 1u;
  let cache = (t.row * KVH + h / GROUP) * MAX_SEQ * HD4;
  ${unroll(d, (c) => `let q${c} = qkv[n * S4 + h * HD4 + ${c}u];`)}
  var m = -3.0e38;
  for (var s = lid; s < len; s = s + 64u) {
    let kBase = cache + s * HD4;
    ${score(d)}
    scores[s] = sc;
    m = max(m, sc);
  }
  red[lid] = m;
  workgroupBarrier();
  for (var st = 32u; st > 0u; st = st >> 1u) {
    if (lid < st) { red[lid] = max(red[lid], red[lid + st]); }
    workgroupBarrier();
  }
  let mx = red[0];
  for (var s = lid; s < len; s = s + 64u) { scores[s] = exp(scores[s] - mx); }
  workgroupBarrier();
  if (lid == 0u) {
    var sum = 0.0;
    for (var s = 0u; s < len; s = s + 1u) { sum = sum + scores[s]; }
    invSum = 1.0 / max(sum, 1e-30);
  }
  workgroupBarrier();
  let inv = invSum;
  let vBase = cache * 4u;
  for (var i = lid; i < HD; i = i + 64u) {
    var a = 0.0;
    for (var s = 0u; s < len; s = s + 1u) { a = a + (scores[s] * inv) * vc[vBase + s * HD + i]; }
    out[(n * QD4 + h * HD4) * 4u + i] = a;
  }
}
`;
}
