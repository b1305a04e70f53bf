// The activation workspace: every forward activation the backward pass needs, plus the
// backward scratch, sized for maxBatch × maxSeqLen and for the largest of the configs it
// serves. Several models (training arms) share one workspace: their steps are encoded in
// separate submissions and the queue runs them one after another.
import type { LlamaConfig } from './config.ts';
import type { View } from './gpu/plan.ts';
import { fmtBytes, type GpuResources } from './gpu/resources.ts';

/** Per-layer activation kinds (one region per layer) and single scratch kinds. */
const LAYER_KINDS = ['x', 'xn1', 'rstd1', 'qkv', 'P', 'att', 'xmid', 'xn2', 'rstd2', 'gu', 'hact'] as const;
const SCRATCH_KINDS = ['xf', 'rstdf', 'logits', 'dres', 'dxn', 'datt', 'dqkv', 'dS', 'dhact', 'dgu', 'ce', 'wloss', 'partial'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];
export type ScratchKind = (typeof SCRATCH_KINDS)[number];

export interface WorkspaceOptions {
  maxBatch: number;
  maxSeqLen: number;
  /** Every config that will run in this workspace. */
  configs: LlamaConfig[];
}

/** Floats each kind needs for one layer at R = B·T rows. */
function kindFloats(c: LlamaConfig, B: number, T: number): Record<LayerKind | ScratchKind, number> {
  const R = B * T;
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const att = B * c.nHeads * T * T;
  return {
    x: R * c.dModel, xn1: R * c.dModel, rstd1: R, qkv: R * (q + 2 * kv), P: att, att: R * q,
    xmid: R * c.dModel, xn2: R * c.dModel, rstd2: R, gu: R * 2 * c.hiddenDim, hact: R * c.hiddenDim,
    xf: R * c.dModel, rstdf: R, logits: R * c.vocabSize, dres: R * c.dModel, dxn: R * c.dModel, datt: R * q,
    dqkv: R * (q + 2 * kv), dS: att, dhact: R * c.hiddenDim, dgu: R * 2 * c.hiddenDim,
    ce: R, wloss: R, partial: 64,
  };
}

const align256 = (bytes: number) => Math.ceil(Math.max(bytes, 16) / 256) * 256;

export class Workspace {
  readonly maxBatch: number;
  readonly maxSeqLen: number;
  readonly maxLayers: number;
  private buffers = new Map<string, { buffer: GPUBuffer; stride: number }>();

  constructor(private readonly res: GpuResources, opts: WorkspaceOptions) {
    if (!opts.configs.length) throw new Error('Workspace needs at least one model config');
    this.maxBatch = opts.maxBatch;
    this.maxSeqLen = opts.maxSeqLen;
    this.maxLayers = Math.max(...opts.configs.map((c) => c.nLayers));
    const strides = new Map<string, number>();
    for (const c of opts.configs) {
      const f = kindFloats(c, opts.maxBatch, Math.min(opts.maxSeqLen, c.maxSeqLen));
      for (const [k, n] of Object.entries(f)) strides.set(k, Math.max(strides.get(k) ?? 0, align256(n * 4)));
    }
    const maxBinding = res.limits.maxStorageBufferBindingSize;
    for (const [kind, stride] of strides) {
      if (stride > maxBinding) {
        throw new Error(`Model does not fit this GPU: activation "${kind}" needs ${fmtBytes(stride)} per layer at batch ${opts.maxBatch} × ${opts.maxSeqLen} tokens, above maxStorageBufferBindingSize ${fmtBytes(maxBinding)}; use a smaller batch or context`);
      }
    }
    try {
      for (const [kind, stride] of strides) {
        const count = kind === 'x' ? this.maxLayers + 1 : (LAYER_KINDS as readonly string[]).includes(kind) ? this.maxLayers : 1;
        const buffer = res.createBuffer(`workspace.${kind}`, stride * count, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, false);
        this.buffers.set(kind, { buffer, stride });
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** True when this workspace was sized for `c` (every region large enough). */
  serves(c: LlamaConfig): boolean {
    if (c.nLayers > this.maxLayers) return false;
    const f = kindFloats(c, this.maxBatch, Math.min(this.maxSeqLen, c.maxSeqLen));
    return Object.entries(f).every(([k, n]) => align256(n * 4) <= this.buffers.get(k)!.stride);
  }

  layer(kind: LayerKind, l: number): View {
    const r = this.buffers.get(kind)!;
    return { buffer: r.buffer, offset: l * r.stride, size: r.stride };
  }

  scratch(kind: ScratchKind): View {
    const r = this.buffers.get(kind)!;
    return { buffer: r.buffer, offset: 0, size: r.stride };
  }

  get bytes(): number {
    let n = 0;
    for (const { buffer } of this.buffers.values()) n += buffer.size;
    return n;
  }

  destroy(): void {
    for (const { buffer } of this.buffers.values()) this.res.release(buffer);
    this.buffers.clear();
  }
}
