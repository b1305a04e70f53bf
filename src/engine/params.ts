// Where every parameter lives in the model's single parameter buffer (and, with the same
// offsets, in the gradient and AdamW moment buffers). Tensors use Hugging Face names and
// layouts (Linear weights are [out, in], row-major; RoPE is rotate-half).
import { paddedVocab, type LlamaConfig } from './config.ts';

export interface TensorSlot {
  name: string;
  shape: number[];
  /** Offset in floats (f32 elements) from the start of the buffer. */
  offset: number;
  size: number;
  /** Floats reserved from `offset`: the size rounded up to SLOT_ALIGN_FLOATS, and for the
   *  embedding and LM head the padded vocabulary's rows (zeros; config.ts paddedVocab). */
  span: number;
  /** Whether AdamW applies weight decay (not to norms, as is customary). */
  decay: boolean;
}

export interface ParamLayout {
  slots: TensorSlot[];
  byName: Map<string, TensorSlot>;
  /** Total floats, including alignment padding. */
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

export function buildParamLayout(c: LlamaConfig): ParamLayout {
  const slots: TensorSlot[] = [];
  let offset = 0;
  let paramCount = 0;
  const vocabRows = new Set(['model.embed_tokens.weight', 'lm_head.weight']);
  for (const { name, shape, decay } of paramShapes(c)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const floats = vocabRows.has(name) ? paddedVocab(c) * c.dModel : size;
    const span = Math.ceil(floats / SLOT_ALIGN_FLOATS) * SLOT_ALIGN_FLOATS;
    slots.push({ name, shape, offset, size, span, decay });
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

/** Packs named tensors into one flat buffer in layout order. Every slot must be present
 *  with the right size; extra tensors are reported, never silently ignored. */
export function packParams(layout: ParamLayout, tensors: NamedTensors): Float32Array {
  const flat = new Float32Array(layout.totalFloats);
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
    flat.set(t, slot.offset);
  }
  if (missing.length) throw new Error(`Missing tensors: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  const unknown = [...tensors.keys()].filter((k) => !layout.byName.has(k));
  if (unknown.length) throw new Error(`Unexpected tensors for this config: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`);
  return flat;
}

/** Splits a flat buffer back into named tensors (copies). */
export function unpackParams(layout: ParamLayout, flat: Float32Array): NamedTensors {
  const out: NamedTensors = new Map();
  for (const slot of layout.slots) out.set(slot.name, flat.slice(slot.offset, slot.offset + slot.size));
  return out;
}
