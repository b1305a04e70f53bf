// Sampling on the GPU, after the LM head: picks each row's next token from its logits and
// advances the row, so decode steps need no CPU round trip. Greedy argmax (lowest id on
// ties) when temperature = 0 or topK = 1; otherwise softmax(logits / T) restricted to the
// logits ≥ the k-th largest (found by a 32-step bisection on order-preserving integer keys;
// ties at the k-th value are kept), sampled by inverse CDF with a uniform number from `rand`
// (drawn on the CPU from the call's seed). Then the token is recorded, the row's finished
// flag set (a stop token, or its own or the call's most new tokens), and the row's next
// decode slot written (kernels/slots.ts).
//   'workgroup': one 256-thread workgroup per row, tree reductions (GPUs).
//   'thread':    one thread per row, serial loops, no barriers (software adapters). Same
//                choices as 'workgroup' up to float summation order.
import type { Kernel } from '../gpu/resources.ts';
import { SLOTS_WGSL } from './slots.ts';
import { paddedVocab } from '../config.ts';

export type SampleVariant = 'thread' | 'workgroup';

function bindings(V: number, maxBatch: number, maxSeq: number): string {
  return `${SLOTS_WGSL}
const V = ${V}u;
const ROW = ${paddedVocab({ vocabSize: V })}u; // a logits row: V padded to a multiple of 4
const MAX_SEQ = ${maxSeq}u;
const MAX_BATCH = ${maxBatch}u;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<RowState>;
@group(0) @binding(4) var<storage, read_write> outIds: array<u32>;
@group(0) @binding(5) var<storage, read> rand: array<f32>;
@group(0) @binding(6) var<storage, read> stopIds: array<u32>;
@group(0) @binding(7) var<storage, read_write> slots: array<Tok>;
@group(0) @binding(8) var<storage, read_write> ids: array<i32>;

// Maps f32 to u32 so that unsigned order equals float order.
fn sortKey(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Appends id to row r's output, sets its finished flag, queues id as its next decode slot.
fn recordToken(r: u32, id: u32) {
  var st = state[r];
  outIds[r * MAX_SEQ + st.count] = id;
  st.count += 1u;
  var stop = st.count >= min(dims.maxNew, st.maxNew);
  for (var j = 0u; j < dims.nStop; j++) { if (stopIds[j] == id) { stop = true; } }
  st.finished = select(0u, 1u, stop);
  state[r] = st;
  slots[r] = Tok(id, r, st.promptLen + st.count - 1u, 1u);
  ids[r] = i32(id);
}
`;
}

// logits [nRows, Vp] (the first V of each row read), state, rand [maxSeq, maxBatch], stopIds -> outIds [maxBatch, maxSeq],
// state, slots/ids (the rows' next decode slots)
//   id_r = argmax_v logits_r,v (T = 0 or k = 1), else min{ i : Σ_{v ≤ i, v ∈ top k} e^((l_v − max)/T) > u_r · Σ_{v ∈ top k} e^((l_v − max)/T) }
export function sampleTokens(V: number, maxBatch: number, maxSeq: number, variant: SampleVariant): Kernel {
  const code = variant === 'thread' ? threadCode() : workgroupCode(V);
  return { name: `sample_${variant}`, uniforms: [], code: bindings(V, maxBatch, maxSeq) + code };
}

/** Dispatch size for nRows rows. */
export function sampleWorkgroups(nRows: number, variant: SampleVariant): [number] {
  return [variant === 'thread' ? Math.ceil(nRows / 64) : nRows];
}

function threadCode(): string {
  return `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= dims.nRows) { return; }
  var st = state[r];
  if (st.finished != 0u) { return; }
  let row = r * ROW;
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
}`;
}

function workgroupCode(V: number): string {
  return `
const WG = 256u;
const CHUNK = ${Math.ceil(V / 256)}u;
var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;
var<workgroup> part: array<f32, WG>;
var<workgroup> cnt: atomic<u32>;
var<workgroup> chosen: u32;
var<workgroup> pickThread: u32;
var<workgroup> residual: f32;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let r = wid.x; let lid = lid3.x; let row = r * ROW;
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
}`;
}
