// Matrix products, the bulk of the work. One generator covers the three shapes a Linear
// layer needs (W is [out, in] as in Hugging Face):
//   forward   Y[N,out]  = X[N,in] · Wᵀ         (aT = false, bT = true)
//   dX        dX[N,in]  = dY[N,out] · W         (aT = false, bT = false)
//   dW        dW[out,in] += dY[N,out]ᵀ · X[N,in] (aT = true,  bT = false, accumulate)
// C[M,N] = A·B where A is stored [M,K] (aT = false) or [K,M] (aT = true) and B is stored
// [K,N] (bT = false) or [N,K] (bT = true). Every workgroup computes a 32×32 block of C
// with 8×8 threads of 4×4 outputs each.
//   'register': each thread reads its operands straight from global memory as vec4s and
//               keeps a 4×4 tile in registers (fastest on SwiftShader, where barriers are slow);
//   'shared':   the workgroup stages 32×16 tiles of A and B in workgroup memory first
//               (what real GPUs prefer).
// Requirements (checked by the engine's config validation): the contiguous dimensions are
// multiples of 4; the row count N·T may be anything (rows are clamped, K tails masked).
import type { Kernel } from '../gpu/resources.ts';

export type MatmulVariant = 'register' | 'shared';
/** 'store': C = A·B; 'accumulate': C += A·B; 'residual': C = R + A·B (R another binding). */
export type MatmulMode = 'store' | 'accumulate' | 'residual';

export interface MatmulShape {
  aT: boolean;
  bT: boolean;
  mode: MatmulMode;
  variant: MatmulVariant;
}

export const TILE = 32;

export function matmulKernel(s: MatmulShape): Kernel {
  const name = `matmul_${s.aT ? 't' : 'n'}${s.bT ? 't' : 'n'}_${s.mode}_${s.variant}`;
  const code = s.variant === 'register' ? registerCode(s) : sharedCode(s);
  return { name, code, uniforms: [['M', 'u32'], ['N', 'u32'], ['K', 'u32']] };
}

function bindings(s: MatmulShape, elem: string): string {
  return [
    `@group(0) @binding(1) var<storage, read> A: array<${elem}>;`,
    `@group(0) @binding(2) var<storage, read> B: array<${elem}>;`,
    `@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;`,
    s.mode === 'residual' ? `@group(0) @binding(4) var<storage, read> R: array<vec4<f32>>;` : '',
  ].join('\n');
}

function storeRow(s: MatmulShape, idx: string, value: string): string {
  if (s.mode === 'store') return `C[${idx}] = ${value};`;
  if (s.mode === 'accumulate') return `C[${idx}] = C[${idx}] + ${value};`;
  return `C[${idx}] = R[${idx}] + ${value};`;
}

function registerCode(s: MatmulShape): string {
  // At: columns are rows of A (vec4 over k); Bt: columns are rows of B (vec4 over n).
  // acc = Bt · At has as column i the output row m0+i.
  const loadA = s.aT
    ? `let kv = vec4<f32>(vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.K));
    let kc = min(vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.K - 1u));
    let at = transpose(mat4x4<f32>(A[kc.x * M4 + m4] * kv.x, A[kc.y * M4 + m4] * kv.y, A[kc.z * M4 + m4] * kv.z, A[kc.w * M4 + m4] * kv.w));`
    : `let at = mat4x4<f32>(A[r.x * K4 + kb], A[r.y * K4 + kb], A[r.z * K4 + kb], A[r.w * K4 + kb]);`;
  const loadB = s.bT
    ? `let bt = transpose(mat4x4<f32>(B[(n0 + 0u) * K4 + kb], B[(n0 + 1u) * K4 + kb], B[(n0 + 2u) * K4 + kb], B[(n0 + 3u) * K4 + kb]));`
    : s.aT
      ? `let bt = mat4x4<f32>(B[kc.x * N4 + n4], B[kc.y * N4 + n4], B[kc.z * N4 + n4], B[kc.w * N4 + n4]);`
      : `let bt = mat4x4<f32>(B[(k + 0u) * N4 + n4], B[(k + 1u) * N4 + n4], B[(k + 2u) * N4 + n4], B[(k + 3u) * N4 + n4]);`;
  return `${bindings(s, 'vec4<f32>')}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= p.N || m0 >= p.M) { return; }
  let K4 = p.K / 4u;
  let M4 = p.M / 4u;
  let N4 = p.N / 4u;
  let n4 = n0 / 4u;
  let m4 = m0 / 4u;
  // rows of A this thread reads (clamped: the row count need not be a multiple of 4)
  let r = min(vec4<u32>(m0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.M - 1u));
  var acc = mat4x4<f32>();
  let kBlocks = (p.K + 3u) / 4u;
  for (var kb = 0u; kb < kBlocks; kb = kb + 1u) {
    let k = kb * 4u;
    ${loadA}
    ${loadB}
    acc = acc + bt * at;
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    if (m0 + i < p.M) {
      let idx = (m0 + i) * N4 + n4;
      ${storeRow(s, 'idx', 'acc[i]')}
    }
  }
}
`;
}

function sharedCode(s: MatmulShape): string {
  // Scalar global accessors with bounds → 0.
  const aAt = s.aT ? 'A[k * p.M + m]' : 'A[m * p.K + k]';
  const bAt = s.bT ? 'B[n * p.K + k]' : 'B[k * p.N + n]';
  return `${bindings(s, 'f32')}

const KT = 16u;
var<workgroup> As: array<f32, ${TILE * 16}>; // [32 m][16 k]
var<workgroup> Bs: array<f32, ${TILE * 16}>; // [16 k][32 n]

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return ${aAt};
}
fn loadB(k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  return ${bAt};
}

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let li = lid.y * 8u + lid.x;
  let mBase = wid.y * ${TILE}u;
  let nBase = wid.x * ${TILE}u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 = k0 + KT) {
    for (var e = 0u; e < 8u; e = e + 1u) {
      let idx = li + e * 64u;
      ${s.aT ? 'let kk = idx / 32u; let mm = idx % 32u;' : 'let mm = idx / 16u; let kk = idx % 16u;'}
      As[mm * 16u + kk] = loadA(mBase + mm, k0 + kk);
      ${s.bT ? 'let nn = idx / 16u; let kb = idx % 16u;' : 'let kb = idx / 32u; let nn = idx % 32u;'}
      Bs[kb * 32u + nn] = loadB(k0 + kb, nBase + nn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk = kk + 1u) {
      let b = vec4<f32>(Bs[kk * 32u + lid.x * 4u], Bs[kk * 32u + lid.x * 4u + 1u], Bs[kk * 32u + lid.x * 4u + 2u], Bs[kk * 32u + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i = i + 1u) {
        acc[i] = acc[i] + As[(lid.y * 4u + i) * 16u + kk] * b;
      }
    }
    workgroupBarrier();
  }
  let n0 = nBase + lid.x * 4u;
  let N4 = p.N / 4u;
  if (n0 < p.N) {
    for (var i = 0u; i < 4u; i = i + 1u) {
      let m = mBase + lid.y * 4u + i;
      if (m < p.M) {
        let idx = m * N4 + n0 / 4u;
        ${storeRow(s, 'idx', 'acc[i]')}
      }
    }
  }
}
`;
}

/** Workgroup counts for C[M,N]. */
export function matmulWorkgroups(M: number, N: number): [number, number] {
  return [Math.ceil(N / TILE), Math.ceil(M / TILE)];
}
