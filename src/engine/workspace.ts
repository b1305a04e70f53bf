// The activation workspace: every forward activation the backward pass needs, plus the
// backward scratch, sized for maxBatch × maxSeqLen and for the largest of the configs it
// serves. Several models (training arms) share one workspace: their steps are encoded in
// separate submissions and the queue runs them one after another.
//
// Attention memory has two modes. 'stored' keeps the softmax probabilities P [B, H, T, T]
// of every layer plus one scratch dS of the same size: (nLayers + 1)·B·H·T²·4 bytes.
// 'recompute' keeps each query row's log-sum-exp lse [B, H, T] per layer
// plus one scratch delta [B, H, T] ((nLayers + 1)·B·H·T·4 bytes) and recomputes P in the
// backward pass (kernels/attention-recompute.ts). 'auto' picks 'stored' while that fits
// storedAttentionBudget, else 'recompute'.
import { paddedVocab, type LlamaConfig } from './config.ts';
import type { View } from './gpu/plan.ts';
import { fmtBytes, GpuMemoryError, type GpuResources } from './gpu/resources.ts';

/** Per-layer activation kinds (one region per layer) and single scratch kinds. */
const LAYER_KINDS = ['x', 'xn1', 'rstd1', 'qkv', 'P', 'lse', 'att', 'xmid', 'xn2', 'rstd2', 'gu', 'hact'] as const;
const SCRATCH_KINDS = ['xf', 'rstdf', 'logits', 'dres', 'dxn', 'datt', 'dqkv', 'dS', 'delta', 'dhact', 'dgu', 'ce', 'wloss', 'partial'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];
export type ScratchKind = (typeof SCRATCH_KINDS)[number];

export type AttentionMode = 'stored' | 'recompute';
export const ATTENTION_MODES = ['stored', 'recompute', 'auto'] as const;
/** The kinds only one attention mode allocates. */
const MODE_ONLY: Record<AttentionMode, readonly string[]> = { stored: ['P', 'dS'], recompute: ['lse', 'delta'] };

export interface WorkspaceOptions {
  maxBatch: number;
  maxSeqLen: number;
  /** Every config that will run in this workspace. */
  configs: LlamaConfig[];
  /** Keep the attention probabilities ('stored') or recompute them in the backward pass
   *  ('recompute'); 'auto' (default) = stored while they fit storedAttentionBudget. */
  attention?: AttentionMode | 'auto';
}

/** Bytes of P (every layer) + dS in 'stored' mode for one config at batch B × T tokens. */
export function storedAttentionBytes(c: LlamaConfig, B: number, T: number): number {
  return (c.nLayers + 1) * B * c.nHeads * T * T * 4;
}

/** The most 'auto' spends on stored probabilities: 128 MiB (the playground's default preset
 *  needs 80 MiB), or half the device's largest buffer when that is smaller. */
export function storedAttentionBudget(limits: Pick<GPUSupportedLimits, 'maxBufferSize'>): number {
  return Math.min(128 * 2 ** 20, Math.floor(limits.maxBufferSize / 2));
}

/** The mode a workspace for `configs` at maxBatch × maxSeqLen uses. */
export function resolveAttentionMode(mode: AttentionMode | 'auto', configs: LlamaConfig[], maxBatch: number, maxSeqLen: number, limits: Pick<GPUSupportedLimits, 'maxBufferSize'>): AttentionMode {
  if (mode !== 'auto') return mode;
  const bytes = Math.max(...configs.map((c) => storedAttentionBytes(c, maxBatch, Math.min(maxSeqLen, c.maxSeqLen))));
  return bytes <= storedAttentionBudget(limits) ? 'stored' : 'recompute';
}

/** Floats each kind needs for one layer at R = B·T rows. */
function kindFloats(c: LlamaConfig, B: number, T: number): Record<LayerKind | ScratchKind, number> {
  const R = B * T;
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const att = B * c.nHeads * T * T;
  const rows = B * c.nHeads * T;
  return {
    x: R * c.dModel, xn1: R * c.dModel, rstd1: R, qkv: R * (q + 2 * kv), P: att, lse: rows, att: R * q,
    xmid: R * c.dModel, xn2: R * c.dModel, rstd2: R, gu: R * 2 * c.hiddenDim, hact: R * c.hiddenDim,
    xf: R * c.dModel, rstdf: R, logits: R * paddedVocab(c), dres: R * c.dModel, dxn: R * c.dModel, datt: R * q,
    dqkv: R * (q + 2 * kv), dS: att, delta: rows, dhact: R * c.hiddenDim, dgu: R * 2 * c.hiddenDim,
    ce: R, wloss: R, partial: 64,
  };
}

const align256 = (bytes: number) => Math.ceil(Math.max(bytes, 16) / 256) * 256;

export class Workspace {
  readonly maxBatch: number;
  readonly maxSeqLen: number;
  readonly maxLayers: number;
  readonly attention: AttentionMode;
  private buffers = new Map<string, { buffer: GPUBuffer; stride: number }>();

  constructor(private readonly res: GpuResources, opts: WorkspaceOptions) {
    if (!opts.configs.length) throw new Error('Workspace needs at least one model config');
    this.maxBatch = opts.maxBatch;
    this.maxSeqLen = opts.maxSeqLen;
    this.maxLayers = Math.max(...opts.configs.map((c) => c.nLayers));
    const mode = opts.attention ?? 'auto';
    if (!(ATTENTION_MODES as readonly string[]).includes(mode)) throw new Error(`Workspace option attention must be one of ${ATTENTION_MODES.join(', ')} (got ${String(mode)})`);
    this.attention = resolveAttentionMode(mode, opts.configs, opts.maxBatch, opts.maxSeqLen, res.limits);
    const strides = new Map<string, number>();
    for (const c of opts.configs) {
      for (const [k, n] of this.kinds(c)) strides.set(k, Math.max(strides.get(k) ?? 0, align256(n * 4)));
    }
    const maxBinding = res.limits.maxStorageBufferBindingSize;
    for (const [kind, stride] of strides) {
      if (stride > maxBinding) {
        const hint = MODE_ONLY.stored.includes(kind) ? ", or attention: 'recompute'" : '';
        throw new GpuMemoryError(`Model does not fit this GPU: activation "${kind}" needs ${fmtBytes(stride)} per layer at batch ${opts.maxBatch} × ${opts.maxSeqLen} tokens, above maxStorageBufferBindingSize ${fmtBytes(maxBinding)}; use a smaller batch or context${hint}`);
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
    return this.kinds(c).every(([k, n]) => align256(n * 4) <= this.buffers.get(k)!.stride);
  }

  /** [kind, floats per layer] of every region this workspace's attention mode uses. */
  private kinds(c: LlamaConfig): Array<[string, number]> {
    const other = MODE_ONLY[this.attention === 'stored' ? 'recompute' : 'stored'];
    return Object.entries(kindFloats(c, this.maxBatch, Math.min(this.maxSeqLen, c.maxSeqLen))).filter(([k]) => !other.includes(k));
  }

  layer(kind: LayerKind, l: number): View {
    const r = this.region(kind);
    return { buffer: r.buffer, offset: l * r.stride, size: r.stride };
  }

  scratch(kind: ScratchKind): View {
    const r = this.region(kind);
    return { buffer: r.buffer, offset: 0, size: r.stride };
  }

  private region(kind: string): { buffer: GPUBuffer; stride: number } {
    const r = this.buffers.get(kind);
    if (!r) throw new Error(`Workspace has no "${kind}" region in attention mode '${this.attention}'`);
    return r;
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
