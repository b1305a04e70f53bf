// A model on the GPU: its config, parameter layout, its parameter buffer and ONE gradient
// buffer (same layout; none when frozen for LoRA), and the RoPE table. Created from a seed (normal(0, 0.02) for
// matrices and embeddings, ones for norms) or from named tensors (HF names). A frozen model
// may keep its matrices 16-bit (half.ts: two values per u32, unpacked in the kernels) and,
// when its parameters exceed one buffer of this adapter, spread them over several
// (params.ts bufferRanges); a trainable one keeps f32 in one buffer.
import { validateConfig, type LlamaConfig } from './config.ts';
import { bufferRanges, buildParamLayout, packParams, unpackParams, type NamedTensors, type ParamLayout } from './params.ts';
import type { GpuContext } from './device.ts';
import { gpuResources, fmtBytes, upload, readBufferF32, GpuMemoryError, type BufferSpec, type GpuResources } from './gpu/resources.ts';
import type { View } from './gpu/plan.ts';
import { ropeTable, ropeTableFloats } from './kernels/rope.ts';
import { WEIGHT_FORMATS, type WeightFormat } from './half.ts';
import { Rng } from '../data/rng.ts';

export const INIT_STD = 0.02;

/** Tensors in a parameter buffer and (when trainable) one gradient buffer of the same
 *  layout: a model's weights, or a LoRA adapter's (lora.ts). What the trainer updates. */
export interface ParamSet {
  readonly layout: ParamLayout;
  /** The parameter buffer; when a frozen set spans several, the first of `buffers`. */
  readonly params: GPUBuffer;
  /** Every parameter buffer, in layout order (one unless a frozen set was split). */
  readonly buffers: readonly GPUBuffer[];
  /** Absent for a frozen model (LoRA trains an adapter instead; no gradient is kept). */
  readonly grads?: GPUBuffer;
  /** A tensor's range in its parameter buffer, with its storage format (or, with 'grads',
   *  in the gradient buffer). */
  slot(name: string, which?: 'params' | 'grads'): View;
  readParams(): Promise<NamedTensors>;
  writeParams(tensors: NamedTensors): void;
  readGrads(): Promise<NamedTensors>;
  destroy(): void;
}

export interface Model extends ParamSet {
  readonly ctx: GpuContext;
  readonly res: GpuResources;
  readonly config: LlamaConfig;
  readonly rope: GPUBuffer;
  /** How the weight matrices are stored ('f32', or packed 16-bit for a frozen model). */
  readonly weightFormat: WeightFormat;
}

export interface ModelOptions {
  /** Frozen base weights (LoRA): no gradient buffer; only adapters train. */
  frozen?: boolean;
  /** Storage of the weight matrices (embedding, projections, LM head): 'f32' (default), or
   *  16-bit 'f16'/'bf16' packed two per u32 — half the bytes, for frozen models only (norms
   *  and biases stay f32; values are rounded to nearest even on upload; readParams returns
   *  the rounded values as f32). */
  weights?: WeightFormat;
  /** The largest parameter buffer to create, in bytes (default, and upper bound: the
   *  adapter's maxStorageBufferBindingSize and maxBufferSize). A frozen model above it
   *  spans several buffers; tests lower it to run the split on a small model. */
  maxBufferBytes?: number;
}

/** Extra constraints of this engine's kernels beyond validateConfig. */
export function validateEngineConfig(c: LlamaConfig): void {
  validateConfig(c);
  const problems: string[] = [];
  // Any vocabulary: the engine pads it to a multiple of 4 itself (config.ts paddedVocab).
  for (const key of ['dModel', 'headDim', 'hiddenDim'] as const) {
    if (c[key] % 4 !== 0) problems.push(`${key} (${c[key]}) must be a multiple of 4 (the kernels read vec4s)`);
  }
  if (c.headDim > 256) problems.push(`headDim (${c.headDim}) above 256 is not supported (attention keeps a head in registers)`);
  if (problems.length) throw new Error(`Unsupported model config for the WebGPU engine: ${problems.join('; ')}`);
}

/** Seeded init: normal(0, INIT_STD) for every matrix (embeddings included), 1 for norms. */
export function initParams(config: LlamaConfig, seed: number): NamedTensors {
  const rng = new Rng(seed);
  const normal = () => {
    const u1 = Math.max(rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next());
  };
  const out: NamedTensors = new Map();
  for (const slot of buildParamLayout(config).slots) {
    const t = new Float32Array(slot.size);
    if (slot.shape.length === 1) t.fill(1);
    else for (let i = 0; i < t.length; i++) t[i] = normal() * INIT_STD;
    out.set(slot.name, t);
  }
  return out;
}

export async function createModel(ctx: GpuContext, config: LlamaConfig, init: { seed: number } | NamedTensors, opts: ModelOptions = {}): Promise<Model> {
  validateEngineConfig(config);
  const weights = opts.weights ?? 'f32';
  if (!WEIGHT_FORMATS.includes(weights)) throw new Error(`Unknown weight format "${weights}" (choose from ${WEIGHT_FORMATS.join(', ')})`);
  if (weights !== 'f32' && !opts.frozen) {
    throw new Error(`${weights} weights are for a frozen model only (a LoRA base, or inference): pass frozen: true. A trainable model keeps f32 weights, which its optimizer updates in place.`);
  }
  const res = gpuResources(ctx);
  const layout = buildParamLayout(config, weights);
  paramBufferRanges(res.limits, layout, !opts.frozen, opts.maxBufferBytes); // refuse before making weights
  const tensors = init instanceof Map ? init : initParams(config, init.seed);
  const set = createParamSet(res, 'params', layout, tensors, !opts.frozen, { maxBufferBytes: opts.maxBufferBytes });
  const table = ropeTable(config.maxSeqLen, config.headDim, config.ropeTheta, config.ropeScaling);
  const ropeSpec = ropeBuffer(config);
  const rope = res.createBuffer(ropeSpec.label, ropeSpec.bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, ropeSpec.bindable);
  upload(ctx.device.queue, rope, 0, table);
  return {
    ...set,
    ctx,
    res,
    config,
    rope,
    weightFormat: weights,
    destroy() {
      set.destroy();
      res.release(rope);
    },
  };
}

type BufferLimits = Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>;

/** The model's RoPE table buffer (cos, sin for every position of its context). */
export function ropeBuffer(c: LlamaConfig): BufferSpec {
  return { label: 'rope', bytes: ropeTableFloats(c.maxSeqLen, c.headDim) * 4, bindable: true };
}

/** A parameter set's buffers (createParamSet): the parameter buffer, cut into `label.0`,
 *  `label.1`, … at `ranges` when a frozen set exceeds one buffer, then `label.grads` (the
 *  whole layout) when trainable. */
export function paramSetPlan(label: string, layout: ParamLayout, trainable: boolean, limits: BufferLimits, maxBufferBytes?: number): { ranges: Array<{ start: number; end: number }>; buffers: BufferSpec[] } {
  const ranges = paramBufferRanges(limits, layout, trainable, maxBufferBytes);
  const buffers: BufferSpec[] = ranges.map((r, i) => ({ label: ranges.length > 1 ? `${label}.${i}` : label, bytes: (r.end - r.start) * 4, bindable: true }));
  if (trainable) buffers.push({ label: `${label}.grads`, bytes: layout.totalFloats * 4, bindable: true });
  return { ranges, buffers };
}

/** Where a parameter set's buffers split the layout (params.ts bufferRanges) under this
 *  adapter's limits and `maxBufferBytes`; throws GpuMemoryError when a trainable set needs more
 *  than one buffer or a tensor exceeds the limit. */
export function paramBufferRanges(limits: BufferLimits, layout: ParamLayout, trainable: boolean, maxBufferBytes = Infinity): Array<{ start: number; end: number }> {
  const adapterMax = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const maxBytes = Math.min(adapterMax, maxBufferBytes);
  const bytes = layout.totalFloats * 4;
  if (trainable && bytes > maxBytes) {
    throw new GpuMemoryError(`Model does not fit this GPU: its ${layout.paramCount} trainable parameters need ${fmtBytes(bytes)} in one buffer, above ${maxBytes < adapterMax ? 'the requested buffer limit' : "this adapter's limit"} ${fmtBytes(maxBytes)} (a frozen base for LoRA may span several buffers)`);
  }
  try {
    return bufferRanges(layout, maxBytes);
  } catch (e) {
    throw new GpuMemoryError(`Model does not fit this GPU: ${(e as Error).message} (this adapter's limit is ${fmtBytes(adapterMax)})`);
  }
}

/** Uploads `tensors` into new parameter buffers laid out by `layout`, with a gradient buffer
 *  of the same layout when `trainable`. One buffer while the layout fits the adapter's
 *  limits (and `maxBufferBytes`); a frozen set larger than that is cut at slot boundaries
 *  into several, a trainable one is refused (its optimizer runs over one buffer). */
export function createParamSet(res: GpuResources, label: string, layout: ParamLayout, tensors: NamedTensors, trainable: boolean, opts: { maxBufferBytes?: number } = {}): ParamSet {
  const device = res.device;
  const { ranges, buffers: specs } = paramSetPlan(label, layout, trainable, res.limits, opts.maxBufferBytes);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const created = specs.map((b) => res.createBuffer(b.label, b.bytes, usage, b.bindable));
  const buffers = created.slice(0, ranges.length);
  const grads = trainable ? created[ranges.length] : undefined;
  const rangeOf = new Map(layout.slots.map((s) => [s.name, ranges.findIndex((r) => s.offset >= r.start && s.offset < r.end)]));
  const write = (t: NamedTensors) => {
    const flat = packParams(layout, t);
    ranges.forEach((r, i) => upload(device.queue, buffers[i], 0, flat.subarray(r.start, r.end)));
  };
  write(tensors);
  return {
    layout,
    params: buffers[0],
    buffers,
    grads,
    slot(name, which = 'params') {
      const s = layout.byName.get(name);
      if (!s) throw new Error(`no parameter named ${name}`);
      if (which === 'grads') {
        if (!grads) throw new Error(`${name} is frozen: there is no gradient buffer`);
        return { buffer: grads, offset: s.offset * 4, size: s.span * 4 };
      }
      const i = rangeOf.get(name)!;
      return { buffer: buffers[i], offset: (s.offset - ranges[i].start) * 4, size: s.span * 4, format: s.format };
    },
    async readParams() {
      const flat = new Float32Array(layout.totalFloats);
      const parts = await Promise.all(buffers.map((b, i) => readBufferF32(device, b, (ranges[i].end - ranges[i].start) * 4)));
      // as words: packed 16-bit pairs are not f32 values (bits must survive the copy)
      parts.forEach((part, i) => new Uint32Array(flat.buffer).set(new Uint32Array(part.buffer, part.byteOffset, part.length), ranges[i].start));
      return unpackParams(layout, flat);
    },
    async readGrads() {
      if (!grads) throw new Error(`${label} is frozen: there are no gradients to read`);
      return unpackParams(layout, await readBufferF32(device, grads));
    },
    writeParams: write,
    destroy() {
      for (const b of buffers) res.release(b);
      if (grads) res.release(grads);
    },
  };
}
