// A model on the GPU: its config, parameter layout, ONE parameter buffer and ONE gradient
// buffer (same layout), and the RoPE table. Created from a seed (normal(0, 0.02) for
// matrices and embeddings, ones for norms) or from named tensors (HF names).
import { validateConfig, type LlamaConfig } from './config.ts';
import { buildParamLayout, packParams, unpackParams, type NamedTensors, type ParamLayout } from './params.ts';
import type { GpuContext } from './device.ts';
import { gpuResources, fmtBytes, upload, GpuMemoryError, type GpuResources } from './gpu/resources.ts';
import type { View } from './gpu/plan.ts';
import { ropeTable } from './kernels/rope.ts';
import { Rng } from '../data/rng.ts';

export const INIT_STD = 0.02;

export interface Model {
  readonly ctx: GpuContext;
  readonly res: GpuResources;
  readonly config: LlamaConfig;
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly rope: GPUBuffer;
  /** A parameter tensor's range in `params` (or, with `grads`, in the gradient buffer). */
  slot(name: string, which?: 'params' | 'grads'): View;
  readParams(): Promise<NamedTensors>;
  writeParams(tensors: NamedTensors): void;
  readGrads(): Promise<NamedTensors>;
  destroy(): void;
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

export async function createModel(ctx: GpuContext, config: LlamaConfig, init: { seed: number } | NamedTensors): Promise<Model> {
  validateEngineConfig(config);
  const res = gpuResources(ctx);
  const layout = buildParamLayout(config);
  const bytes = layout.totalFloats * 4;
  if (bytes > res.limits.maxStorageBufferBindingSize || bytes > res.limits.maxBufferSize) {
    throw new GpuMemoryError(`Model does not fit this GPU: its ${layout.paramCount} parameters need ${fmtBytes(bytes)} in one buffer, above this adapter's limit ${fmtBytes(Math.min(res.limits.maxStorageBufferBindingSize, res.limits.maxBufferSize))}`);
  }
  const tensors = init instanceof Map ? init : initParams(config, init.seed);
  const flat = packParams(layout, tensors);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const params = res.createBuffer('params', bytes, usage);
  const grads = res.createBuffer('grads', bytes, usage);
  const table = ropeTable(config.maxSeqLen, config.headDim, config.ropeTheta, config.ropeScaling);
  const rope = res.createBuffer('rope', table.byteLength, usage);
  upload(ctx.device.queue, params, 0, flat);
  upload(ctx.device.queue, rope, 0, table);

  const readBuffer = async (src: GPUBuffer): Promise<NamedTensors> => {
    const staging = ctx.device.createBuffer({ size: src.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, staging, 0, src.size);
    ctx.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const data = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return unpackParams(layout, data);
  };

  return {
    ctx,
    res,
    config,
    layout,
    params,
    grads,
    rope,
    slot(name, which = 'params') {
      const s = layout.byName.get(name);
      if (!s) throw new Error(`no parameter named ${name}`);
      return { buffer: which === 'params' ? params : grads, offset: s.offset * 4, size: s.span * 4 };
    },
    readParams: () => readBuffer(params),
    readGrads: () => readBuffer(grads),
    writeParams(t) {
      upload(ctx.device.queue, params, 0, packParams(layout, t));
    },
    destroy() {
      for (const b of [params, grads, rope]) res.release(b);
    },
  };
}
