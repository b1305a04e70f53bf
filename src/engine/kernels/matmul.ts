// Matrix products, the bulk of the work. One generator covers the three shapes a Linear
// layer needs (W is [out, in] as in Hugging Face):
//   forward   Y[N,out]  = X[N,in] · Wᵀ         (aT = false, bT = true)
//   dX        dX[N,in]  = dY[N,out] · W         (aT = false, bT = false)
//   dW        dW[out,in] += dY[N,out]ᵀ · X[N,in] (aT = true,  bT = false, accumulate)
// C[M,N] = A·B where A is stored [M,K] (aT = false) or [K,M] (aT = true) and B is stored
// [K,N] (bT = false) or [N,K] (bT = true). Every workgroup has 8×8 threads and computes a
// block of C: 32×32 with 4×4 outputs per thread, 64×64 with 8×8.
//   'register…': each thread reads its operands straight from global memory as vec4s and
//               keeps a TM×TN tile in registers, fully unrolled ('register' = 4×4,
//               'register8x8' = 8×8, the default: fewer loads per multiply-add; fastest on
//               SwiftShader, where barriers are slow);
//   'shared':   the workgroup stages 32×16 tiles of A and B in workgroup memory first
//               (what real GPUs prefer).
// Requirements (checked by the engine's config validation): the contiguous dimensions are
// multiples of 4; the row count N·T may be anything (rows are clamped, K tails masked).
// B may be a frozen model's 16-bit weights (bFormat 'f16'/'bf16', half.ts): stored two per
// u32, read as vec2<u32> (four values; the register variants) or u32 words (shared) and
// unpacked to f32 before the multiply-adds, so the arithmetic is the f32 kernel's.
import type { Kernel } from '../gpu/resources.ts';
import { isSoftwareAdapter, type GpuContext } from '../device.ts';
import { unpack4Wgsl, unpackWgsl, type WeightFormat } from '../half.ts';

export const MATMUL_VARIANTS = ['register8x8', 'register8x16', 'register16x8', 'register', 'register8x4', 'register4x8', 'shared'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];

/** Default variant for an adapter: on CPU (software) adapters such as SwiftShader the
 *  widest register tile measured fastest (fewer loads per multiply-add, no barriers); on
 *  GPUs the workgroup-shared-memory tiles, the usual choice there (not measured in this
 *  project: no GPU available — pass `matmul` to override). */
export function defaultMatmulVariant(ctx: Pick<GpuContext, 'adapter' | 'description'>): MatmulVariant {
  return isSoftwareAdapter(ctx) ? 'register8x16' : 'shared';
}

/** Rows × columns each thread computes in the register variants. */
const TILES: Record<string, [number, number]> = { register: [4, 4], register8x4: [8, 4], register4x8: [4, 8], register8x8: [8, 8], register8x16: [8, 16], register16x8: [16, 8] };
/** 'store': C = A·B; 'accumulate': C += A·B; 'residual': C = R + A·B (R another binding). */
export type MatmulMode = 'store' | 'accumulate' | 'residual';

export interface MatmulShape {
  aT: boolean;
  bT: boolean;
  mode: MatmulMode;
  variant: MatmulVariant;
  /** Storage of B: f32 (default) or packed 16-bit pairs (a frozen model's weights). */
  bFormat?: WeightFormat;
}

export const TILE = 32;

// A [M, K] (or [K, M] when aT), B [K, N] (or [N, K] when bT), R [M, N] -> C [M, N]
//   C = A·B ('store');  C += A·B ('accumulate');  C = R + A·B ('residual')
export function matmulKernel(s: MatmulShape): Kernel {
  const packed = s.bFormat && s.bFormat !== 'f32' ? `_b${s.bFormat}` : '';
  const name = `matmul_${s.aT ? 't' : 'n'}${s.bT ? 't' : 'n'}_${s.mode}_${s.variant}${packed}`;
  const code = s.variant === 'shared' ? sharedCode(s) : registerTileCode(s, ...TILES[s.variant]);
  return { name, code, uniforms: MATMUL_UNIFORMS };
}

/** lda4/ldc4: row strides of A and C in vec4s; aOff4/cOff4: column offsets in vec4s (so a
 *  product can read or write a column block of a wider matrix, e.g. q inside [q|k|v]). */
const MATMUL_UNIFORMS: Array<[string, 'u32']> = [['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['lda4', 'u32'], ['aOff4', 'u32'], ['ldc4', 'u32'], ['cOff4', 'u32']];

export interface MatmulStrides {
  lda4?: number;
  aOff4?: number;
  ldc4?: number;
  cOff4?: number;
}

/** Uniform values for C[M,N] = A·B with the given strides (natural ones by default). */
export function matmulUniforms(M: number, N: number, K: number, aT: boolean, st: MatmulStrides = {}): Record<string, number> {
  return { M, N, K, lda4: st.lda4 ?? (aT ? M : K) / 4, aOff4: st.aOff4 ?? 0, ldc4: st.ldc4 ?? N / 4, cOff4: st.cOff4 ?? 0 };
}

const isPacked = (s: MatmulShape): s is MatmulShape & { bFormat: 'f16' | 'bf16' } => s.bFormat === 'f16' || s.bFormat === 'bf16';

function bindings(s: MatmulShape, elem: string): string {
  // packed B: four values per vec2<u32> where the f32 kernel reads a vec4, a word per pair otherwise
  const bElem = !isPacked(s) ? elem : elem === 'f32' ? 'u32' : 'vec2<u32>';
  const lines = [
    `@group(0) @binding(1) var<storage, read> A: array<${elem}>;`,
    `@group(0) @binding(2) var<storage, read> B: array<${bElem}>;`,
    `@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;`,
    s.mode === 'residual' ? `@group(0) @binding(4) var<storage, read> R: array<vec4<f32>>;` : '',
  ];
  if (isPacked(s)) {
    lines.push(elem === 'f32' ? `${unpackWgsl(s.bFormat)}\nfn loadB1(e: u32) -> f32 { let w = unpackW(B[e >> 1u]); return select(w.x, w.y, (e & 1u) == 1u); }` : unpack4Wgsl(s.bFormat));
  }
  return lines.join('\n');
}

/** B's value(s) at `idx`: a scalar (elem f32) or a vec4 (elem vec4<f32>), unpacked if packed. */
function bAt(s: MatmulShape, idx: string, elem: 'f32' | 'vec4<f32>'): string {
  if (!isPacked(s)) return `B[${idx}]`;
  return elem === 'f32' ? `loadB1(${idx})` : `unpack4(B[${idx}])`;
}

function storeRow(s: MatmulShape, idx: string, value: string): string {
  if (s.mode === 'store') return `C[${idx}] = ${value};`;
  if (s.mode === 'accumulate') return `C[${idx}] = C[${idx}] + ${value};`;
  return `C[${idx}] = R[${idx}] + ${value};`;
}

function sharedCode(s: MatmulShape): string {
  // Scalar global accessors with bounds → 0.
  const aAt = s.aT ? 'A[k * p.lda4 * 4u + p.aOff4 * 4u + m]' : 'A[m * p.lda4 * 4u + p.aOff4 * 4u + k]';
  const bLoad = bAt(s, s.bT ? 'n * p.K + k' : 'k * p.N + n', 'f32');
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
  return ${bLoad};
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
        let idx = m * p.ldc4 + p.cOff4 + n0 / 4u;
        ${storeRow(s, 'idx', 'acc[i]')}
      }
    }
  }
}
`;
}

/** Workgroup counts for C[M,N]. */
export function matmulWorkgroups(M: number, N: number, variant: MatmulVariant = 'register'): [number, number] {
  const [tm, tn] = variant === 'shared' ? [4, 4] : TILES[variant];
  return [Math.ceil(N / (8 * tn)), Math.ceil(M / (8 * tm))];
}

/** Register-blocked kernel, fully unrolled: each thread owns TM rows × TN columns of C
 *  (TN a multiple of 4, stored as vec4s) and walks K four at a time. */
function registerTileCode(s: MatmulShape, TM: number, TN: number): string {
  const NV = TN / 4;
  const L: string[] = [];
  const rows = Array.from({ length: TM }, (_, i) => i);
  const vecs = Array.from({ length: NV }, (_, v) => v);
  const js = [0, 1, 2, 3];
  const xyzw = ['x', 'y', 'z', 'w'];
  for (const i of rows) for (const v of vecs) L.push(`var c${i}_${v} = vec4<f32>(0.0);`);
  const head = L.join('\n  ');
  const body: string[] = [];
  // a(i, j) = A[m0+i][k+j] as an expression
  let aExpr: (i: number, j: number) => string;
  if (!s.aT) {
    for (const i of rows) body.push(`let a${i} = A[min(m0 + ${i}u, p.M - 1u) * p.lda4 + p.aOff4 + kb];`);
    aExpr = (i, j) => `a${i}.${xyzw[j]}`;
  } else {
    for (const j of js) {
      body.push(`let kr${j} = min(k + ${j}u, p.K - 1u); let km${j} = select(0.0, 1.0, k + ${j}u < p.K);`);
      for (let ii = 0; ii < TM / 4; ii++) body.push(`let r${j}_${ii} = A[kr${j} * p.lda4 + p.aOff4 + min(m4 + ${ii}u, M4 - 1u)] * km${j};`);
    }
    aExpr = (i, j) => `r${j}_${Math.floor(i / 4)}.${xyzw[i % 4]}`;
  }
  // bv(j, v) = B[k+j][n0+4v .. n0+4v+3] as an expression
  let bExpr: (j: number, v: number) => string;
  if (!s.bT) {
    for (const j of js) for (const v of vecs) body.push(`let b${j}_${v} = ${bAt(s, `${s.aT ? `kr${j}` : `(k + ${j}u)`} * N4 + min(n4 + ${v}u, N4 - 1u)`, 'vec4<f32>')};`);
    bExpr = (j, v) => `b${j}_${v}`;
  } else {
    for (let n = 0; n < TN; n++) body.push(`let s${n} = ${bAt(s, `min(n0 + ${n}u, p.N - 1u) * K4 + kb`, 'vec4<f32>')};`);
    bExpr = (j, v) => `vec4<f32>(s${4 * v}.${xyzw[j]}, s${4 * v + 1}.${xyzw[j]}, s${4 * v + 2}.${xyzw[j]}, s${4 * v + 3}.${xyzw[j]})`;
    for (const j of js) for (const v of vecs) body.push(`let b${j}_${v} = ${bExpr(j, v)};`);
    bExpr = (j, v) => `b${j}_${v}`;
  }
  for (const i of rows) for (const v of vecs) {
    body.push(`c${i}_${v} = c${i}_${v} + ${js.map((j) => `${aExpr(i, j)} * ${bExpr(j, v)}`).join(' + ')};`);
  }
  const stores: string[] = [];
  for (const i of rows) for (const v of vecs) {
    stores.push(`if (m0 + ${i}u < p.M && n4 + ${v}u < N4) { let idx = (m0 + ${i}u) * p.ldc4 + p.cOff4 + n4 + ${v}u; ${storeRow(s, 'idx', `c${i}_${v}`)} }`);
  }
  return `${bindings(s, 'vec4<f32>')}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * ${TN}u;
  let m0 = gid.y * ${TM}u;
  if (n0 >= p.N || m0 >= p.M) { return; }
  let K4 = p.K / 4u;
  let M4 = p.M / 4u;
  let N4 = p.N / 4u;
  let n4 = n0 / 4u;
  let m4 = m0 / 4u;
  ${head}
  let kBlocks = (p.K + 3u) / 4u;
  for (var kb = 0u; kb < kBlocks; kb = kb + 1u) {
    let k = kb * 4u;
    ${body.join('\n    ')}
  }
  ${stores.join('\n  ')}
}
`;
}
