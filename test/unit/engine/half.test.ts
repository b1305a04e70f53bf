// 16-bit weights on the CPU side: f32 → f16/bf16 rounding (nearest, ties to even) on known
// values and against a brute-force nearest search, packing two per word, the layout of a
// frozen 16-bit model, and where a parameter set is cut into several GPU buffers.
import { describe, expect, it } from 'vitest';
import { f32ToBf16Bits, f32ToF16Bits, halfBitsToF32, packHalves, roundToHalf, unpackHalves } from '../../../src/engine/half.ts';
import { f16ToF32 } from '../../../src/engine/weights/safetensors.ts';
import { bufferRanges, buildParamLayout, packParams, slotWords, unpackParams, SLOT_ALIGN_FLOATS, type NamedTensors } from '../../../src/engine/params.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import { Rng } from '../../../src/data/rng.ts';

const f32bits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

describe('f32 → f16', () => {
  it.each([
    [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [0, 0x0000], [-0, 0x8000],
    [65504, 0x7bff], [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00],
    [0.1, 0x2e66], [1 / 3, 0x3555], [Math.PI, 0x4248],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [Math.fround(2 ** -25 * 1.0000001), 0x0001],
    [3 * 2 ** -25, 0x0002], [1023.5 * 2 ** -24, 0x0400], [5 * 2 ** -26, 0x0001], [1e-10, 0x0000], [-1e-10, 0x8000],
    // ties between 1 and its neighbour go to the even significand
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Math.fround(1 + 2 ** -11 + 2 ** -20), 0x3c01],
  ])('%s → %s', (x, bits) => {
    expect(f32ToF16Bits(x)).toBe(bits);
  });

  it('NaN stays NaN', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(Number.isNaN(f16ToF32(h))).toBe(true);
  });

  it('every f16 value converts back to its own bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaNs
      expect(f32ToF16Bits(f16ToF32(h))).toBe(h);
    }
  });

  it('rounds to the nearest f16, ties to even (brute force over random f32 bit patterns)', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 20000; i++) {
      // exponents around f16's range: subnormals, normals and overflow
      const exp = 100 + rng.int(48);
      const x = f32bits(((rng.int(2) << 31) | (exp << 23) | rng.int(1 << 23)) >>> 0);
      const h = f32ToF16Bits(x);
      const y = f16ToF32(h);
      const mag = h & 0x7fff;
      const neighbours = [mag - 1, mag + 1].filter((m) => m >= 0 && m <= 0x7c00).map((m) => f16ToF32((h & 0x8000) | m));
      if (Math.abs(x) >= 65520) {
        expect(Math.abs(y)).toBe(Infinity);
        continue;
      }
      for (const z of neighbours) {
        if (!Number.isFinite(z)) continue;
        const [dy, dz] = [Math.abs(x - y), Math.abs(x - z)];
        expect(dy).toBeLessThanOrEqual(dz);
        if (dy === dz) expect(mag & 1, `tie at ${x}`).toBe(0);
      }
    }
  });
});

describe('f32 → bf16', () => {
  it.each([
    [1, 0x3f80], [-2, 0xc000], [0, 0], [-0, 0x8000], [Infinity, 0x7f80],
    [Math.fround(1 + 2 ** -8), 0x3f80], [Math.fround(1 + 3 * 2 ** -8), 0x3f82], [Math.fround(1 + 2 ** -8 + 2 ** -20), 0x3f81],
    [f32bits(0x7f7fffff), 0x7f80], [Math.fround(1e-40), 0x0001],
  ])('%s → %s', (x, bits) => {
    expect(f32ToBf16Bits(x)).toBe(bits);
  });

  it('NaN stays NaN; bf16 values are exact', () => {
    expect(Number.isNaN(halfBitsToF32(f32ToBf16Bits(NaN), 'bf16'))).toBe(true);
    expect(Number.isNaN(halfBitsToF32(f32ToBf16Bits(f32bits(0x7f800001)), 'bf16'))).toBe(true);
    for (const h of [0x3f80, 0x4049, 0x0001, 0x7f7f, 0xff7f, 0x8080]) expect(f32ToBf16Bits(halfBitsToF32(h, 'bf16'))).toBe(h);
  });
});

describe('packing', () => {
  it('packs two values per word, low half first, and unpacks to the rounded values', () => {
    const src = Float32Array.from([1, -2, 0.1, 65504, 3]);
    const words = new Uint32Array(5).fill(0xdeadbeef);
    packHalves(src, 'f16', words, 1);
    expect(Array.from(words)).toEqual([0xdeadbeef, 0xc0003c00, 0x7bff2e66, 0x00004200, 0xdeadbeef]);
    expect(Array.from(unpackHalves(words, 'f16', 5, 1))).toEqual(Array.from(roundToHalf(src, 'f16')));
    expect(roundToHalf([0.1], 'f16')[0]).toBe(f16ToF32(0x2e66));
    packHalves(src, 'bf16', words, 0);
    expect(words[0]).toBe(0xc0003f80);
    expect(Array.from(unpackHalves(words, 'bf16', 5))).toEqual(Array.from(roundToHalf(src, 'bf16')));
  });
});

const config: LlamaConfig = {
  vocabSize: 53, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, hiddenDim: 40,
  maxSeqLen: 64, ropeTheta: 1e6, normEps: 1e-5, tiedEmbeddings: false, bosTokenId: 1, eosTokenId: 2, qkvBias: true,
};

function tensors(c: LlamaConfig): NamedTensors {
  const rng = new Rng(3);
  return new Map(buildParamLayout(c).slots.map((s) => [s.name, Float32Array.from({ length: s.size }, () => rng.next() - 0.5)]));
}

describe('16-bit layout', () => {
  it('packs the matrices (half the words), keeps norms and biases f32, and round-trips', () => {
    const f32 = buildParamLayout(config);
    const f16 = buildParamLayout(config, 'f16');
    expect(f16.paramCount).toBe(f32.paramCount);
    for (const s of f16.slots) {
      const ref = f32.byName.get(s.name)!;
      expect(s.format, s.name).toBe(s.shape.length === 2 ? 'f16' : 'f32');
      expect(s.offset % SLOT_ALIGN_FLOATS).toBe(0);
      expect(slotWords(s)).toBe(s.shape.length === 2 ? Math.ceil(ref.size / 2) : ref.size);
      expect(s.span).toBeGreaterThanOrEqual(slotWords(s));
    }
    // the padded vocabulary's rows are reserved in packed form too
    expect(f16.byName.get('lm_head.weight')!.span).toBe(Math.ceil((56 * 32) / 2 / 64) * 64);
    expect(f16.totalFloats / f32.totalFloats).toBeLessThan(0.56);
    const t = tensors(config);
    const back = unpackParams(f16, packParams(f16, t));
    for (const [name, v] of t) {
      const want = f16.byName.get(name)!.format === 'f16' ? roundToHalf(v, 'f16') : v;
      expect(Array.from(back.get(name)!), name).toEqual(Array.from(want));
    }
  });
});

describe('bufferRanges', () => {
  const layout = buildParamLayout(config, 'f16');
  const bytes = layout.totalFloats * 4;

  it('one range when the layout fits', () => {
    expect(bufferRanges(layout, bytes)).toEqual([{ start: 0, end: layout.totalFloats }]);
  });

  it('cuts at slot boundaries into ranges within the limit that cover the layout', () => {
    const largest = Math.max(...layout.slots.map((s) => s.span)) * 4;
    for (const limit of [largest, largest + 256, Math.floor(bytes / 2), bytes - 4]) {
      const ranges = bufferRanges(layout, limit);
      expect(ranges.length, `limit ${limit}`).toBeGreaterThan(1);
      expect(ranges[0].start).toBe(0);
      expect(ranges.at(-1)!.end).toBe(layout.totalFloats);
      const starts = new Set(layout.slots.map((s) => s.offset));
      ranges.forEach((r, i) => {
        expect((r.end - r.start) * 4).toBeLessThanOrEqual(limit);
        expect(starts.has(r.start)).toBe(true);
        if (i > 0) expect(r.start).toBe(ranges[i - 1].end);
      });
    }
  });

  it('refuses a tensor larger than the limit, naming it', () => {
    const largest = layout.slots.reduce((a, s) => (s.span > a.span ? s : a));
    expect(() => bufferRanges(layout, largest.span * 4 - 256)).toThrow(largest.name);
  });
});
