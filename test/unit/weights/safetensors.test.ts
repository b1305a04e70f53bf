import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { f16ToF32, parseSafetensors, writeSafetensors } from '../../../src/engine/weights/safetensors.ts';

const FIX = path.resolve(__dirname, '../../fixtures/weights');
const expected = JSON.parse(readFileSync(path.join(FIX, 'expected.json'), 'utf8'));
const num = (v: number | string) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number));

/** Hand-assembles a safetensors file from a header object and a data section. */
function rawFile(header: object, data: Uint8Array, headerLenOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLenOverride ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors reading (fixtures written by make_fixtures.py with torch)', () => {
  const file = parseSafetensors(readFileSync(path.join(FIX, 'dtypes.safetensors')), 'dtypes.safetensors');
  it('lists every tensor with its dtype and shape', () => {
    expect(file.entries.map((e) => [e.name, e.dtype, e.shape])).toEqual([
      ['a.f32', 'F32', [3, 5]],
      ['b.f16', 'F16', [3, 5]],
      ['c.bf16', 'BF16', [3, 5]],
      ['d.f16_special', 'F16', [8]],
      ['e.bf16_special', 'BF16', [10]],
    ]);
    expect(file.metadata).toEqual({ format: 'pt' });
  });
  for (const name of ['a.f32', 'b.f16', 'c.bf16', 'd.f16_special', 'e.bf16_special']) {
    it(`reads ${name} into f32 exactly as torch converts it`, () => {
      const got = Array.from(file.read(name));
      const want = (expected[name].values as (number | string)[]).map(num);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => expect(Object.is(g, Math.fround(want[i])), `${name}[${i}]: ${g} vs ${want[i]}`).toBe(true));
    });
  }
  it('f16 decoding covers subnormals, infinities and NaN', () => {
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });
});

describe('safetensors writing', () => {
  it('round-trips f32 bit for bit, NaN payloads and -0 included', () => {
    const a = new Float32Array([1.5, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, 0.1]);
    const b = new Float32Array(12).map((_, i) => Math.sin(i) * 1e3);
    const nan = new Float32Array(2);
    new Uint32Array(nan.buffer).set([0x7fc00001, 0xffffffff]);
    const bytes = writeSafetensors(new Map([
      ['a', { shape: [7], data: a }],
      ['b', { shape: [3, 4], data: b }],
      ['nan', { shape: [1, 2], data: nan }],
    ]), { note: 'x' });
    const hdrLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + hdrLen) % 8).toBe(0);
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ note: 'x' });
    for (const [name, t] of [['a', a], ['b', b], ['nan', nan]] as const) {
      expect(Array.from(new Uint32Array(f.read(name).buffer))).toEqual(Array.from(new Uint32Array(t.buffer)));
    }
    expect(f.entries.find((e) => e.name === 'b')!.shape).toEqual([3, 4]);
  });
  it('refuses data that does not match the shape', () => {
    expect(() => writeSafetensors(new Map([['w', { shape: [2, 2], data: new Float32Array(3) }]]))).toThrow(/"w" has 3 values/);
  });
});

describe('safetensors validation errors', () => {
  const data = new Uint8Array(24);
  it('a header whose shape disagrees with data_offsets names the tensor', () => {
    const f = rawFile({ w: { dtype: 'F32', shape: [2, 4], data_offsets: [0, 24] } }, data);
    expect(() => parseSafetensors(f, 'x.safetensors')).toThrow(/x\.safetensors: tensor "w": shape \[2, 4\] × F32 needs 32 bytes but data_offsets \[0, 24\] span 24/);
  });
  it('offsets past the end of the file (truncated) name the tensor', () => {
    const f = rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, big: { dtype: 'F16', shape: [16], data_offsets: [8, 40] } }, data);
    expect(() => parseSafetensors(f)).toThrow(/tensor "big": data_offsets \[8, 40\] reach past the end of the data section \(24 bytes/);
  });
  it('a header length larger than the file', () => {
    const f = rawFile({}, data, 10_000);
    expect(() => parseSafetensors(f)).toThrow(/header length 10000 exceeds/);
  });
  it('unsupported dtypes', () => {
    const f = rawFile({ ids: { dtype: 'I64', shape: [3], data_offsets: [0, 24] } }, data);
    expect(() => parseSafetensors(f)).toThrow(/tensor "ids": dtype "I64" is not supported/);
  });
  it('overlapping tensors', () => {
    const f = rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, data);
    expect(() => parseSafetensors(f)).toThrow(/"a" and "b" overlap/);
  });
  it('malformed JSON and too-short files', () => {
    const bad = new Uint8Array(8 + 3);
    new DataView(bad.buffer).setBigUint64(0, 3n, true);
    bad.set([123, 34, 120], 8);
    expect(() => parseSafetensors(bad)).toThrow(/header is not valid UTF-8 JSON/);
    expect(() => parseSafetensors(new Uint8Array(4))).toThrow(/too short/);
  });
  it('reading a tensor that is not there', () => {
    const f = parseSafetensors(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)));
    expect(() => f.read('b')).toThrow(/no tensor named "b"/);
  });
});
