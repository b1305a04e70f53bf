// 16-bit weights on the GPU: frozen matrices (a LoRA base, inference) may be stored as two
// halves per u32 word, element 2i in the low 16 bits and 2i+1 in the high 16 bits, and the
// kernels unpack them to f32 before any arithmetic (WGSL's core unpack2x16float for f16, a
// shift for bf16), so they run on every adapter, with or without `shader-f16`.
//   'f16'  IEEE half: 11-bit significand, normal range 6.1e-5 … 65504 (smaller values become
//          subnormal, then 0; larger ones ±Inf). Rounding an f32 to it is round-to-nearest-even.
//   'bf16' the top half of an f32: 8-bit significand, f32's range. A bf16 checkpoint stored
//          as 'bf16' is exact on the GPU; stored as 'f16' it is exact only within f16's
//          normal range (bf16's 8 significand bits fit in f16's 11).
import { f16ToF32 } from './weights/safetensors.ts';

/** How a parameter tensor is stored: f32, or 16-bit values packed two per u32. */
export type WeightFormat = 'f32' | 'f16' | 'bf16';
export type HalfFormat = Exclude<WeightFormat, 'f32'>;
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'bf16'];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f16 nearest to the f32 value `x` (ties to even; overflow → ±Inf; NaN stays NaN), as bits. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // f16 subnormal m·2⁻²⁴: m = (1.mant)·2^(e−14+23) rounded; below 2⁻²⁵ everything rounds to 0
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1))) m++;
    return sign | m; // m = 1024 is the smallest normal, as it should be
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // a carry into the exponent is right (65520 → Inf)
  return h;
}

/** The bf16 nearest to the f32 value `x` (ties to even; NaN stays NaN), as bits. */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function halfBitsToF32(h: number, format: HalfFormat): number {
  if (format === 'f16') return f16ToF32(h);
  u32[0] = h << 16;
  return f32[0];
}

const toBits = (format: HalfFormat) => (format === 'f16' ? f32ToF16Bits : f32ToBf16Bits);

/** `src` rounded to `format` and packed two per word into `dst` from word `at`
 *  (an odd count leaves the last word's high half 0). */
export function packHalves(src: ArrayLike<number>, format: HalfFormat, dst: Uint32Array, at = 0): void {
  const bits = toBits(format);
  const n = src.length;
  for (let i = 0; i + 1 < n; i += 2) dst[at + i / 2] = (bits(src[i]) | (bits(src[i + 1]) << 16)) >>> 0;
  if (n % 2) dst[at + (n - 1) / 2] = bits(src[n - 1]);
}

/** The inverse of packHalves: `n` values from word `at` of `src`, as f32. */
export function unpackHalves(src: Uint32Array, format: HalfFormat, n: number, at = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const w = src[at + (i >> 1)];
    out[i] = halfBitsToF32(i & 1 ? w >>> 16 : w & 0xffff, format);
  }
  return out;
}

/** `t` rounded to `format` and back: the values a packed tensor holds, as f32. */
export function roundToHalf(t: ArrayLike<number>, format: HalfFormat): Float32Array {
  const bits = toBits(format);
  return Float32Array.from(t, (x) => halfBitsToF32(bits(x), format));
}

/** 32-bit words a tensor of `n` values takes in `format`. */
export function wordsOf(n: number, format: WeightFormat): number {
  return format === 'f32' ? n : Math.ceil(n / 2);
}

/** WGSL: `fn unpackW(w: u32) -> vec2<f32>`, the two values of a packed word (low half first). */
export function unpackWgsl(format: HalfFormat): string {
  return format === 'f16'
    ? 'fn unpackW(w: u32) -> vec2<f32> { return unpack2x16float(w); }'
    : 'fn unpackW(w: u32) -> vec2<f32> { return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }';
}

/** WGSL: `fn unpack4(w: vec2<u32>) -> vec4<f32>`, four consecutive packed values (plus unpackW). */
export function unpack4Wgsl(format: HalfFormat): string {
  return `${unpackWgsl(format)}
fn unpack4(w: vec2<u32>) -> vec4<f32> { return vec4<f32>(unpackW(w.x), unpackW(w.y)); }`;
}
