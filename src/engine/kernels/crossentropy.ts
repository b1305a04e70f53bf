// Weighted (masked) cross-entropy, fused forward + backward as in llm.c. Position n
// predicts labels[n] (no shift inside); label −100 contributes nothing.
//   ce[n]       = logsumexp(logits[n]) − logits[n, label]        (0 when label < 0)
//   wloss[n]    = w[n] · ce[n]
//   dlogits[n]  = w[n] · (softmax(logits[n]) − onehot(label))
// The trainer uploads weights already divided by Σw over the whole step (all
// micro-batches), so Σ wloss is the step's loss; Σw = 0 uploads zeros. Rows with w = 0 get
// exactly zero gradient. dlogits overwrites logits. Rows are Vp = V rounded up to a multiple
// of 4 (config.ts paddedVocab); the padding lanes read as −3e38, so they add nothing to the
// softmax and get a zero gradient.
import type { Kernel } from '../gpu/resources.ts';

const WG = 64;
/** Workgroups per line of the 2-D dispatch (WebGPU's default maxComputeWorkgroupsPerDimension). */
const GROUPS_X = 65535;

/** Threads per row of logits: a power of two, as many as keep ≥ 32 vec4s per thread, at most
 *  the workgroup. Vocabularies of 8192 and more get a workgroup per row; smaller ones share a
 *  workgroup between rows, since on a CPU adapter (SwiftShader) idle threads are not free. */
export function crossEntropyThreadsPerRow(V: number): number {
  const V4 = Math.ceil(V / 4);
  let t = 1;
  while (t < WG && V4 / (2 * t) >= 32) t *= 2;
  return t;
}

/** Workgroups for N rows of vocabulary V, in lines of GROUPS_X so that N may exceed 65535
 *  (the kernel reads the line length from num_workgroups: any 2-D split works). */
export function crossEntropyWorkgroups(V: number, N: number): [number, number] {
  const groups = Math.ceil(N / (WG / crossEntropyThreadsPerRow(V)));
  return [Math.min(groups, GROUPS_X), Math.ceil(groups / GROUPS_X)];
}

// logits [N, Vp] -> dlogits [N, Vp] (in place), labels [N] i32, weights [N] -> ce [N], wloss [N]
//   ce_n = logsumexp(logits_n) − logits_n[label_n];  wloss_n = w_n ce_n;  dlogits_n = w_n (softmax(logits_n) − onehot(label_n))
// T = crossEntropyThreadsPerRow(V) threads per row, each taking every T-th vec4: the max, then
// Σ exp(x − max), each combined over the row's T partials in workgroup memory (in the same
// order by every thread of the row), then each thread writes its vec4s of dlogits.
export function crossEntropyForwardBackward(V: number): Kernel {
  const V4 = Math.ceil(V / 4);
  const T = crossEntropyThreadsPerRow(V);
  // the last vec4's lanes at or past V are padding
  const read = V % 4 === 0
    ? 'fn lg(i: u32, j: u32) -> vec4<f32> { return logits[i]; }'
    : `fn lg(i: u32, j: u32) -> vec4<f32> {
  let v = logits[i];
  if (j + 1u < V4) { return v; }
  return select(v, vec4<f32>(-3.0e38), vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(${V % 4}u));
}`;
  return {
    name: 'crossentropy_forward_backward',
    uniforms: [['N', 'u32']],
    code: `
const V4 = ${V4}u;
const T = ${T}u;
@group(0) @binding(1) var<storage, read_write> logits: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> ce: array<f32>;
@group(0) @binding(5) var<storage, read_write> wloss: array<f32>;
var<workgroup> pmax: array<f32, ${WG}>;
var<workgroup> psum: array<f32, ${WG}>;
${read}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
  let lid = lid3.x;
  let t = lid % T;
  let first = lid - t; // the row's first thread
  let n = (wid.y * nwg.x + wid.x) * ${WG / T}u + lid / T;
  // rows past N read nothing but still reach the barriers
  let live = n < p.N;
  let end = select(0u, V4, live);
  let base = n * V4;
  var label = -1;
  var xl = 0.0;
  if (live) {
    label = labels[n];
    // the label's logit, read before the row is overwritten (after the barriers)
    if (t == 0u && label >= 0) { xl = logits[base + u32(label) / 4u][u32(label) % 4u]; }
  }
  var mx4 = vec4<f32>(-3.0e38);
  for (var j = t; j < end; j = j + T) { mx4 = max(mx4, lg(base + j, j)); }
  pmax[lid] = max(max(mx4.x, mx4.y), max(mx4.z, mx4.w));
  workgroupBarrier();
  var mx = pmax[first];
  for (var k = 1u; k < T; k = k + 1u) { mx = max(mx, pmax[first + k]); }
  var sum4 = vec4<f32>(0.0);
  for (var j = t; j < end; j = j + T) { sum4 = sum4 + exp(lg(base + j, j) - mx); }
  psum[lid] = (sum4.x + sum4.y) + (sum4.z + sum4.w);
  workgroupBarrier();
  var sum = 0.0;
  for (var k = 0u; k < T; k = k + 1u) { sum = sum + psum[first + k]; }
  if (!live) { return; }
  let g = weights[n];
  if (t == 0u) {
    var c = 0.0;
    if (label >= 0) { c = mx + log(sum) - xl; }
    ce[n] = c;
    var wl = 0.0;
    if (g != 0.0) { wl = g * c; }
    wloss[n] = wl;
  }
  let inv = 1.0 / sum;
  for (var j = t; j < V4; j = j + T) {
    var d = vec4<f32>(0.0);
    if (g != 0.0) {
      d = exp(lg(base + j, j) - mx) * inv;
      if (label >= 0 && u32(label) / 4u == j) { d[u32(label) % 4u] = d[u32(label) % 4u] - 1.0; }
      d = d * g;
    }
    logits[base + j] = d;
  }
}
`,
  };
}

// wloss [N] -> stats[0] (one workgroup; fixed reduction order)
//   stats[0] += Σ_n wloss_n
export function lossReduce(): Kernel {
  return {
    name: 'loss_reduce',
    uniforms: [['N', 'u32']],
    code: `
@group(0) @binding(1) var<storage, read> wloss: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
var<workgroup> part: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = lid.x; i < p.N; i = i + 64u) { s = s + wloss[i]; }
  part[lid.x] = s;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w = w / 2u) {
    if (lid.x < w) { part[lid.x] = part[lid.x] + part[lid.x + w]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { stats[0] = stats[0] + part[0]; }
}
`,
  };
}
