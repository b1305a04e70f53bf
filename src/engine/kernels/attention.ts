// Causal grouped-query self-attention. Query head h reads key/value head h / (H / KVH).
// q, k and v live side by side in one [N, q + 2·kv] matrix (rows [q | k | v], as the fused
// QKV projection writes them); their gradients likewise in dqkv. The softmax probabilities
// P are kept for the backward pass (B·H·T² floats per layer); attention-recompute.ts is the
// variant that keeps only each row's log-sum-exp and recomputes P in the backward pass.
import type { Kernel } from '../gpu/resources.ts';

export interface AttentionDims {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
}

/** Repeats a line for every 4-wide chunk c of a head (unrolled: SwiftShader spills
 *  dynamically indexed private arrays to memory, named registers stay registers). */
export const NL4 = '\n    ';
export function unroll(d: AttentionDims, line: (c: number) => string, sep = '\n  '): string {
  return Array.from({ length: d.headDim / 4 }, (_, c) => line(c)).join(sep);
}

export function consts(d: AttentionDims): string {
  return `
const H = ${d.nHeads}u;
const KVH = ${d.nKvHeads}u;
const HD4 = ${d.headDim / 4}u;
const QD4 = ${(d.nHeads * d.headDim) / 4}u;
const KVD4 = ${(d.nKvHeads * d.headDim) / 4}u;
const S4 = ${((d.nHeads + 2 * d.nKvHeads) * d.headDim) / 4}u;
const KOFF4 = ${(d.nHeads * d.headDim) / 4}u;
const VOFF4 = ${((d.nHeads + d.nKvHeads) * d.headDim) / 4}u;
const GROUP = ${d.nHeads / d.nKvHeads}u;
const SCALE = ${1 / Math.sqrt(d.headDim)};
`;
}

/** Query rows per thread in attention_forward / attention_backward_query: each k_s / v_s
 *  row read serves this many queries (SwiftShader is bound by loads, not arithmetic). */
export const QUERIES_PER_THREAD = 4;

export function rowsPrologue(): string {
  const R = QUERIES_PER_THREAD;
  return `let blocks = (p.T + ${R - 1}u) / ${R}u;
  let id = gid.x;
  if (id >= p.B * H * blocks) { return; }
  let tb = (id % blocks) * ${R}u;
  let h = (id / blocks) % H;
  let b = id / (blocks * H);
  let kvh = h / GROUP;
  let tLast = min(tb + ${R - 1}u, p.T - 1u);`;
}

export const eachRow = (f: (i: number) => string, sep = '\n  ') => Array.from({ length: QUERIES_PER_THREAD }, (_, i) => f(i)).join(sep);

// qkv [N, (H + 2·KVH)·hd] -> P [B, H, T, T], out [N, H·hd];
// one thread per (b, h, QUERIES_PER_THREAD consecutive query positions)
//   S_ts = scale q_t·k_s (s ≤ t);  P_t = softmax_s(S_t);  out_t = Σ_s P_ts v_s
export function attentionForward(d: AttentionDims): Kernel {
  return {
    name: 'attention_forward',
    uniforms: [['B', 'u32'], ['T', 'u32']],
    code: `${consts(d)}
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> P: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${rowsPrologue()}
  ${eachRow((i) => `let t${i} = min(tb + ${i}u, tLast); let live${i} = tb + ${i}u < p.T;
  let pBase${i} = ((b * H + h) * p.T + t${i}) * p.T;
  ${unroll(d, (c) => `let q${i}_${c} = qkv[(b * p.T + t${i}) * S4 + h * HD4 + ${c}u];`)}
  var mx${i} = -3.0e38;`)}
  // scores (and row maxima); a row only takes keys s ≤ its own t
  for (var s = 0u; s <= tLast; s = s + 1u) {
    let kBase = (b * p.T + s) * S4 + KOFF4 + kvh * HD4;
    ${unroll(d, (c) => `let k${c} = qkv[kBase + ${c}u];`, NL4)}
    ${eachRow((i) => `if (live${i} && s <= t${i}) { let sc = (${unroll(d, (c) => `dot(q${i}_${c}, k${c})`, ' + ')}) * SCALE; P[pBase${i} + s] = sc; mx${i} = max(mx${i}, sc); }`, NL4)}
  }
  ${eachRow((i) => `var sum${i} = 0.0;
  if (live${i}) { for (var s = 0u; s <= t${i}; s = s + 1u) { let e = exp(P[pBase${i} + s] - mx${i}); P[pBase${i} + s] = e; sum${i} = sum${i} + e; } }
  let inv${i} = 1.0 / max(sum${i}, 1e-30);
  ${unroll(d, (c) => `var a${i}_${c} = vec4<f32>(0.0);`)}`)}
  // normalise and accumulate P·v
  for (var s = 0u; s <= tLast; s = s + 1u) {
    let vBase = (b * p.T + s) * S4 + VOFF4 + kvh * HD4;
    ${unroll(d, (c) => `let v${c} = qkv[vBase + ${c}u];`, NL4)}
    ${eachRow((i) => `if (live${i} && s <= t${i}) { let pr = P[pBase${i} + s] * inv${i}; P[pBase${i} + s] = pr; ${unroll(d, (c) => `a${i}_${c} = a${i}_${c} + pr * v${c};`, ' ')} }`, NL4)}
  }
  ${eachRow((i) => `if (live${i}) {
    for (var s = t${i} + 1u; s < p.T; s = s + 1u) { P[pBase${i} + s] = 0.0; }
    let oBase = (b * p.T + t${i}) * QD4 + h * HD4;
    ${unroll(d, (c) => `out[oBase + ${c}u] = a${i}_${c};`, NL4)}
  }`)}
}
`,
  };
}

// dout [N, H·hd], P, qkv -> dS [B, H, T, T] (gradient of the pre-softmax scores, scale
// included), dq (the q columns of dqkv); one thread per (b, h, QUERIES_PER_THREAD queries)
//   dP_s = dout_t · v_s;  dS_s = P_s (dP_s − Σ_r P_r dP_r) · scale;  dq_t = Σ_s dS_s k_s
export function attentionBackwardQuery(d: AttentionDims): Kernel {
  return {
    name: 'attention_backward_query',
    uniforms: [['B', 'u32'], ['T', 'u32']],
    code: `${consts(d)}
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> P: array<f32>;
@group(0) @binding(3) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dS: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${rowsPrologue()}
  ${eachRow((i) => `let t${i} = min(tb + ${i}u, tLast); let live${i} = tb + ${i}u < p.T;
  let pBase${i} = ((b * H + h) * p.T + t${i}) * p.T;
  ${unroll(d, (c) => `let g${i}_${c} = dout[(b * p.T + t${i}) * QD4 + h * HD4 + ${c}u];`)}
  var D${i} = 0.0;`)}
  for (var s = 0u; s <= tLast; s = s + 1u) {
    let vBase = (b * p.T + s) * S4 + VOFF4 + kvh * HD4;
    ${unroll(d, (c) => `let v${c} = qkv[vBase + ${c}u];`, NL4)}
    ${eachRow((i) => `if (live${i} && s <= t${i}) { let dp = ${unroll(d, (c) => `dot(g${i}_${c}, v${c})`, ' + ')}; dS[pBase${i} + s] = dp; D${i} = D${i} + P[pBase${i} + s] * dp; }`, NL4)}
  }
  ${eachRow((i) => unroll(d, (c) => `var a${i}_${c} = vec4<f32>(0.0);`))}
  for (var s = 0u; s <= tLast; s = s + 1u) {
    let kBase = (b * p.T + s) * S4 + KOFF4 + kvh * HD4;
    ${unroll(d, (c) => `let k${c} = qkv[kBase + ${c}u];`, NL4)}
    ${eachRow((i) => `if (live${i} && s <= t${i}) { let ds = P[pBase${i} + s] * (dS[pBase${i} + s] - D${i}) * SCALE; dS[pBase${i} + s] = ds; ${unroll(d, (c) => `a${i}_${c} = a${i}_${c} + ds * k${c};`, ' ')} }`, NL4)}
  }
  ${eachRow((i) => `if (live${i}) {
    let qBase = (b * p.T + t${i}) * S4 + h * HD4;
    ${unroll(d, (c) => `dqkv[qBase + ${c}u] = a${i}_${c};`, NL4)}
  }`)}
}
`,
  };
}

export const KV_POSITIONS_PER_THREAD = 4;

// dS, P, qkv, dout -> dk, dv (the k and v columns of dqkv); one thread per (b, kvh, 4
// consecutive key positions s), so each q_t / dout_t row read serves four positions
//   dk_s = Σ_{h in group} Σ_{t ≥ s} dS[h,t,s] q_t;   dv_s = Σ_h Σ_{t ≥ s} P[h,t,s] dout_t
export function attentionBackwardKeyValue(d: AttentionDims): Kernel {
  const SP = KV_POSITIONS_PER_THREAD;
  const each = (f: (i: number) => string, sep = '\n  ') => Array.from({ length: SP }, (_, i) => f(i)).join(sep);
  return {
    name: 'attention_backward_key_value',
    uniforms: [['B', 'u32'], ['T', 'u32']],
    code: `${consts(d)}
@group(0) @binding(1) var<storage, read> dS: array<f32>;
@group(0) @binding(2) var<storage, read> P: array<f32>;
@group(0) @binding(3) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = (p.T + ${SP - 1}u) / ${SP}u;
  let id = gid.x;
  if (id >= p.B * KVH * blocks) { return; }
  let s0 = (id % blocks) * ${SP}u;
  let kvh = (id / blocks) % KVH;
  let b = id / (blocks * KVH);
  ${each((i) => unroll(d, (c) => `var k${i}_${c} = vec4<f32>(0.0); var v${i}_${c} = vec4<f32>(0.0);`))}
  for (var g = 0u; g < GROUP; g = g + 1u) {
    let h = kvh * GROUP + g;
    let rowBase = (b * H + h) * p.T;
    for (var t = s0; t < p.T; t = t + 1u) {
      let pRow = (rowBase + t) * p.T;
      // entries with s > t are not part of the causal row (dS there is not written)
      ${each((i) => `let ok${i} = s0 + ${i}u <= t; let pi${i} = pRow + min(s0 + ${i}u, p.T - 1u); let ds${i} = select(0.0, dS[pi${i}], ok${i}); let pr${i} = select(0.0, P[pi${i}], ok${i});`, '\n      ')}
      let qi = (b * p.T + t) * S4 + h * HD4;
      let oi = (b * p.T + t) * QD4 + h * HD4;
      ${unroll(d, (c) => `{ let qc = qkv[qi + ${c}u]; let oc = dout[oi + ${c}u]; ${each((i) => `k${i}_${c} = k${i}_${c} + ds${i} * qc; v${i}_${c} = v${i}_${c} + pr${i} * oc;`, ' ')} }`, '\n      ')}
    }
  }
  ${each((i) => `if (s0 + ${i}u < p.T) {
    let o = (b * p.T + s0 + ${i}u) * S4 + kvh * HD4;
    ${unroll(d, (c) => `dqkv[o + KOFF4 + ${c}u] = k${i}_${c}; dqkv[o + VOFF4 + ${c}u] = v${i}_${c};`, '\n    ')}
  }`)}
}
`,
  };
}
