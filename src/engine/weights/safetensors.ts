// The safetensors format: 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}),
// then the raw little-endian tensor bytes (offsets relative to the end of the header).
// We read F32, F16 and BF16 into Float32Array and write F32. Every size and offset in the
// header is checked against the file before a byte is read, so a lying header gives an
// error that names the tensor instead of garbage weights.

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const BYTES_PER: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Reads one tensor as f32 (converting F16/BF16). */
  read(name: string): Float32Array;
}

/** Header JSON larger than this is refused (the reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Parses and validates a safetensors file held in memory. `label` names it in errors. */
export function parseSafetensors(bytes: ArrayBuffer | Uint8Array, label = 'safetensors file'): SafetensorsFile {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const fail = (msg: string): never => {
    throw new Error(`${label}: ${msg}`);
  };
  if (u8.byteLength < 8) fail(`file is ${u8.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(Math.min(MAX_HEADER_BYTES, u8.byteLength - 8))) {
    fail(`header length ${headerLen64} exceeds the ${u8.byteLength - 8} bytes after the length field`);
  }
  const headerLen = Number(headerLen64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = u8.byteLength - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null) fail('__metadata__ must be an object of strings');
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) fail(`tensor "${name}": entry is not an object`);
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !(dtype in BYTES_PER)) {
      fail(`tensor "${name}": dtype ${JSON.stringify(dtype)} is not supported (F32, F16, BF16)`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offs)} must be [begin, end] byte offsets`);
    }
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = count * BYTES_PER[dtype as SafetensorsDtype];
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
    if (end - begin !== want) {
      fail(`tensor "${name}": shape [${(shape as number[]).join(', ')}] × ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > dataLen) {
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] reach past the end of the data section (${dataLen} bytes; file truncated?)`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end });
  }
  // Overlapping tensors mean a corrupt or hand-edited header.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) fail(`tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the data section`);
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  return {
    entries,
    metadata,
    read(name: string): Float32Array {
      const e = byName.get(name);
      if (!e) throw new Error(`${label}: no tensor named "${name}"`);
      return decodeTensor(u8, dataStart + e.begin, e.end - e.begin, e.dtype);
    },
  };
}

function decodeTensor(u8: Uint8Array, at: number, byteLen: number, dtype: SafetensorsDtype): Float32Array {
  const view = new DataView(u8.buffer, u8.byteOffset + at, byteLen);
  if (dtype === 'F32') {
    // Copy bytes (not values) so every bit pattern, NaN payloads included, survives.
    // All WebGPU platforms are little-endian, like the file.
    const start = u8.byteOffset + at;
    return new Float32Array(u8.buffer.slice(start, start + byteLen));
  }
  const out = new Float32Array(byteLen / 2);
  if (dtype === 'BF16') {
    // bf16 is the top half of an f32.
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < out.length; i++) u32[i] = view.getUint16(i * 2, true) << 16;
    return out;
  }
  for (let i = 0; i < out.length; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
  return out;
}

/** IEEE 754 half → single (exact; handles subnormals, inf, NaN). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
}

/** Serialises tensors as F32 safetensors, in the given order. */
export function writeSafetensors(tensors: Map<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
