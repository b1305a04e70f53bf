// Where every parameter lives in the model's parameter buffer (and, with the same
// offsets, in the gradient and AdamW moment buffers). Tensors use Hugging Face names and
// layouts (Linear weights are [out, in], row-major; RoPE is rotate-half). Offsets count
// 32-bit words of one flat address space: an f32 value takes a word, 16-bit weights of a
// frozen model (half.ts) take half a word each. A parameter set too large for one GPU
// buffer is cut at slot boundaries into several (bufferRanges); each keeps these offsets
// relative to the range it starts.
import { paddedVocab, type LlamaConfig } from './config.ts';
import { packHalves, unpackHalves, wordsOf, type WeightFormat } from './half.ts';

export interface TensorSlot {
  name: string;
  shape: number[];
  /** Offset in 32-bit words from the start of the flat layout. */
  offset: number;
  /** Values (elements), whatever the format. */
  size: number;
  /** Words reserved from `offset`: the tensor's words rounded up to SLOT_ALIGN_FLOATS, and for
   *  the embedding and LM head the padded vocabulary's rows (zeros; config.ts paddedVocab). */
  span: number;
  /** f32, or 16-bit values packed two per word (low half first; frozen matrices only). */
  format: WeightFormat;
  /** Whether AdamW applies weight decay (not to norms, as is customary). */
  decay: boolean;
}

export interface ParamLayout {
  slots: TensorSlot[];
  byName: Map<string, TensorSlot>;
  /** Total words, including alignment padding (f32 values when every slot is f32). */
  totalFloats: number;
  /** Parameter count, without padding. */
  paramCount: number;
}

/** 64 floats = 256 bytes, WebGPU's minStorageBufferOffsetAlignment on every adapter. */
export const SLOT_ALIGN_FLOATS = 64;

export function layerPrefix(l: number): string {
  return `model.layers.${l}.`;
}

/** The parameter list in buffer order, with shapes. */
export function paramShapes(c: LlamaConfig): Array<{ name: string; shape: number[]; decay: boolean }> {
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const out: Array<{ name: string; shape: number[]; decay: boolean }> = [];
  out.push({ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.dModel], decay: true });
  for (let l = 0; l < c.nLayers; l++) {
    const p = layerPrefix(l);
    out.push({ name: p + 'input_layernorm.weight', shape: [c.dModel], decay: false });
    out.push({ name: p + 'self_attn.q_proj.weight', shape: [q, c.dModel], decay: true });
    out.push({ name: p + 'self_attn.k_proj.weight', shape: [kv, c.dModel], decay: true });
    out.push({ name: p + 'self_attn.v_proj.weight', shape: [kv, c.dModel], decay: true });
    if (c.qkvBias) {
      // after the weights, so q/k/v stay adjacent for the fused projection (layers.ts)
      out.push({ name: p + 'self_attn.q_proj.bias', shape: [q], decay: false });
      out.push({ name: p + 'self_attn.k_proj.bias', shape: [kv], decay: false });
      out.push({ name: p + 'self_attn.v_proj.bias', shape: [kv], decay: false });
    }
    out.push({ name: p + 'self_attn.o_proj.weight', shape: [c.dModel, q], decay: true });
    out.push({ name: p + 'post_attention_layernorm.weight', shape: [c.dModel], decay: false });
    out.push({ name: p + 'mlp.gate_proj.weight', shape: [c.hiddenDim, c.dModel], decay: true });
    out.push({ name: p + 'mlp.up_proj.weight', shape: [c.hiddenDim, c.dModel], decay: true });
    out.push({ name: p + 'mlp.down_proj.weight', shape: [c.dModel, c.hiddenDim], decay: true });
  }
  out.push({ name: 'model.norm.weight', shape: [c.dModel], decay: false });
  if (!c.tiedEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.dModel], decay: true });
  return out;
}

/** The model's layout; with `weights` 'f16' or 'bf16' every matrix (embedding, projections,
 *  LM head) is packed two values per word, norms and biases stay f32. */
export function buildParamLayout(c: LlamaConfig, weights: WeightFormat = 'f32'): ParamLayout {
  const vocabRows = new Set(['model.embed_tokens.weight', 'lm_head.weight']);
  const shapes = paramShapes(c).map((s) => ({ ...s, format: s.shape.length === 2 ? weights : ('f32' as const) }));
  return layoutOf(shapes, (name, size) => (vocabRows.has(name) ? paddedVocab(c) * c.dModel : size));
}

/** Tensors laid out one after another, each starting on a SLOT_ALIGN_FLOATS boundary;
 *  `valuesOf` may reserve room for more values than a tensor has (the padded vocabulary). */
export function layoutOf(shapes: Array<{ name: string; shape: number[]; decay: boolean; format?: WeightFormat }>, valuesOf: (name: string, size: number) => number = (_, n) => n): ParamLayout {
  const slots: TensorSlot[] = [];
  let offset = 0;
  let paramCount = 0;
  for (const { name, shape, decay, format = 'f32' } of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const span = Math.ceil(wordsOf(valuesOf(name, size), format) / SLOT_ALIGN_FLOATS) * SLOT_ALIGN_FLOATS;
    slots.push({ name, shape, offset, size, span, decay, format });
    paramCount += size;
    offset += span;
  }
  return { slots, byName: new Map(slots.map((s) => [s.name, s])), totalFloats: offset, paramCount };
}

/** Non-embedding parameters, as used for model-FLOPs estimates (6N per token). */
export function nonEmbeddingParams(c: LlamaConfig): number {
  const layout = buildParamLayout(c);
  let n = layout.paramCount - c.vocabSize * c.dModel;
  if (!c.tiedEmbeddings) n -= c.vocabSize * c.dModel;
  return n;
}

/** Named tensors (HF names, f32, row-major) as loaded from or saved to weight files. */
export type NamedTensors = Map<string, Float32Array>;

/** Words a slot's values occupy (without its alignment padding). */
export const slotWords = (s: TensorSlot): number => wordsOf(s.size, s.format);

/** Where a parameter set is cut into GPU buffers: word ranges [start, end) of the flat
 *  layout, each ending at a slot boundary and at most `maxBytes` long. One range (the
 *  whole layout) when it fits; else greedily as many slots per buffer as fit. */
export function bufferRanges(layout: ParamLayout, maxBytes: number): Array<{ start: number; end: number }> {
  const maxWords = Math.floor(maxBytes / 4);
  if (layout.totalFloats <= maxWords) return [{ start: 0, end: layout.totalFloats }];
  const ranges: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (const s of layout.slots) {
    if (s.span > maxWords) throw new RangeError(`tensor ${s.name} [${s.shape.join(', ')}] needs ${s.span * 4} bytes, above the ${maxBytes}-byte buffer limit`);
    if (s.offset + s.span - start > maxWords) {
      ranges.push({ start, end: s.offset });
      start = s.offset;
    }
  }
  ranges.push({ start, end: layout.totalFloats });
  return ranges;
}

/** Packs named tensors into one flat buffer in layout order (16-bit slots as packed words,
 *  their bits reinterpreted as f32: move them as bytes). Every slot must be present with the
 *  right size; extra tensors are reported, never silently ignored. */
export function packParams(layout: ParamLayout, tensors: NamedTensors): Float32Array {
  const flat = new Float32Array(layout.totalFloats);
  const words = new Uint32Array(flat.buffer);
  const missing: string[] = [];
  for (const slot of layout.slots) {
    const t = tensors.get(slot.name);
    if (!t) {
      missing.push(slot.name);
      continue;
    }
    if (t.length !== slot.size) {
      throw new Error(`Tensor ${slot.name} has ${t.length} values; the config expects shape [${slot.shape.join(', ')}] = ${slot.size}`);
    }
    if (slot.format === 'f32') flat.set(t, slot.offset);
    else packHalves(t, slot.format, words, slot.offset);
  }
  if (missing.length) throw new Error(`Missing tensors: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  const unknown = [...tensors.keys()].filter((k) => !layout.byName.has(k));
  if (unknown.length) throw new Error(`Unexpected tensors for this config: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`);
  return flat;
}

/** Splits a flat buffer back into named tensors (copies; 16-bit slots unpacked to f32). */
export function unpackParams(layout: ParamLayout, flat: Float32Array): NamedTensors {
  const out: NamedTensors = new Map();
  const words = new Uint32Array(flat.buffer, flat.byteOffset, flat.length);
  for (const slot of layout.slots) {
    out.set(slot.name, slot.format === 'f32' ? flat.slice(slot.offset, slot.offset + slot.size) : unpackHalves(words, slot.format, slot.size, slot.offset));
  }
  return out;
}
