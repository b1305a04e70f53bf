// Causal grouped-query self-attention that keeps no B·H·T² buffer (the 'recompute' mode of
// the workspace). The forward pass stores each query row's log-sum-exp lse_t (B·H·T floats
// per layer); the backward pass recomputes p_ts = exp(scale·q_t·k_s − lse_t) where it needs
// it. With D_t = dout_t · out_t (= Σ_s p_ts dP_ts, one dot product per query and head):
//   dS_ts = p_ts (dout_t·v_s − D_t) · scale
//   dq_t = Σ_{s ≤ t} dS_ts k_s;   dk_s = Σ_h Σ_{t ≥ s} dS_ts q_t;   dv_s = Σ_h Σ_{t ≥ s} p_ts dout_t
// Layout, GQA grouping and thread blocking as in attention.ts.
import type { Kernel } from '../gpu/resources.ts';
import { consts, eachRow, KV_POSITIONS_PER_THREAD, NL4, rowsPrologue, unroll, type AttentionDims } from './attention.ts';

// qkv [N, (H + 2·KVH)·hd] -> lse [B, H, T], out [N, H·hd]; one thread per (b, h,
// QUERIES_PER_THREAD consecutive queries). Online softmax: one pass over the keys keeps a
// running maximum m, the sum l of exp(score − m) and the unnormalised p·v, rescaling
// both by exp(m_old − m_new) whenever the maximum grows.
//   m_t = max_s S_ts;  l_t = Σ_s exp(S_ts − m_t);  out_t = Σ_s exp(S_ts − m_t) v_s / l_t;  lse_t = m_t + log l_t
export function attentionForwardLse(d: AttentionDims): Kernel {
  return {
    name: 'attention_forward_lse',
    uniforms: [['B', 'u32'], ['T', 'u32']],
    code: `${consts(d)}
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${rowsPrologue()}
  ${eachRow((i) => `let t${i} = min(tb + ${i}u, tLast); let live${i} = tb + ${i}u < p.T;
  ${unroll(d, (c) => `let q${i}_${c} = qkv[(b * p.T + t${i}) * S4 + h * HD4 + ${c}u];`)}
  ${unroll(d, (c) => `var a${i}_${c} = vec4<f32>(0.0);`)}
  var m${i} = -3.0e38;
  var l${i} = 0.0;`)}
  for (var s = 0u; s <= tLast; s = s + 1u) {
    let kBase = (b * p.T + s) * S4 + KOFF4 + kvh * HD4;
    let vBase = (b * p.T + s) * S4 + VOFF4 + kvh * HD4;
    ${unroll(d, (c) => `let k${c} = qkv[kBase + ${c}u]; let v${c} = qkv[vBase + ${c}u];`, NL4)}
    ${eachRow((i) => `if (live${i} && s <= t${i}) {
      let sc = (${unroll(d, (c) => `dot(q${i}_${c}, k${c})`, ' + ')}) * SCALE;
      let mNew = max(m${i}, sc); let corr = exp(m${i} - mNew); let e = exp(sc - mNew);
      l${i} = l${i} * corr + e; m${i} = mNew;
      ${unroll(d, (c) => `a${i}_${c} = a${i}_${c} * corr + e * v${c};`, ' ')}
    }`, NL4)}
  }
  ${eachRow((i) => `if (live${i}) {
    let inv = 1.0 / l${i};
    lse[(b * H + h) * p.T + t${i}] = m${i} + log(l${i});
    let oBase = (b * p.T + t${i}) * QD4 + h * HD4;
    ${unroll(d, (c) => `out[oBase + ${c}u] = a${i}_${c} * inv;`, NL4)}
  }`)}
}
`,
  };
}

// dout [N, H·hd], out [N, H·hd], lse, qkv -> delta [B, H, T] (D_t = dout_t · out_t, for
// attention_backward_key_value_lse), dq (the q columns of dqkv); one thread per (b, h,
// QUERIES_PER_THREAD queries)
//   p_s = exp(scale q_t·k_s − lse_t);  dS_s = p_s (dout_t·v_s − D_t) · scale;  dq_t = Σ_s dS_s k_s
export function attentionBackwardQueryLse(d: AttentionDims): Kernel {
  return {
    name: 'attention_backward_query_lse',
    uniforms: [['B', 'u32'], ['T', 'u32']],
    code: `${consts(d)}
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> out: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> dqkv: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${rowsPrologue()}
  ${eachRow((i) => `let t${i} = min(tb + ${i}u, tLast); let live${i} = tb + ${i}u < p.T;
  let row${i} = (b * H + h) * p.T + t${i};
  let oBase${i} = (b * p.T + t${i}) * QD4 + h * HD4;
  ${unroll(d, (c) => `let q${i}_${c} = qkv[(b * p.T + t${i}) * S4 + h * HD4 + ${c}u];`)}
  ${unroll(d, (c) => `let g${i}_${c} = dout[oBase${i} + ${c}u];`)}
  ${unroll(d, (c) => `var a${i}_${c} = vec4<f32>(0.0);`)}
  let lse${i} = lse[row${i}];
  let D${i} = ${unroll(d, (c) => `dot(g${i}_${c}, out[oBase${i} + ${c}u])`, ' + ')};
  if (live${i}) { delta[row${i}] = D${i}; }`)}
  for (var s = 0u; s <= tLast; s = s + 1u) {
    let kBase = (b * p.T + s) * S4 + KOFF4 + kvh * HD4;
    let vBase = (b * p.T + s) * S4 + VOFF4 + kvh * HD4;
    ${unroll(d, (c) => `let k${c} = qkv[kBase + ${c}u]; let v${c} = qkv[vBase + ${c}u];`, NL4)}
    ${eachRow((i) => `if (live${i} && s <= t${i}) {
      let pr = exp((${unroll(d, (c) => `dot(q${i}_${c}, k${c})`, ' + ')}) * SCALE - lse${i});
      let ds = pr * ((${unroll(d, (c) => `dot(g${i}_${c}, v${c})`, ' + ')}) - D${i}) * SCALE;
      ${unroll(d, (c) => `a${i}_${c} = a${i}_${c} + ds * k${c};`, ' ')}
    }`, NL4)}
  }
  ${eachRow((i) => `if (live${i}) {
    let qBase = (b * p.T + t${i}) * S4 + h * HD4;
    ${unroll(d, (c) => `dqkv[qBase + ${c}u] = a${i}_${c};`, NL4)}
  }`)}
}
`,
  };
}

// qkv, dout, lse, delta -> dk, dv (the k and v columns of dqkv); one thread per (b, kvh,
// KV_POSITIONS_PER_THREAD consecutive key positions s), as attention_backward_key_value, so
// each q_t / dout_t row read serves that many positions; k_s and v_s stay in registers to
// recompute p_ts and dS_ts
//   dk_s = Σ_{h in group} Σ_{t ≥ s} dS_ts q_t;   dv_s = Σ_h Σ_{t ≥ s} p_ts dout_t
export function attentionBackwardKeyValueLse(d: AttentionDims): Kernel {
  const SP = KV_POSITIONS_PER_THREAD;
  const each = (f: (i: number) => string, sep = '\n  ') => Array.from({ length: SP }, (_, i) => f(i)).join(sep);
  return {
    name: 'attention_backward_key_value_lse',
    uniforms: [['B', 'u32'], ['T', 'u32']],
    code: `${consts(d)}
@group(0) @binding(1) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = (p.T + ${SP - 1}u) / ${SP}u;
  let id = gid.x;
  if (id >= p.B * KVH * blocks) { return; }
  let s0 = (id % blocks) * ${SP}u;
  let kvh = (id / blocks) % KVH;
  let b = id / (blocks * KVH);
  ${each((i) => `let kr${i} = (b * p.T + min(s0 + ${i}u, p.T - 1u)) * S4 + kvh * HD4;
  ${unroll(d, (c) => `let k${i}_${c} = qkv[kr${i} + KOFF4 + ${c}u]; let v${i}_${c} = qkv[kr${i} + VOFF4 + ${c}u];`)}
  ${unroll(d, (c) => `var dk${i}_${c} = vec4<f32>(0.0); var dv${i}_${c} = vec4<f32>(0.0);`)}`)}
  for (var g = 0u; g < GROUP; g = g + 1u) {
    let h = kvh * GROUP + g;
    let rowBase = (b * H + h) * p.T;
    for (var t = s0; t < p.T; t = t + 1u) {
      let lseT = lse[rowBase + t];
      let dT = delta[rowBase + t];
      let qi = (b * p.T + t) * S4 + h * HD4;
      let oi = (b * p.T + t) * QD4 + h * HD4;
      ${unroll(d, (c) => `let q${c} = qkv[qi + ${c}u]; let o${c} = dout[oi + ${c}u];`, '\n      ')}
      // positions s > t are outside the causal row: p = 0 there (select drops any overflow)
      ${each((i) => `let pr${i} = select(0.0, exp((${unroll(d, (c) => `dot(q${c}, k${i}_${c})`, ' + ')}) * SCALE - lseT), s0 + ${i}u <= t);
      let ds${i} = pr${i} * ((${unroll(d, (c) => `dot(o${c}, v${i}_${c})`, ' + ')}) - dT) * SCALE;`, '\n      ')}
      ${unroll(d, (c) => each((i) => `dk${i}_${c} = dk${i}_${c} + ds${i} * q${c}; dv${i}_${c} = dv${i}_${c} + pr${i} * o${c};`, ' '), '\n      ')}
    }
  }
  ${each((i) => `if (s0 + ${i}u < p.T) {
    let o = (b * p.T + s0 + ${i}u) * S4 + kvh * HD4;
    ${unroll(d, (c) => `dqkv[o + KOFF4 + ${c}u] = dk${i}_${c}; dqkv[o + VOFF4 + ${c}u] = dv${i}_${c};`, '\n    ')}
  }`)}
}
`,
  };
}
