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

// logits [N, Vp] -> dlogits [N, Vp] (in place), labels [N] i32, weights [N] -> ce [N], wloss [N]
//   ce_n = logsumexp(logits_n) − logits_n[label_n];  wloss_n = w_n ce_n;  dlogits_n = w_n (softmax(logits_n) − onehot(label_n))
export function crossEntropyForwardBackward(V: number): Kernel {
  const V4 = Math.ceil(V / 4);
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
@group(0) @binding(1) var<storage, read_write> logits: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> ce: array<f32>;
@group(0) @binding(5) var<storage, read_write> wloss: array<f32>;
${read}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.N) { return; }
  let base = n * V4;
  var mx4 = vec4<f32>(-3.0e38);
  for (var j = 0u; j < V4; j = j + 1u) { mx4 = max(mx4, lg(base + j, j)); }
  let mx = max(max(mx4.x, mx4.y), max(mx4.z, mx4.w));
  var sum4 = vec4<f32>(0.0);
  for (var j = 0u; j < V4; j = j + 1u) { sum4 = sum4 + exp(lg(base + j, j) - mx); }
  let sum = (sum4.x + sum4.y) + (sum4.z + sum4.w);
  let lse = mx + log(sum);
  let label = labels[n];
  var c = 0.0;
  if (label >= 0) {
    let l = u32(label);
    c = lse - logits[base + l / 4u][l % 4u];
  }
  ce[n] = c;
  let g = weights[n];
  var wl = 0.0;
  if (g != 0.0) { wl = g * c; }
  wloss[n] = wl;
  let inv = 1.0 / sum;
  for (var j = 0u; j < V4; j = j + 1u) {
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
