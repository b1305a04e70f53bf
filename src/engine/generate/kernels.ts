// WGSL for the generation (inference) path. Every kernel works on a list of "token
// slots": slot n carries (token id, batch row, position, is-last-of-row) in the `slots` buffer, so the
// same kernels run a ragged prefill (all prompt tokens of all rows, flattened) and a
// decode step (one token per row). Shapes are baked in as constants per model.
import type { LlamaConfig } from '../config.ts';

export interface KernelDims {
  config: LlamaConfig;
  maxBatch: number;
  maxSeq: number;
}

/** Per-submit values, written with queue.writeBuffer before each submit. */
export const DIMS_WGSL = /* wgsl */ `
struct Dims {
  nTok: u32,        // token slots in this submit (prefill chunk or batch rows)
  nRows: u32,       // batch rows in this call
  topK: u32,        // 0 = no top-k filter
  nStop: u32,       // entries used in stopIds
  temperature: f32, // 0 = greedy
  maxNew: u32,      // new tokens per row
  _pad0: u32,
  _pad1: u32,
};
struct Tok { id: u32, row: u32, pos: u32, last: u32 };
struct RowState { promptLen: u32, count: u32, finished: u32, maxNew: u32 };
@group(0) @binding(0) var<uniform> dims: Dims;
`;

const f = (x: number) => {
  const s = String(x);
  return s.includes('.') || s.includes('e') ? s : s + '.0';
};

/** x[n, :] = embedding[slots[n].id, :]. Dispatch (ceil(D/64), nTok). */
export function embedWgsl(d: KernelDims): string {
  const D = d.config.dModel;
  return `${DIMS_WGSL}
const D = ${D}u;
@group(0) @binding(1) var<storage, read> slots: array<Tok>;
@group(0) @binding(2) var<storage, read> emb: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x; let n = gid.y;
  if (i >= D || n >= dims.nTok) { return; }
  x[n * D + i] = emb[slots[n].id * D + i];
}`;
}

/** y[n, o] (+)= Σ_k x[n, k] W[o, k] for W [O, K] (HF Linear layout). Each thread does one
 *  output column for 4 consecutive rows, so a weight row is read once per 4 tokens.
 *  Dispatch (ceil(O/64), ceil(rows/4)). `rows` picks dims.nTok or dims.nRows. */
export function matmulWgsl(K: number, O: number, opts: { accumulate: boolean; rows: 'nTok' | 'nRows' }): string {
  const write = (j: number) =>
    `if (n0 + ${j}u < N) { ${opts.accumulate ? `y[(n0 + ${j}u) * O + o] += acc[${j}];` : `y[(n0 + ${j}u) * O + o] = acc[${j}];`} }`;
  return `${DIMS_WGSL}
const K = ${K}u;
const O = ${O}u;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o = gid.x; let n0 = gid.y * 4u; let N = dims.${opts.rows};
  if (o >= O || n0 >= N) { return; }
  // Rows past N read row N-1 (in bounds) and are not written.
  let r0 = n0 * K;
  let r1 = min(n0 + 1u, N - 1u) * K;
  let r2 = min(n0 + 2u, N - 1u) * K;
  let r3 = min(n0 + 3u, N - 1u) * K;
  let wr = o * K;
  var acc = vec4f(0.0);
  for (var k = 0u; k < K; k++) {
    let wv = w[wr + k];
    acc += wv * vec4f(x[r0 + k], x[r1 + k], x[r2 + k], x[r3 + k]);
  }
  ${[0, 1, 2, 3].map(write).join('\n  ')}
}`;
}

/** Constants and bindings shared by the two decode attention kernels. */
function attentionBindings(d: KernelDims): string {
  const c = d.config;
  return `${DIMS_WGSL}
const H = ${c.nHeads}u;
const KV = ${c.nKvHeads}u;
const HD = ${c.headDim}u;
const GROUP = ${c.nHeads / c.nKvHeads}u;
const MAX_SEQ = ${d.maxSeq}u;
const SCALE = ${f(1 / Math.sqrt(c.headDim))};
@group(0) @binding(1) var<storage, read> slots: array<Tok>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> kc: array<f32>;
@group(0) @binding(4) var<storage, read> vc: array<f32>;
@group(0) @binding(5) var<storage, read_write> att: array<f32>;
`;
}

/** Causal attention of token slot n, head h over its row's cache positions 0..pos.
 *  One workgroup per (n, h); scores live in workgroup memory. Dispatch (nTok, H). */
export function attentionWgsl(d: KernelDims): string {
  return `${attentionBindings(d)}var<workgroup> scores: array<f32, MAX_SEQ>;
var<workgroup> red: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let n = wid.x; let h = wid.y; let lid = lid3.x;
  let t = slots[n];
  let base = (t.row * KV + h / GROUP) * MAX_SEQ * HD;
  let qo = (n * H + h) * HD;
  let len = t.pos + 1u;
  var m = -3.0e38;
  for (var s = lid; s < len; s += 64u) {
    var sc = 0.0;
    for (var i = 0u; i < HD; i++) { sc += q[qo + i] * kc[base + s * HD + i]; }
    sc *= SCALE;
    scores[s] = sc;
    m = max(m, sc);
  }
  red[lid] = m;
  workgroupBarrier();
  for (var st = 32u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] = max(red[lid], red[lid + st]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var z = 0.0;
  for (var s = lid; s < len; s += 64u) { let e = exp(scores[s] - mx); scores[s] = e; z += e; }
  red[lid] = z;
  workgroupBarrier();
  for (var st = 32u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  for (var i = lid; i < HD; i += 64u) {
    var acc = 0.0;
    for (var s = 0u; s < len; s++) { acc += scores[s] * vc[base + s * HD + i]; }
    att[qo + i] = acc * inv;
  }
}`;
}

/** lastX[row] = x[n] for the slot holding each row's newest token. Dispatch (ceil(D/64), nTok). */
export function gatherLastWgsl(d: KernelDims): string {
  return `${DIMS_WGSL}
const D = ${d.config.dModel}u;
@group(0) @binding(1) var<storage, read> slots: array<Tok>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> lastX: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x; let n = gid.y;
  if (i >= D || n >= dims.nTok) { return; }
  let t = slots[n];
  if (t.last != 0u) { lastX[t.row * D + i] = x[n * D + i]; }
}`;
}

/** Shared by both samplers: appends token id to row r's output, sets the row's finished
 *  flag (stop token, or the call's or the row's own most new tokens), and queues the token as
 *  the row's next decode slot. */
const RECORD_TOKEN_WGSL = `
fn recordToken(r: u32, id: u32) {
  var st = state[r];
  outIds[r * MAX_SEQ + st.count] = id;
  st.count += 1u;
  var stop = st.count >= min(dims.maxNew, st.maxNew);
  for (var j = 0u; j < dims.nStop; j++) { if (stopIds[j] == id) { stop = true; } }
  st.finished = select(0u, 1u, stop);
  state[r] = st;
  slots[r] = Tok(id, r, st.promptLen + st.count - 1u, 1u);
}`;

/** Picks each row's next token from its logits, on the GPU, and advances the row:
 *  greedy argmax (lowest id on ties) when temperature = 0 or topK = 1; otherwise softmax
 *  sampling at the temperature, restricted to logits ≥ the k-th largest (found by a
 *  32-step bisection on order-preserving integer keys; ties at the k-th value are kept),
 *  by inverse CDF with a uniform number from `rand` (seeded on the CPU).
 *  Then it records the token, sets `finished` on a stop token or after maxNew tokens,
 *  and writes the row's next decode slot into meta. One workgroup per row. */
export function sampleWgsl(d: KernelDims): string {
  const V = d.config.vocabSize;
  return `${DIMS_WGSL}
const V = ${V}u;
const WG = 256u;
const CHUNK = ${Math.ceil(V / 256)}u;
const MAX_SEQ = ${d.maxSeq}u;
const MAX_BATCH = ${d.maxBatch}u;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<RowState>;
@group(0) @binding(3) var<storage, read_write> outIds: array<u32>;
@group(0) @binding(4) var<storage, read> rand: array<f32>;
@group(0) @binding(5) var<storage, read> stopIds: array<u32>;
@group(0) @binding(6) var<storage, read_write> slots: array<Tok>;
var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;
var<workgroup> part: array<f32, WG>;
var<workgroup> cnt: atomic<u32>;
var<workgroup> chosen: u32;
var<workgroup> pickThread: u32;
var<workgroup> residual: f32;

// Maps f32 to u32 so that unsigned order equals float order.
fn sortKey(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let r = wid.x; let lid = lid3.x; let row = r * V;
  var bv = -3.4e38;
  var bi = V;
  for (var i = lid; i < V; i += WG) {
    let l = logits[row + i];
    if (l > bv || bi == V) { bv = l; bi = i; }
  }
  bestV[lid] = bv; bestI[lid] = bi;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) {
      let ov = bestV[lid + st]; let oi = bestI[lid + st];
      if (oi < V && (bestI[lid] == V || ov > bestV[lid] || (ov == bestV[lid] && oi < bestI[lid]))) { bestV[lid] = ov; bestI[lid] = oi; }
    }
    workgroupBarrier();
  }
  let mx = bestV[0];
  if (dims.temperature <= 0.0 || dims.topK == 1u) {
    if (lid == 0u) { chosen = bestI[0]; }
  } else {
    var tau = 0u;
    if (dims.topK > 0u && dims.topK < V) {
      for (var bit = 31i; bit >= 0i; bit--) {
        let cand = tau | (1u << u32(bit));
        if (lid == 0u) { atomicStore(&cnt, 0u); }
        workgroupBarrier();
        var c = 0u;
        for (var i = lid; i < V; i += WG) { if (sortKey(logits[row + i]) >= cand) { c++; } }
        atomicAdd(&cnt, c);
        workgroupBarrier();
        if (atomicLoad(&cnt) >= dims.topK) { tau = cand; }
        workgroupBarrier();
      }
    }
    let invT = 1.0 / dims.temperature;
    let start = lid * CHUNK;
    let end = min(start + CHUNK, V);
    var s = 0.0;
    for (var i = start; i < end; i++) {
      let l = logits[row + i];
      if (sortKey(l) >= tau) { s += exp((l - mx) * invT); }
    }
    part[lid] = s;
    workgroupBarrier();
    if (lid == 0u) {
      var total = 0.0;
      for (var t = 0u; t < WG; t++) { total += part[t]; }
      let u = rand[state[r].count * MAX_BATCH + r];
      var tgt = u * total;
      var pick = WG;
      var lastNonZero = 0u;
      for (var t = 0u; t < WG; t++) {
        if (part[t] > 0.0) {
          lastNonZero = t;
          if (pick == WG) {
            if (tgt < part[t]) { pick = t; } else { tgt -= part[t]; }
          }
        }
      }
      if (pick == WG) { pick = lastNonZero; tgt = part[pick]; }
      pickThread = pick;
      residual = tgt;
    }
    workgroupBarrier();
    if (lid == pickThread) {
      var acc = 0.0;
      var choice = V;
      var lastIn = start;
      for (var i = start; i < end; i++) {
        let l = logits[row + i];
        if (sortKey(l) >= tau) {
          lastIn = i;
          acc += exp((l - mx) * invT);
          if (acc > residual) { choice = i; break; }
        }
      }
      chosen = select(choice, lastIn, choice == V);
    }
  }
  workgroupBarrier();
  if (lid == 0u && state[r].finished == 0u) { recordToken(r, chosen); }
}
${RECORD_TOKEN_WGSL}`;
}

/** Barrier-free attention: one thread per (slot n, head h), online softmax over the
 *  cache. Less parallel than attentionWgsl (fine for short contexts / small batches);
 *  on software adapters, where workgroup barriers are costly, it is much faster.
 *  Dispatch (ceil(nTok·H / 64)). */
export function attentionSerialWgsl(d: KernelDims): string {
  return `${attentionBindings(d)}@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x;
  if (idx >= dims.nTok * H) { return; }
  let n = idx / H; let h = idx % H;
  let t = slots[n];
  let base = (t.row * KV + h / GROUP) * MAX_SEQ * HD;
  let qo = (n * H + h) * HD;
  var acc: array<f32, ${d.config.headDim}>;
  var m = -3.0e38;
  var z = 0.0;
  for (var s = 0u; s <= t.pos; s++) {
    var sc = 0.0;
    for (var i = 0u; i < HD; i++) { sc += q[qo + i] * kc[base + s * HD + i]; }
    sc *= SCALE;
    let mNew = max(m, sc);
    let corr = exp(m - mNew);
    let p = exp(sc - mNew);
    z = z * corr + p;
    for (var i = 0u; i < HD; i++) { acc[i] = acc[i] * corr + p * vc[base + s * HD + i]; }
    m = mNew;
  }
  for (var i = 0u; i < HD; i++) { att[qo + i] = acc[i] / z; }
}`;
}

/** Barrier-free sampler: one thread per row does sampleWgsl's work serially (argmax,
 *  32-step bisection for the k-th largest logit, inverse CDF). Same choices as
 *  sampleWgsl up to float summation order. Dispatch (ceil(nRows / 64)). */
export function sampleSerialWgsl(d: KernelDims): string {
  const V = d.config.vocabSize;
  return `${DIMS_WGSL}
const V = ${V}u;
const MAX_SEQ = ${d.maxSeq}u;
const MAX_BATCH = ${d.maxBatch}u;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<RowState>;
@group(0) @binding(3) var<storage, read_write> outIds: array<u32>;
@group(0) @binding(4) var<storage, read> rand: array<f32>;
@group(0) @binding(5) var<storage, read> stopIds: array<u32>;
@group(0) @binding(6) var<storage, read_write> slots: array<Tok>;

fn sortKey(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= dims.nRows) { return; }
  var st = state[r];
  if (st.finished != 0u) { return; }
  let row = r * V;
  var mx = logits[row];
  var am = 0u;
  for (var i = 1u; i < V; i++) { let l = logits[row + i]; if (l > mx) { mx = l; am = i; } }
  var id = am;
  if (dims.temperature > 0.0 && dims.topK != 1u) {
    var tau = 0u;
    if (dims.topK > 0u && dims.topK < V) {
      for (var bit = 31i; bit >= 0i; bit--) {
        let cand = tau | (1u << u32(bit));
        var c = 0u;
        for (var i = 0u; i < V; i++) { if (sortKey(logits[row + i]) >= cand) { c++; } }
        if (c >= dims.topK) { tau = cand; }
      }
    }
    let invT = 1.0 / dims.temperature;
    var total = 0.0;
    for (var i = 0u; i < V; i++) { let l = logits[row + i]; if (sortKey(l) >= tau) { total += exp((l - mx) * invT); } }
    let tgt = rand[st.count * MAX_BATCH + r] * total;
    var acc = 0.0;
    var lastIn = am;
    var choice = V;
    for (var i = 0u; i < V; i++) {
      let l = logits[row + i];
      if (sortKey(l) >= tau) {
        lastIn = i;
        acc += exp((l - mx) * invT);
        if (acc > tgt) { choice = i; break; }
      }
    }
    id = select(choice, lastIn, choice == V);
  }
  recordToken(r, id);
}
${RECORD_TOKEN_WGSL}`;
}

/** 1/rms of the row of x starting at xo (the kernels fold RMSNorm into their matmuls:
 *  W·(x ⊙ w / rms) = (W·(x ⊙ w)) / rms). */
function rmsInvWgsl(D: number): string {
  return `
fn rmsInv(xo: u32) -> f32 {
  var ss = 0.0;
  for (var i = 0u; i < ${D}u; i++) { let v = x[xo + i]; ss += v * v; }
  return inverseSqrt(ss / f32(${D}u) + EPS);
}`;
}

/** Attention input, fused: RMSNorm(x) → q, k, v projections → rotate-half RoPE on q and k
 *  → q to `q`, k and v into the KV cache at (row, kv head, pos). One thread per (slot,
 *  rotation pair): it computes rows i and i + hd/2 of one head, so it can rotate them.
 *  `p` is the window input_layernorm … v_proj of one layer. Dispatch (ceil((H+2KV)·hd/2 / 64), nTok). */
export function attnInWgsl(d: KernelDims, off: { norm: number; q: number; k: number; v: number }): string {
  const c = d.config;
  return `${DIMS_WGSL}
const D = ${c.dModel}u;
const H = ${c.nHeads}u;
const KV = ${c.nKvHeads}u;
const HD = ${c.headDim}u;
const HALF = ${c.headDim / 2}u;
const MAX_SEQ = ${d.maxSeq}u;
const EPS = ${f(c.normEps)};
const OFF_NORM = ${off.norm}u;
const OFF_Q = ${off.q}u;
const OFF_K = ${off.k}u;
const OFF_V = ${off.v}u;
@group(0) @binding(1) var<storage, read> slots: array<Tok>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> p: array<f32>;
@group(0) @binding(4) var<storage, read> ropeTab: array<vec2f>;
@group(0) @binding(5) var<storage, read_write> q: array<f32>;
@group(0) @binding(6) var<storage, read_write> kc: array<f32>;
@group(0) @binding(7) var<storage, read_write> vc: array<f32>;
${rmsInvWgsl(c.dModel)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x; let n = gid.y;
  if (idx >= (H + 2u * KV) * HALF || n >= dims.nTok) { return; }
  let head = idx / HALF; let i = idx % HALF;
  let xo = n * D;
  var w0: u32; // first row of the pair, as a float offset into p
  if (head < H) { w0 = OFF_Q + (head * HD + i) * D; }
  else if (head < H + KV) { w0 = OFF_K + ((head - H) * HD + i) * D; }
  else { w0 = OFF_V + ((head - H - KV) * HD + i) * D; }
  let w1 = w0 + HALF * D;
  var a0 = 0.0;
  var a1 = 0.0;
  for (var k = 0u; k < D; k++) {
    let xn = x[xo + k] * p[OFF_NORM + k];
    a0 += p[w0 + k] * xn;
    a1 += p[w1 + k] * xn;
  }
  let r = rmsInv(xo);
  a0 *= r;
  a1 *= r;
  let t = slots[n];
  let cs = ropeTab[t.pos * HALF + i];
  if (head < H) {
    let b = (n * H + head) * HD;
    q[b + i] = a0 * cs.x - a1 * cs.y;
    q[b + i + HALF] = a1 * cs.x + a0 * cs.y;
  } else if (head < H + KV) {
    let dst = ((t.row * KV + head - H) * MAX_SEQ + t.pos) * HD;
    kc[dst + i] = a0 * cs.x - a1 * cs.y;
    kc[dst + i + HALF] = a1 * cs.x + a0 * cs.y;
  } else {
    let dst = ((t.row * KV + head - H - KV) * MAX_SEQ + t.pos) * HD;
    vc[dst + i] = a0;
    vc[dst + i + HALF] = a1;
  }
}`;
}

/** MLP input, fused: h[n, j] = silu(xn·Wg[j]) · (xn·Wu[j]) with xn = RMSNorm(x[n]).
 *  `p` is the window post_attention_layernorm … up_proj of one layer. Two rows per
 *  thread. Dispatch (ceil(HIDDEN/64), ceil(nTok/2)). */
export function gateUpNormWgsl(d: KernelDims, off: { norm: number; gate: number; up: number }): string {
  const c = d.config;
  return `${DIMS_WGSL}
const D = ${c.dModel}u;
const O = ${c.hiddenDim}u;
const EPS = ${f(c.normEps)};
const OFF_NORM = ${off.norm}u;
const OFF_G = ${off.gate}u;
const OFF_U = ${off.up}u;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;
${rmsInvWgsl(c.dModel)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o = gid.x; let n0 = gid.y * 2u; let N = dims.nTok;
  if (o >= O || n0 >= N) { return; }
  let r0 = n0 * D;
  let r1 = min(n0 + 1u, N - 1u) * D;
  let wg = OFF_G + o * D;
  let wu = OFF_U + o * D;
  var g = vec2f(0.0);
  var u = vec2f(0.0);
  for (var k = 0u; k < D; k++) {
    let nw = p[OFF_NORM + k];
    let xv = vec2f(x[r0 + k], x[r1 + k]) * nw;
    g += p[wg + k] * xv;
    u += p[wu + k] * xv;
  }
  let inv = vec2f(rmsInv(r0), rmsInv(r1));
  g *= inv;
  u *= inv;
  let a = g / (1.0 + exp(-g)) * u;
  h[n0 * O + o] = a.x;
  if (n0 + 1u < N) { h[(n0 + 1u) * O + o] = a.y; }
}`;
}

/** LM head, fused with the final RMSNorm: logits[r, v] = RMSNorm(lastX[r]) · W[v] for
 *  rows r < nRows, four rows per thread. Dispatch (ceil(V/64), ceil(nRows/4)). */
export function headNormWgsl(d: KernelDims): string {
  const c = d.config;
  return `${DIMS_WGSL}
const D = ${c.dModel}u;
const V = ${c.vocabSize}u;
const EPS = ${f(c.normEps)};
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> normW: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> logits: array<f32>;
${rmsInvWgsl(c.dModel)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o = gid.x; let n0 = gid.y * 4u; let N = dims.nRows;
  if (o >= V || n0 >= N) { return; }
  let r0 = n0 * D;
  let r1 = min(n0 + 1u, N - 1u) * D;
  let r2 = min(n0 + 2u, N - 1u) * D;
  let r3 = min(n0 + 3u, N - 1u) * D;
  let wr = o * D;
  var acc = vec4f(0.0);
  for (var k = 0u; k < D; k++) {
    let wv = w[wr + k] * normW[k];
    acc += wv * vec4f(x[r0 + k], x[r1 + k], x[r2 + k], x[r3 + k]);
  }
  acc *= vec4f(rmsInv(r0), rmsInv(r1), rmsInv(r2), rmsInv(r3));
  logits[n0 * V + o] = acc.x;
  if (n0 + 1u < N) { logits[(n0 + 1u) * V + o] = acc.y; }
  if (n0 + 2u < N) { logits[(n0 + 2u) * V + o] = acc.z; }
  if (n0 + 3u < N) { logits[(n0 + 3u) * V + o] = acc.w; }
}`;
}
