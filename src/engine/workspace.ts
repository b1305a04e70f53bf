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
//
// The logits region holds logitsRows(c) rows [rows, Vp]: every row of a micro-batch while
// that fits LOGITS_BUDGET, else a multiple of 64 rows that does; the head, cross-entropy and
// head backward run over the rows chunk by chunk (layers.ts encodeForward).
//
// Per-layer activation checkpointing ('layers') keeps only each block's input x per layer
// and ONE region of every other per-layer kind: the backward pass re-runs block l's forward
// into it just before block l's backward (layers.ts), about a third more compute for
// activations that no longer grow with depth. The recomputation runs the same dispatches on
// the same inputs, so gradients are bit-identical to keeping every layer. 'auto' checkpoints
// when keeping every layer would exceed CHECKPOINT_BUDGET.
import { paddedVocab, type LlamaConfig } from './config.ts';
import type { View } from './gpu/plan.ts';
import { fmtBytes, GpuMemoryError, type GpuResources } from './gpu/resources.ts';

/** Per-layer activation kinds (one region per layer) and single scratch kinds. */
const LAYER_KINDS = ['x', 'xn1', 'rstd1', 'qkv', 'P', 'lse', 'att', 'xmid', 'xn2', 'rstd2', 'gu', 'hact', 'lora'] as const;
const SCRATCH_KINDS = ['xf', 'rstdf', 'logits', 'dres', 'dxn', 'datt', 'dqkv', 'dS', 'delta', 'dhact', 'dgu', 'ce', 'wloss', 'partial', 'dlora'] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];
export type ScratchKind = (typeof SCRATCH_KINDS)[number];

export type AttentionMode = 'stored' | 'recompute';
export const ATTENTION_MODES = ['stored', 'recompute', 'auto'] as const;
/** Keep every layer's activations ('none') or only the blocks' inputs ('layers'). */
export type CheckpointMode = 'none' | 'layers';
export const CHECKPOINT_MODES = ['none', 'layers', 'auto'] as const;
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
  /** The LoRA adapters that will train here (rank and number of adapted projections):
   *  each keeps s·x·Aᵀ [rows, r] per layer and target for its backward pass. */
  lora?: Array<{ rank: number; targets: number }>;
  /** Per-layer activation checkpointing: 'none', 'layers', or 'auto' (default) = 'layers'
   *  when keeping every layer's activations would exceed CHECKPOINT_BUDGET. */
  checkpoint?: CheckpointMode | 'auto';
  /** Rows per logits chunk instead of logitsChunkRows' choice (a multiple of 64; tests). */
  logitsRows?: number;
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

/** The most 'auto' keeps in per-layer activations before checkpointing: 256 MiB (the
 *  playground's presets need at most 124 MiB at 4 × 512; SmolLM2-135M at 1 × 512, 468 MiB). */
export const CHECKPOINT_BUDGET = 256 * 2 ** 20;

/** The most one logits chunk [rows, Vp] may take before the rows are split: 32 MiB (the
 *  presets' vocabulary of 1024 never splits; 49,152 at 512 tokens splits in 4, 151,936 in 8). */
export const LOGITS_BUDGET = 32 * 2 ** 20;

/** Rows of logits computed at once for config c when a micro-batch has R rows. */
export function logitsChunkRows(c: LlamaConfig, R: number, override?: number): number {
  if (override !== undefined) {
    if (!Number.isInteger(override) || override < 64 || override % 64) throw new Error(`Workspace option logitsRows must be a positive multiple of 64 (got ${override})`);
    return Math.min(R, override);
  }
  const rowBytes = paddedVocab(c) * 4;
  if (R * rowBytes <= LOGITS_BUDGET) return R;
  return Math.min(R, Math.max(64, Math.floor(LOGITS_BUDGET / rowBytes / 64) * 64));
}

/** Floats of one LoRA target's s·x·Aᵀ block at R rows (a 256-byte-aligned binding). */
const loraBlockFloats = (R: number, rank: number) => Math.ceil((R * rank) / 64) * 64;

/** A layer's LoRA region at R rows: one block per adapted projection, each as large as the
 *  largest adapter's s·x·Aᵀ [R, r]. */
function loraRegionFloats(R: number, lora: Array<{ rank: number; targets: number }>): { block: number; floats: number } {
  const block = Math.max(0, ...lora.map((a) => loraBlockFloats(R, a.rank)));
  return { block, floats: block * Math.max(0, ...lora.map((a) => a.targets)) };
}

/** Floats each kind needs for one layer at R = B·T rows. */
function kindFloats(c: LlamaConfig, B: number, T: number, lora: Array<{ rank: number; targets: number }>, logitsRows?: number): Record<LayerKind | ScratchKind, number> {
  const R = B * T;
  const q = c.nHeads * c.headDim;
  const kv = c.nKvHeads * c.headDim;
  const att = B * c.nHeads * T * T;
  const rows = B * c.nHeads * T;
  return {
    x: R * c.dModel, xn1: R * c.dModel, rstd1: R, qkv: R * (q + 2 * kv), P: att, lse: rows, att: R * q,
    xmid: R * c.dModel, xn2: R * c.dModel, rstd2: R, gu: R * 2 * c.hiddenDim, hact: R * c.hiddenDim,
    xf: R * c.dModel, rstdf: R, logits: logitsChunkRows(c, R, logitsRows) * paddedVocab(c), dres: R * c.dModel, dxn: R * c.dModel, datt: R * q,
    dqkv: R * (q + 2 * kv), dS: att, delta: rows, dhact: R * c.hiddenDim, dgu: R * 2 * c.hiddenDim,
    ce: R, wloss: R, partial: 64,
    lora: loraRegionFloats(R, lora).floats,
    dlora: Math.max(0, ...lora.map((a) => R * a.rank)),
  };
}

const align256 = (bytes: number) => Math.ceil(Math.max(bytes, 16) / 256) * 256;

/** [kind, floats per layer] of every region `attention` uses for config `c`. */
function kindsOf(c: LlamaConfig, attention: AttentionMode, maxBatch: number, maxSeqLen: number, lora: Array<{ rank: number; targets: number }>, logitsRows?: number): Array<[string, number]> {
  const other = MODE_ONLY[attention === 'stored' ? 'recompute' : 'stored'];
  const floats = kindFloats(c, maxBatch, Math.min(maxSeqLen, c.maxSeqLen), lora, logitsRows);
  floats.lora = loraRegionFloats(maxBatch * maxSeqLen, lora).floats;
  return Object.entries(floats).filter(([k, n]) => !other.includes(k) && n > 0);
}

/** One workspace buffer: `count` regions of `stride` bytes (one per layer for a per-layer
 *  kind, nLayers + 1 for the residual stream x, one for a scratch kind); a kernel binds one
 *  region at a time. */
export interface WorkspaceRegion {
  kind: string;
  stride: number;
  count: number;
}

/** The workspace's buffers for `opts` under `limits`, in allocation order, and the attention
 *  mode it resolves to; no limit checks (the constructor and memory-plan.ts make them). */
export function workspaceRegions(opts: WorkspaceOptions, limits: Pick<GPUSupportedLimits, 'maxBufferSize'>): { attention: AttentionMode; checkpoint: CheckpointMode; regions: WorkspaceRegion[] } {
  if (!opts.configs.length) throw new Error('Workspace needs at least one model config');
  const mode = opts.attention ?? 'auto';
  if (!(ATTENTION_MODES as readonly string[]).includes(mode)) throw new Error(`Workspace option attention must be one of ${ATTENTION_MODES.join(', ')} (got ${String(mode)})`);
  const attention = resolveAttentionMode(mode, opts.configs, opts.maxBatch, opts.maxSeqLen, limits);
  const maxLayers = Math.max(...opts.configs.map((c) => c.nLayers));
  const strides = new Map<string, number>();
  for (const c of opts.configs) {
    for (const [k, n] of kindsOf(c, attention, opts.maxBatch, opts.maxSeqLen, opts.lora ?? [], opts.logitsRows)) strides.set(k, Math.max(strides.get(k) ?? 0, align256(n * 4)));
  }
  const checkpoint = resolveCheckpointMode(opts.checkpoint ?? 'auto', strides, maxLayers);
  const perLayer = (kind: string) => (LAYER_KINDS as readonly string[]).includes(kind);
  const count = (kind: string) => (kind === 'x' ? maxLayers + 1 : perLayer(kind) ? (checkpoint === 'layers' ? 1 : maxLayers) : 1);
  const regions = [...strides].map(([kind, stride]) => ({ kind, stride, count: count(kind) }));
  return { attention, checkpoint, regions };
}

/** 'auto' → 'layers' when every layer's non-residual activations would exceed CHECKPOINT_BUDGET. */
function resolveCheckpointMode(mode: CheckpointMode | 'auto', strides: Map<string, number>, nLayers: number): CheckpointMode {
  if (!(CHECKPOINT_MODES as readonly string[]).includes(mode)) throw new Error(`Workspace option checkpoint must be one of ${CHECKPOINT_MODES.join(', ')} (got ${String(mode)})`);
  if (mode !== 'auto') return mode;
  let perLayer = 0;
  for (const [k, stride] of strides) if (k !== 'x' && (LAYER_KINDS as readonly string[]).includes(k)) perLayer += stride;
  return perLayer * nLayers > CHECKPOINT_BUDGET ? 'layers' : 'none';
}

/** The buffer label of a workspace kind. */
export const workspaceLabel = (kind: string): string => `workspace.${kind}`;

/** The refusal for a region above maxStorageBufferBindingSize (Workspace and memory-plan.ts). */
export function activationTooLarge(kind: string, stride: number, maxBatch: number, maxSeqLen: number, maxBinding: number): string {
  const hint = MODE_ONLY.stored.includes(kind) ? ", or attention: 'recompute'" : '';
  return `Model does not fit this GPU: activation "${kind}" needs ${fmtBytes(stride)} per layer at batch ${maxBatch} × ${maxSeqLen} tokens, above maxStorageBufferBindingSize ${fmtBytes(maxBinding)}; use a smaller batch or context${hint}`;
}

export class Workspace {
  readonly maxBatch: number;
  readonly maxSeqLen: number;
  readonly maxLayers: number;
  readonly attention: AttentionMode;
  readonly checkpoint: CheckpointMode;
  private readonly loraSizes: Array<{ rank: number; targets: number }>;
  private readonly logitsRowsOverride?: number;
  private buffers = new Map<string, { buffer: GPUBuffer; stride: number }>();

  constructor(private readonly res: GpuResources, opts: WorkspaceOptions) {
    const { attention, checkpoint, regions } = workspaceRegions(opts, res.limits);
    this.maxBatch = opts.maxBatch;
    this.maxSeqLen = opts.maxSeqLen;
    this.maxLayers = Math.max(...opts.configs.map((c) => c.nLayers));
    this.loraSizes = opts.lora ?? [];
    this.logitsRowsOverride = opts.logitsRows;
    this.attention = attention;
    this.checkpoint = checkpoint;
    const maxBinding = res.limits.maxStorageBufferBindingSize;
    for (const { kind, stride } of regions) {
      if (stride > maxBinding) throw new GpuMemoryError(activationTooLarge(kind, stride, opts.maxBatch, opts.maxSeqLen, maxBinding));
    }
    try {
      for (const { kind, stride, count } of regions) {
        const buffer = res.createBuffer(workspaceLabel(kind), stride * count, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, false);
        this.buffers.set(kind, { buffer, stride });
      }
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** True when this workspace was sized for `c` (every region large enough). */
  serves(c: LlamaConfig, lora?: { rank: number; targets: number }): boolean {
    if (c.nLayers > this.maxLayers) return false;
    if (lora && !this.loraSizes.some((a) => a.rank >= lora.rank && a.targets >= lora.targets)) return false;
    return this.kinds(c).every(([k, n]) => align256(n * 4) <= this.buffers.get(k)!.stride);
  }

  /** [kind, floats per layer] of every region this workspace's attention mode uses. */
  private kinds(c: LlamaConfig): Array<[string, number]> {
    return kindsOf(c, this.attention, this.maxBatch, this.maxSeqLen, this.loraSizes, this.logitsRowsOverride);
  }

  /** Layer l's region of a per-layer kind; with checkpointing every layer but the residual
   *  stream x shares region 0 (the block being run or re-run). */
  layer(kind: LayerKind, l: number): View {
    const r = this.region(kind);
    return { buffer: r.buffer, offset: this.regionIndex(kind, l) * r.stride, size: r.stride };
  }

  /** Layer l's block for the j-th adapted projection of a LoRA adapter of rank r. */
  lora(l: number, j: number): View {
    const r = this.region('lora');
    const blockBytes = loraRegionFloats(this.maxBatch * this.maxSeqLen, this.loraSizes).block * 4;
    return { buffer: r.buffer, offset: this.regionIndex('lora', l) * r.stride + j * blockBytes, size: blockBytes };
  }

  /** Rows of logits config c computes at once in this workspace (≥ any micro-batch's rows
   *  when the whole batch fits LOGITS_BUDGET). */
  logitsRows(c: LlamaConfig): number {
    return logitsChunkRows(c, this.maxBatch * Math.min(this.maxSeqLen, c.maxSeqLen), this.logitsRowsOverride);
  }

  private regionIndex(kind: LayerKind, l: number): number {
    return this.checkpoint === 'layers' && kind !== 'x' ? 0 : l;
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
