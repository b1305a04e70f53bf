// The memory plan: every GPU buffer a training run (model + optional LoRA adapter + Trainer
// with its own workspace, optionally a generator) will allocate, computed on the CPU before
// any allocation, from the same functions the allocators call (model.ts paramSetPlan /
// ropeBuffer, workspace.ts workspaceRegions, trainer.ts trainerBuffers,
// generate/generator.ts generatorBuffers). So its numbers are the bytes createBuffer is asked
// for, buffer by buffer (test/gpu/engine/memory-plan.test.ts compares them with the
// GpuResources tally). It checks each buffer against the adapter's limits (and an optional
// total budget) and, when something does not fit, names the largest offending buffer and
// what would make it fit: a shorter sequence, a smaller batch, recomputed attention,
// activation checkpointing, LoRA, f16 base weights.
//
// Not in the plan: kernel uniform buffers (tens of bytes each, created as step plans are built,
// shared by content across models: GpuResources.uniformBytes), readback staging made and
// destroyed around one read (readParams, logits), and generation's prefix-copy scratch.
import { paddedVocab, type LlamaConfig } from './config.ts';
import { buildParamLayout, type ParamLayout } from './params.ts';
import { paramSetPlan, ropeBuffer, validateEngineConfig } from './model.ts';
import { DEFAULT_LORA, loraLayout, validateLoraSpec, type LoraSpec } from './lora.ts';
import { activationTooLarge, logitsChunkRows, workspaceLabel, workspaceRegions, type AttentionMode, type CheckpointMode } from './workspace.ts';
import { evalStagingBuffer, trainerBuffers } from './trainer.ts';
import { generatorBuffers, kvCacheTooLarge } from './generate/generator.ts';
import { bufferSize, fmtBytes, type BufferSpec } from './gpu/resources.ts';
import type { WeightFormat } from './half.ts';

export type PlanLimits = Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>;

/** WebGPU's default limits: what a device gets unless it asks for more (createGpuContext asks
 *  for the adapter's maximum, e.g. 1 GiB each on SwiftShader, 2–4 GiB on desktop GPUs). */
export const WEBGPU_DEFAULT_LIMITS: PlanLimits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };

export interface MemoryPlanOptions {
  /** Rows per micro-batch and tokens per row the trainer is sized for (maxBatch × maxSeqLen). */
  batch: number;
  seq: number;
  /** Train a LoRA adapter over a frozen base; absent = full training (every weight, f32). */
  lora?: LoraSpec;
  /** Storage of the base's matrices; 16-bit only with LoRA (a frozen base). Default 'f32'. */
  weights?: WeightFormat;
  /** The workspace's attention mode; 'auto' (default) resolves as the Workspace does. */
  attention?: AttentionMode | 'auto';
  /** Per-layer activation checkpointing; 'auto' (default) resolves as the Workspace does. */
  checkpoint?: CheckpointMode | 'auto';
  /** The device's limits (ctx.limits: createGpuContext requests the adapter's maximum). */
  limits: PlanLimits;
  /** Micro-batches per step (one input slot each). Default 1. */
  accumSteps?: number;
  /** Include forwardLoss's readback buffer (made on the first evaluation). */
  eval?: boolean;
  /** Include a generator (rollouts) over the same model: its KV cache and activations. */
  generation?: { maxBatch: number; maxSeq: number; prefillChunk?: number };
  /** A budget for the total, in bytes (e.g. what the user allows on this GPU; WebGPU does not
   *  report the device's memory). */
  maxTotalBytes?: number;
  /** ModelOptions.maxBufferBytes (a test hook that splits a frozen base early). */
  maxBufferBytes?: number;
}

export type PlanCategory = 'weights' | 'adapter' | 'gradients' | 'optimizer' | 'activations' | 'logits' | 'inputs' | 'kvCache' | 'generation';
export const PLAN_CATEGORIES: readonly PlanCategory[] = ['weights', 'adapter', 'gradients', 'optimizer', 'activations', 'logits', 'inputs', 'kvCache', 'generation'];

export interface PlannedBuffer {
  /** createBuffer's label. */
  label: string;
  /** Bytes allocated (the request rounded as createBuffer rounds it). */
  bytes: number;
  /** The largest range one kernel binds as a storage buffer (a workspace buffer binds one
   *  layer's region, a KV cache one layer's slab); 0 when never bound as storage. */
  binding: number;
  category: PlanCategory;
  /** What it holds, for messages. */
  what: string;
}

export interface MemoryPlan {
  config: LlamaConfig;
  batch: number;
  seq: number;
  lora?: LoraSpec;
  weights: WeightFormat;
  /** The attention mode the trainer's workspace will use. */
  attention: AttentionMode;
  /** Whether the workspace keeps every layer's activations or re-runs each block. */
  checkpoint: CheckpointMode;
  limits: PlanLimits;
  maxTotalBytes?: number;
  /** Every buffer, in allocation order (model, adapter, workspace, trainer, generator). */
  buffers: PlannedBuffer[];
  totals: Record<PlanCategory, number>;
  total: number;
  trainableParams: number;
  frozenParams: number;
  largest: PlannedBuffer;
  fits: boolean;
  /** One line per limit exceeded, the largest buffer's first. */
  problems: string[];
  /** Changes that make it fit (when it does not), e.g. "sequence ≤ 384", "f16 base weights". */
  suggestions: string[];
  /** The refusal: the largest buffer over a limit and what would make it fit; '' when it fits. */
  message: string;
}

/** The plan for training `config` with `opts`. Throws (as createModel / createAdapter do) for
 *  options no amount of memory fixes: an unsupported config, bad LoRA settings, 16-bit weights
 *  without LoRA. Memory problems are reported in the plan, never thrown. */
export function memoryPlan(config: LlamaConfig, opts: MemoryPlanOptions): MemoryPlan {
  return planWithSuggestions(config, opts, true);
}

function planWithSuggestions(config: LlamaConfig, opts: MemoryPlanOptions, suggest: boolean): MemoryPlan {
  validateEngineConfig(config);
  const weights = opts.weights ?? 'f32';
  if (weights !== 'f32' && !opts.lora) throw new Error(`${weights} base weights need LoRA (a frozen base): full training keeps f32 weights, which its optimizer updates in place`);
  if (opts.lora) validateLoraSpec(opts.lora);
  for (const k of ['batch', 'seq'] as const) if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`memory plan: ${k} must be a positive integer (got ${opts[k]})`);
  const { batch: B, seq: T, limits } = opts;
  const problems: Array<{ bytes: number; text: string }> = [];
  const refused = new Set<string>();
  const buffers: PlannedBuffer[] = [];
  const add = (b: BufferSpec, category: PlanCategory, what: string, binding = b.bindable ? bufferSize(b.bytes) : 0) => buffers.push({ label: b.label, bytes: bufferSize(b.bytes), binding, category, what });

  // the model (createModel): parameter buffer(s), gradients when trainable, the RoPE table
  const frozen = !!opts.lora;
  const layout = buildParamLayout(config, weights);
  for (const { spec, what } of paramSet('params', layout, !frozen, limits, opts.maxBufferBytes, problems, refused)) add(spec, spec.label.endsWith('.grads') ? 'gradients' : 'weights', what);
  add(ropeBuffer(config), 'weights', `RoPE table [${config.maxSeqLen} × ${config.headDim}]`);

  // the adapter (createAdapter)
  let trainable: ParamLayout = layout;
  if (opts.lora) {
    trainable = loraLayout(config, opts.lora);
    for (const { spec, what } of paramSet('lora', trainable, true, limits, undefined, problems, refused)) add(spec, spec.label.endsWith('.grads') ? 'gradients' : 'adapter', what);
  }

  // the trainer's workspace
  const loraSize = opts.lora ? [{ rank: opts.lora.rank, targets: opts.lora.targets.length }] : undefined;
  const ws = workspaceRegions({ maxBatch: B, maxSeqLen: T, configs: [config], attention: opts.attention, checkpoint: opts.checkpoint, lora: loraSize }, limits);
  for (const r of ws.regions) {
    const what = r.kind === 'logits' ? `logits [${logitsChunkRows(config, B * Math.min(T, config.maxSeqLen))} × ${paddedVocab(config)}]` : `activation "${r.kind}"${r.count > 1 ? ` × ${r.count} layers` : ''}`;
    add({ label: workspaceLabel(r.kind), bytes: r.stride * r.count, bindable: false }, r.kind === 'logits' ? 'logits' : 'activations', what, r.stride);
    if (r.stride > limits.maxStorageBufferBindingSize) problems.push({ bytes: r.stride, text: activationTooLarge(r.kind, r.stride, B, T, limits.maxStorageBufferBindingSize) });
  }

  // the trainer's own buffers
  const category = (label: string): PlanCategory => (label.startsWith('adam.') ? 'optimizer' : 'inputs');
  for (const b of trainerBuffers(trainable.totalFloats, { rows: B * T, vocabSize: config.vocabSize, accumSteps: opts.accumSteps ?? 1 })) add(b, category(b.label), b.label);
  if (opts.eval) add(evalStagingBuffer(B * T), 'inputs', 'evaluation readback');

  // a generator over the same model
  if (opts.generation) {
    const g = opts.generation;
    const slab = g.maxBatch * config.nKvHeads * g.maxSeq * config.headDim * 4;
    for (const b of generatorBuffers(config, { ...g, loraRank: opts.lora?.rank })) {
      const kv = b.label === 'generator.kCache' || b.label === 'generator.vCache';
      add(b, kv ? 'kvCache' : 'generation', kv ? `${b.label.endsWith('kCache') ? 'K' : 'V'} cache, ${config.nLayers} layers of [${g.maxBatch}, ${config.nKvHeads}, ${g.maxSeq}, ${config.headDim}]` : b.label, kv ? slab : undefined);
    }
    if (slab > limits.maxStorageBufferBindingSize) problems.push({ bytes: slab, text: kvCacheTooLarge(slab, limits.maxStorageBufferBindingSize) });
  }

  // every buffer against the limits (workspace regions and KV slabs were checked per binding,
  // parameter sets that paramSetPlan refused carry its message)
  const perBinding = new Set<PlanCategory>(['activations', 'logits', 'kvCache']);
  for (const b of buffers) {
    if (refused.has(b.label)) continue;
    if (b.bytes > limits.maxBufferSize) problems.push({ bytes: b.bytes, text: `Model does not fit this GPU: buffer "${b.label}" (${b.what}) needs ${fmtBytes(b.bytes)}, above this adapter's maxBufferSize ${fmtBytes(limits.maxBufferSize)}` });
    else if (!perBinding.has(b.category) && b.binding > limits.maxStorageBufferBindingSize) {
      problems.push({ bytes: b.binding, text: `Model does not fit this GPU: buffer "${b.label}" (${b.what}) needs ${fmtBytes(b.bytes)}, above this adapter's maxStorageBufferBindingSize ${fmtBytes(limits.maxStorageBufferBindingSize)}` });
    }
  }
  const totals = Object.fromEntries(PLAN_CATEGORIES.map((c) => [c, 0])) as Record<PlanCategory, number>;
  for (const b of buffers) totals[b.category] += b.bytes;
  const total = buffers.reduce((a, b) => a + b.bytes, 0);
  const largest = buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  if (T > config.maxSeqLen) problems.push({ bytes: Infinity, text: `sequence ${T} is longer than the model's context (${config.maxSeqLen} positions)` });
  if (opts.maxTotalBytes !== undefined && total > opts.maxTotalBytes) {
    problems.push({ bytes: total, text: `Model does not fit the budget: it needs ${fmtBytes(total)} in all, above ${fmtBytes(opts.maxTotalBytes)}; the largest buffer is "${largest.label}" (${largest.what}, ${fmtBytes(largest.bytes)})` });
  }
  problems.sort((a, b) => b.bytes - a.bytes);
  const fits = problems.length === 0;
  const suggestions = fits || !suggest ? [] : whatWouldFit(config, opts, ws.attention, ws.checkpoint);
  const message = fits ? '' : `${problems[0].text}${problems.length > 1 ? ` (and ${problems.length - 1} more ${problems.length > 2 ? 'limits' : 'limit'} exceeded)` : ''}. ${suggestions.length ? `It would fit with ${suggestions.join(', or ')}.` : 'Neither a shorter sequence, a smaller batch, recomputed attention, activation checkpointing, LoRA nor f16 base weights makes it fit.'}`;
  const adapterParams = opts.lora ? trainable.paramCount : 0;
  return {
    config, batch: B, seq: T, lora: opts.lora, weights, attention: ws.attention, checkpoint: ws.checkpoint, limits, maxTotalBytes: opts.maxTotalBytes,
    buffers, totals, total, trainableParams: opts.lora ? adapterParams : layout.paramCount, frozenParams: opts.lora ? layout.paramCount : 0,
    largest, fits, problems: problems.map((p) => p.text), suggestions, message,
  };
}

/** A parameter set's buffers as paramSetPlan lays them out; where it refuses (a trainable set
 *  above one buffer, a tensor above the limit), the buffers it would need, with its message. */
function paramSet(label: string, layout: ParamLayout, trainable: boolean, limits: PlanLimits, maxBufferBytes: number | undefined, problems: Array<{ bytes: number; text: string }>, refused: Set<string>): Array<{ spec: BufferSpec; what: string }> {
  let plan: ReturnType<typeof paramSetPlan>;
  try {
    plan = paramSetPlan(label, layout, trainable, limits, maxBufferBytes);
  } catch (err) {
    // as large as needed: the trainable set whole, or the oversized tensor in its own buffer
    const biggest = Math.max(...layout.slots.map((s) => s.span * 4));
    const unlimited = { maxStorageBufferBindingSize: Infinity, maxBufferSize: Infinity };
    plan = trainable ? paramSetPlan(label, layout, true, unlimited) : paramSetPlan(label, layout, false, unlimited, Math.max(biggest, Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize, maxBufferBytes ?? Infinity)));
    problems.push({ bytes: Math.max(...plan.buffers.map((b) => b.bytes)), text: (err as Error).message });
    for (const b of plan.buffers) refused.add(b.label);
  }
  const tensorsIn = (r: { start: number; end: number }) => {
    const inside = layout.slots.filter((s) => s.offset >= r.start && s.offset < r.end);
    return inside.length === 1 ? inside[0].name : `${inside.length} tensors, ${inside[0].name} … ${inside.at(-1)!.name}`;
  };
  return plan.buffers.map((spec, i) => ({ spec, what: spec.label.endsWith('.grads') ? `gradients of ${layout.paramCount} parameters` : tensorsIn(plan.ranges[i]) }));
}

/** The changes that make a plan fit, each tried on its own: the longest sequence and the
 *  largest batch that fit, recomputed attention, activation checkpointing, LoRA (rank 16 on every projection), f16. */
function whatWouldFit(config: LlamaConfig, opts: MemoryPlanOptions, attention: AttentionMode, checkpoint: CheckpointMode): string[] {
  const fits = (o: Partial<MemoryPlanOptions>) => planWithSuggestions(config, { ...opts, ...o }, false).fits;
  const largest = (hi: number, key: 'seq' | 'batch'): number => {
    let lo = 0;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits({ [key]: mid })) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const out: string[] = [];
  const seq = largest(Math.min(opts.seq, config.maxSeqLen + 1) - 1, 'seq');
  if (seq >= 1) out.push(`sequence ≤ ${seq}${opts.batch > 1 ? ` (batch ${opts.batch})` : ''}`);
  if (opts.batch > 1) {
    const b = largest(opts.batch - 1, 'batch');
    if (b >= 1) out.push(`batch ≤ ${b}`);
  }
  if (attention === 'stored' && fits({ attention: 'recompute' })) out.push("attention 'recompute'");
  if (checkpoint === 'none' && fits({ checkpoint: 'layers' })) out.push('per-layer activation checkpointing');
  if (!opts.lora) {
    if (fits({ lora: DEFAULT_LORA })) out.push(`LoRA (rank ${DEFAULT_LORA.rank} on ${DEFAULT_LORA.targets.join(',')}) over the f32 base`);
    else if (fits({ lora: DEFAULT_LORA, weights: 'f16' })) out.push(`LoRA (rank ${DEFAULT_LORA.rank} on ${DEFAULT_LORA.targets.join(',')}) over an f16 base`);
  } else if ((opts.weights ?? 'f32') === 'f32' && fits({ weights: 'f16' })) out.push('f16 base weights');
  return out;
}

/** The plan as text lines (the CLI's report). */
export function formatMemoryPlan(p: MemoryPlan): string[] {
  const c = p.config;
  const how = p.lora ? `LoRA rank ${p.lora.rank} on ${p.lora.targets.join(',')} over a frozen ${p.weights} base` : 'full training (f32 weights)';
  const row = (name: string, bytes: number, note = '') => `  ${name.padEnd(18)} ${fmtBytes(bytes).padStart(11)}${note ? `  ${note}` : ''}`;
  const biggest = (cat: PlanCategory) => p.buffers.filter((b) => b.category === cat).reduce<PlannedBuffer | undefined>((a, b) => (!a || b.binding > a.binding ? b : a), undefined);
  const act = biggest('activations');
  const lines = [
    `memory plan: batch ${p.batch} × ${p.seq} tokens, ${how}, ${p.attention} attention, ${p.checkpoint === 'layers' ? 'per-layer activation checkpointing' : 'every layer\'s activations kept'}`,
    row('weights', p.totals.weights, `${(p.lora ? p.frozenParams : p.trainableParams).toLocaleString('en-US')} parameters, ${p.weights} matrices, + RoPE table`),
    row('adapter', p.totals.adapter, p.lora ? `${p.trainableParams.toLocaleString('en-US')} trainable parameters` : `(none: the ${p.trainableParams.toLocaleString('en-US')} weights train)`),
    row('gradients', p.totals.gradients),
    row('optimizer', p.totals.optimizer, 'AdamW m, v (+ decay mask)'),
    row('activations', p.totals.activations, act ? `workspace, ${p.checkpoint === 'layers' ? `${c.nLayers + 1} residuals + 1 re-run layer` : `${c.nLayers} layers`}; largest region "${act.label.replace('workspace.', '')}" ${fmtBytes(act.binding)} per layer` : ''),
    row('logits', p.totals.logits, logitsNote(p)),
    row('inputs/staging', p.totals.inputs),
  ];
  if (p.totals.kvCache || p.totals.generation) lines.push(row('KV cache', p.totals.kvCache), row('generation', p.totals.generation, 'slot activations, logits, sampling'));
  else lines.push(row('KV cache', 0, '(no generator planned)'));
  lines.push(row('total', p.total, `${p.buffers.length} buffers (+ kernel uniforms, a few KiB, made as step plans are built)`));
  lines.push(`  largest buffer "${p.largest.label}" (${p.largest.what}) ${fmtBytes(p.largest.bytes)}${p.largest.binding && p.largest.binding !== p.largest.bytes ? `, bound ${fmtBytes(p.largest.binding)} at a time` : ''}; limits maxStorageBufferBindingSize ${fmtBytes(p.limits.maxStorageBufferBindingSize)}, maxBufferSize ${fmtBytes(p.limits.maxBufferSize)}${p.maxTotalBytes !== undefined ? `, budget ${fmtBytes(p.maxTotalBytes)}` : ''}`);
  lines.push(p.fits ? '  fits' : `  does not fit: ${p.message}`);
  return lines;
}

/** How the logits are held: the whole micro-batch, or chunks of rows (workspace.ts). */
function logitsNote(p: MemoryPlan): string {
  const R = p.batch * Math.min(p.seq, p.config.maxSeqLen);
  const C = logitsChunkRows(p.config, R);
  const shape = `[${C} × ${paddedVocab(p.config)}] f32`;
  return C >= R ? `${shape}, the whole micro-batch` : `${shape}: ${R} rows in ${Math.ceil(R / C)} chunks (head and cross-entropy chunk by chunk)`;
}

/** The plan as JSON-ready data (bytes as numbers; every buffer listed). */
export function memoryPlanJson(p: MemoryPlan): Record<string, unknown> {
  return {
    batch: p.batch, seq: p.seq, lora: p.lora ?? null, weights: p.weights, attention: p.attention, checkpoint: p.checkpoint,
    trainableParams: p.trainableParams, frozenParams: p.frozenParams,
    bytes: { ...p.totals, total: p.total },
    largest: { label: p.largest.label, what: p.largest.what, bytes: p.largest.bytes, binding: p.largest.binding },
    limits: { maxStorageBufferBindingSize: p.limits.maxStorageBufferBindingSize, maxBufferSize: p.limits.maxBufferSize, ...(p.maxTotalBytes !== undefined ? { budget: p.maxTotalBytes } : {}) },
    fits: p.fits, problems: p.problems, suggestions: p.suggestions, message: p.message,
    buffers: p.buffers.map((b) => ({ label: b.label, bytes: b.bytes, binding: b.binding, category: b.category })),
  };
}
