// Training and evaluation of one model (one "arm"). Each step is ONE command encoder:
// clear gradients → for each micro-batch forward + masked CE + backward (gradients add
// up) → global gradient norm + clip scale → AdamW. The loss and gradient norm are copied
// into a ring of mappable staging buffers and resolved later, so the caller can submit
// the next step without waiting. Nothing is allocated per step: plans (bind groups,
// uniforms) are built once per (micro-batch slot, B, T), inputs go through writeBuffer.
import type { Model, ParamSet } from './model.ts';
import type { Adapter } from './lora.ts';
import { Workspace, type AttentionMode, type CheckpointMode } from './workspace.ts';
import { Plan, type Dispatch, type View } from './gpu/plan.ts';
import { readBufferF32, upload, type BufferSpec } from './gpu/resources.ts';
import { SerialQueue } from './gpu/serial.ts';
import { defaultMatmulVariant, type MatmulVariant } from './kernels/matmul.ts';
import { adamw, gradNormFinish, gradNormPartial, GRADNORM_GROUPS, HYPER_FIELDS } from './kernels/optimizer.ts';
import { encodeBackward, encodeForward, encodeForwardHidden, encodeHeadChunk, logitsChunks, type InputViews, type PassContext } from './layers.ts';
import { effectiveWeights, tokenCsr, validateBatch, type TokenBatch } from './batch.ts';
import { learningRate } from './schedule.ts';
import type { NamedTensors } from './params.ts';
import { paddedVocab, unpadLogits } from './config.ts';

export interface TrainHyper {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate as a fraction of lr. */
  minLrRatio: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global-norm clip threshold; ≤ 0 disables clipping. */
  gradClip: number;
  /** Micro-batches per optimizer step (the most step() accepts). */
  accumSteps: number;
}

export const DEFAULT_HYPER: TrainHyper = {
  lr: 3e-3,
  warmupSteps: 10,
  totalSteps: 1000,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  gradClip: 1.0,
  accumSteps: 1,
};

export interface StepResult {
  step: number;
  /** Σ w·CE / Σ w over all micro-batches of the step (0 when Σw = 0). */
  loss: number;
  weightSum: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export interface EvalResult {
  loss: number;
  weightSum: number;
  /** Cross-entropy at every position (B×T, row-major; 0 where the label is −100),
   *  whatever its weight — for per-example losses. */
  tokenLoss: Float32Array;
}

export interface TrainerOptions {
  /** Shared activation workspace (several arms on one device); created if absent. */
  workspace?: Workspace;
  /** Size of the workspace created when none is given (default: the model's context, batch 4). */
  maxBatch?: number;
  maxSeqLen?: number;
  /** Matmul kernel variant (default: defaultMatmulVariant(adapter); 'shared' = workgroup-memory tiles). */
  matmul?: MatmulVariant;
  /** One matmul for q/k/v and for gate/up when their weights are adjacent (default true). */
  fuseProjections?: boolean;
  /** Attention memory mode of the workspace created when none is given (default 'auto';
   *  see workspace.ts). A shared workspace brings its own mode. */
  attention?: AttentionMode | 'auto';
  /** Per-layer activation checkpointing of the workspace created when none is given (default
   *  'auto'; see workspace.ts). */
  checkpoint?: CheckpointMode | 'auto';
  /** Train this LoRA adapter over the (frozen) model instead of the model's own weights. */
  adapter?: Adapter;
}

const STAGING_RING = 4;
const STATS_BYTES = 256;
const HYPER_BYTES = 32;
const STAGING_BYTES = 16;

/** An input slot's five regions (ids, labels, weights, CSR offsets, CSR positions) for
 *  `rows` = maxBatch × maxSeqLen token positions, each 256-byte aligned. */
function inputSlotSizes(rows: number, vocabSize: number): number[] {
  return [rows, rows, rows, vocabSize + 1, rows].map((n) => Math.ceil((n * 4) / 256) * 256);
}

/** Every buffer a Trainer allocates besides its workspace, in order: AdamW's moments m and v
 *  and decay mask over the trainable layout (`trainableFloats` words), the hyperparameter
 *  uniform, the stats, one input slot per micro-batch (accumSteps) for `rows` token
 *  positions, the staging ring. (forwardLoss adds 'staging.eval' on first use:
 *  evalStagingBuffer.) */
export function trainerBuffers(trainableFloats: number, opts: { rows: number; vocabSize: number; accumSteps: number }): BufferSpec[] {
  const slot = inputSlotSizes(opts.rows, opts.vocabSize).reduce((a, b) => a + b, 0);
  return [
    { label: 'adam.m', bytes: trainableFloats * 4, bindable: true },
    { label: 'adam.v', bytes: trainableFloats * 4, bindable: true },
    { label: 'adam.decayMask', bytes: (trainableFloats / 64) * 4, bindable: true },
    { label: 'adam.hyper', bytes: HYPER_BYTES, bindable: true },
    { label: 'stats', bytes: STATS_BYTES, bindable: true },
    ...Array.from({ length: Math.max(1, opts.accumSteps) }, (_, i) => ({ label: `inputs.${i}`, bytes: slot, bindable: true })),
    ...Array.from({ length: STAGING_RING }, (_, i) => ({ label: `staging.${i}`, bytes: STAGING_BYTES, bindable: false })),
  ];
}

/** The readback buffer forwardLoss creates on first use (stats + per-position CE). */
export function evalStagingBuffer(rows: number): BufferSpec {
  return { label: 'staging.eval', bytes: 16 + rows * 4, bindable: false };
}

interface InputSlot {
  buffer: GPUBuffer;
  views: InputViews;
  /** byte offsets of ids, labels, weights, offsets, positions */
  offsets: number[];
}

export class Trainer {
  readonly model: Model;
  /** What the optimizer updates: the model's weights, or a LoRA adapter's. */
  readonly trainable: ParamSet;
  readonly adapter?: Adapter;
  readonly workspace: Workspace;
  readonly hyper: TrainHyper;
  readonly variant: MatmulVariant;
  private readonly fuse: boolean;
  private readonly device: GPUDevice;
  private readonly m: GPUBuffer;
  private readonly v: GPUBuffer;
  private readonly decayMask: GPUBuffer;
  private readonly hyperBuf: GPUBuffer;
  private readonly stats: GPUBuffer;
  private readonly slots: InputSlot[] = [];
  private readonly plans = new Map<string, Plan>();
  private optimizerPlan: Plan;
  private readonly ring: Array<{ buffer: GPUBuffer; busy: Promise<void> }> = [];
  private ringNext = 0;
  private evalStaging?: GPUBuffer;
  private readonly jobs = new SerialQueue();
  private ownsWorkspace: boolean;
  /** Optimizer steps taken. */
  stepCount = 0;

  constructor(model: Model, hyper: Partial<TrainHyper> = {}, opts: TrainerOptions = {}) {
    this.model = model;
    this.hyper = { ...DEFAULT_HYPER, ...hyper };
    checkHyper(this.hyper);
    this.adapter = opts.adapter;
    if (this.adapter && this.adapter.model !== model) throw new Error('The LoRA adapter was made for another model');
    if (!this.adapter && !model.grads) throw new Error('The model is frozen (no gradient buffer): train a LoRA adapter over it (TrainerOptions.adapter)');
    this.trainable = this.adapter ?? model;
    this.variant = opts.matmul ?? defaultMatmulVariant(model.ctx);
    this.fuse = opts.fuseProjections ?? true;
    this.device = model.ctx.device;
    const res = model.res;
    const loraSize = this.adapter ? { rank: this.adapter.spec.rank, targets: this.adapter.spec.targets.length } : undefined;
    if (opts.workspace) {
      if (!opts.workspace.serves(model.config, loraSize)) throw new Error('The shared workspace was not sized for this model config: create it with this config in `configs` (and the adapter in `lora`)');
      this.workspace = opts.workspace;
      this.ownsWorkspace = false;
    } else {
      this.workspace = new Workspace(res, { maxBatch: opts.maxBatch ?? 4, maxSeqLen: opts.maxSeqLen ?? model.config.maxSeqLen, configs: [model.config], attention: opts.attention, checkpoint: opts.checkpoint, lora: loraSize ? [loraSize] : undefined });
      this.ownsWorkspace = true;
    }
    const total = this.trainable.layout.totalFloats;
    const rows = this.workspace.maxBatch * this.workspace.maxSeqLen;
    const specs = new Map(trainerBuffers(total, { rows, vocabSize: model.config.vocabSize, accumSteps: this.hyper.accumSteps }).map((b) => [b.label, b]));
    const make = (label: string, usage: GPUBufferUsageFlags) => {
      const b = specs.get(label)!;
      return res.createBuffer(b.label, b.bytes, usage, b.bindable);
    };
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.m = make('adam.m', usage);
    this.v = make('adam.v', usage);
    const mask = new Uint32Array(total / 64);
    for (const s of this.trainable.layout.slots) mask.fill(s.decay ? 1 : 0, s.offset / 64, Math.ceil((s.offset + s.size) / 64));
    this.decayMask = make('adam.decayMask', usage);
    this.device.queue.writeBuffer(this.decayMask, 0, mask);
    this.hyperBuf = make('adam.hyper', GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.stats = make('stats', usage);
    for (let i = 0; i < Math.max(1, this.hyper.accumSteps); i++) this.slots.push(this.createSlot(make(`inputs.${i}`, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST), rows));
    for (let i = 0; i < STAGING_RING; i++) {
      this.ring.push({ buffer: make(`staging.${i}`, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST), busy: Promise.resolve() });
    }
    this.optimizerPlan = this.buildOptimizerPlan();
  }

  private createSlot(buffer: GPUBuffer, rows: number): InputSlot {
    const sizes = inputSlotSizes(rows, this.model.config.vocabSize);
    const offsets: number[] = [];
    let o = 0;
    for (const s of sizes) {
      offsets.push(o);
      o += s;
    }
    const view = (k: number): View => ({ buffer, offset: offsets[k], size: sizes[k] });
    return { buffer, offsets, views: { ids: view(0), labels: view(1), weights: view(2), csrOffsets: view(3), csrPositions: view(4) } };
  }

  private buildOptimizerPlan(): Plan {
    const plan = new Plan(this.model.res);
    const { layout, params, grads } = this.trainable;
    const total = layout.totalFloats;
    const partial = this.workspace.scratch('partial');
    const stats: View = { buffer: this.stats };
    plan.add(gradNormPartial(), { count4: total / 4 }, [{ buffer: grads! }, partial], [GRADNORM_GROUPS]);
    plan.add(gradNormFinish(), {}, [partial, stats, { buffer: this.hyperBuf }], [1]);
    const blocks = total / 64;
    const blocksX = Math.min(blocks, 65535);
    plan.add(adamw(), { blocks, blocksX }, [{ buffer: params }, { buffer: grads! }, { buffer: this.m }, { buffer: this.v }, { buffer: this.decayMask }, stats, { buffer: this.hyperBuf }], [blocksX, Math.ceil(blocks / blocksX)]);
    return plan;
  }

  /** The dispatches of one micro-batch for slot/B/T, cached: forward + loss + backward
   *  ('train'), forward + loss ('loss'), the forward pass up to the final norm ('hidden'), or
   *  logits chunk k's head ('head:k', after 'hidden'). */
  private microPlan(slot: number, B: number, T: number, what: 'train' | 'loss' | 'hidden' | `head:${number}`): Plan {
    const key = `${slot}:${B}:${T}:${what}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = new Plan(this.model.res);
      const ctx = this.passContext(plan, slot, B, T);
      if (what === 'hidden') encodeForwardHidden(ctx);
      else if (what.startsWith('head:')) {
        const { r0, rows } = logitsChunks(this.workspace, this.model.config, B * T)[Number(what.slice(5))];
        encodeHeadChunk(ctx, r0, rows);
      } else {
        encodeForward(ctx, what === 'train');
        if (what === 'train') encodeBackward(ctx);
      }
      this.plans.set(key, plan);
    }
    return plan;
  }

  private passContext(plan: Plan, slot: number, B: number, T: number): PassContext {
    return { plan, model: this.model, lora: this.adapter, ws: this.workspace, inputs: this.slots[slot].views, B, T, variant: this.variant, stats: { buffer: this.stats }, fuse: this.fuse };
  }

  /** Every dispatch of one single-micro-batch step, in order (for profiling). */
  stepDispatches(B: number, T: number): Dispatch[] {
    return [...this.microPlan(0, B, T, 'train').dispatches, ...this.optimizerPlan.dispatches];
  }

  /** Dispatches in one optimizer step of `accum` micro-batches of B×T. */
  dispatchesPerStep(B: number, T: number, accum = 1): number {
    return accum * this.microPlan(0, B, T, 'train').dispatches.length + this.optimizerPlan.dispatches.length;
  }

  private validate(batches: TokenBatch[]): void {
    const limits = { maxBatch: this.workspace.maxBatch, maxSeqLen: this.workspace.maxSeqLen };
    batches.forEach((b, i) => validateBatch(b, this.model.config, limits, batches.length > 1 ? `micro-batch ${i}` : 'batch'));
  }

  /** Uploads micro-batches into slots with weights divided by the total Σw; returns Σw. */
  private uploadInputs(batches: TokenBatch[]): number {
    const weights = batches.map(effectiveWeights);
    let sum = 0;
    for (const w of weights) for (const x of w) sum += x;
    const scale = sum > 0 ? 1 / sum : 0;
    const q = this.device.queue;
    batches.forEach((b, i) => {
      const s = this.slots[i];
      const w = weights[i];
      for (let j = 0; j < w.length; j++) w[j] *= scale;
      const csr = tokenCsr(b.inputIds, this.model.config.vocabSize);
      upload(q, s.buffer, s.offsets[0], b.inputIds);
      upload(q, s.buffer, s.offsets[1], b.labels);
      upload(q, s.buffer, s.offsets[2], w);
      upload(q, s.buffer, s.offsets[3], csr.offsets);
      upload(q, s.buffer, s.offsets[4], csr.positions);
    });
    return sum;
  }

  /** Runs `fn` after every earlier call has been encoded (keeps steps in call order). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.jobs.run(fn);
  }

  /** One optimizer step over 1..accumSteps micro-batches. The promise resolves when the
   *  GPU has finished it; the next step can be submitted before that. */
  async step(microBatches: TokenBatch[]): Promise<StepResult> {
    if (microBatches.length < 1 || microBatches.length > this.slots.length) {
      throw new Error(`step: expected 1..${this.slots.length} micro-batches (accumSteps = ${this.hyper.accumSteps}), got ${microBatches.length}`);
    }
    this.validate(microBatches);
    const pending = await this.serial(async () => {
      const stepNo = ++this.stepCount;
      const h = this.hyper;
      const lr = learningRate(stepNo, h);
      const hyper = new Float32Array(8);
      const values: Record<(typeof HYPER_FIELDS)[number], number> = {
        lr,
        weightDecay: h.weightDecay,
        beta1: h.beta1,
        beta2: h.beta2,
        eps: h.eps,
        biasCorrection1: 1 - Math.pow(h.beta1, stepNo),
        biasCorrection2Sqrt: Math.sqrt(1 - Math.pow(h.beta2, stepNo)),
        gradClip: h.gradClip,
      };
      HYPER_FIELDS.forEach((k, i) => (hyper[i] = values[k]));
      const staging = this.ring[this.ringNext];
      this.ringNext = (this.ringNext + 1) % this.ring.length;
      await staging.busy;
      this.device.queue.writeBuffer(this.hyperBuf, 0, hyper);
      const weightSum = this.uploadInputs(microBatches);
      const enc = this.device.createCommandEncoder({ label: `step ${stepNo}` });
      enc.clearBuffer(this.trainable.grads!);
      enc.clearBuffer(this.stats);
      const pass = enc.beginComputePass();
      microBatches.forEach((b, i) => this.microPlan(i, b.batch, b.seqLen, 'train').encode(pass));
      this.optimizerPlan.encode(pass);
      pass.end();
      enc.copyBufferToBuffer(this.stats, 0, staging.buffer, 0, 16);
      await this.model.res.checkCompiled();
      this.device.queue.submit([enc.finish()]);
      const read = staging.buffer.mapAsync(GPUMapMode.READ).then(() => {
        const s = new Float32Array(staging.buffer.getMappedRange().slice(0));
        staging.buffer.unmap();
        return { step: stepNo, loss: s[0], gradNorm: s[1], weightSum, lr } satisfies StepResult;
      });
      staging.busy = read.then(() => undefined, () => undefined);
      return read;
    });
    return pending;
  }

  /** Forward pass and loss only (no gradients, no update), with per-position CE. */
  async forwardLoss(batch: TokenBatch): Promise<EvalResult> {
    this.validate([batch]);
    return this.serial(async () => {
      const weightSum = this.uploadInputs([batch]);
      const N = batch.batch * batch.seqLen;
      const rowsMax = this.workspace.maxBatch * this.workspace.maxSeqLen;
      const spec = evalStagingBuffer(rowsMax);
      this.evalStaging ??= this.model.res.createBuffer(spec.label, spec.bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, spec.bindable);
      const enc = this.device.createCommandEncoder({ label: 'eval' });
      enc.clearBuffer(this.stats);
      const pass = enc.beginComputePass();
      this.microPlan(0, batch.batch, batch.seqLen, 'loss').encode(pass);
      pass.end();
      const ce = this.workspace.scratch('ce');
      enc.copyBufferToBuffer(this.stats, 0, this.evalStaging, 0, 16);
      enc.copyBufferToBuffer(ce.buffer, ce.offset ?? 0, this.evalStaging, 16, N * 4);
      await this.model.res.checkCompiled();
      this.device.queue.submit([enc.finish()]);
      await this.evalStaging.mapAsync(GPUMapMode.READ);
      const data = new Float32Array(this.evalStaging.getMappedRange().slice(0, 16 + N * 4));
      this.evalStaging.unmap();
      return { loss: data[0], weightSum, tokenLoss: data.slice(4, 4 + N) };
    });
  }

  /** The forward pass's logits, [B·T, V] row-major (labels and weights unused): what
   *  generation must reproduce for the same tokens (test/gpu/generate/forward-logits.test.ts). */
  async logits(batch: TokenBatch): Promise<Float32Array> {
    this.validate([batch]);
    return this.serial(async () => {
      this.uploadInputs([batch]);
      const rows = batch.batch * batch.seqLen;
      const bytes = rows * paddedVocab(this.model.config) * 4;
      const staging = this.device.createBuffer({ label: 'staging.logits', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = this.device.createCommandEncoder({ label: 'logits' });
      const hidden = enc.beginComputePass();
      this.microPlan(0, batch.batch, batch.seqLen, 'hidden').encode(hidden);
      hidden.end();
      // the head one chunk of rows at a time, each copied out before the next overwrites it
      const logits = this.workspace.scratch('logits');
      const rowBytes = paddedVocab(this.model.config) * 4;
      logitsChunks(this.workspace, this.model.config, rows).forEach(({ r0, rows: n }, k) => {
        const pass = enc.beginComputePass();
        this.microPlan(0, batch.batch, batch.seqLen, `head:${k}`).encode(pass);
        pass.end();
        enc.copyBufferToBuffer(logits.buffer, logits.offset ?? 0, staging, r0 * rowBytes, n * rowBytes);
      });
      await this.model.res.checkCompiled();
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return unpadLogits(out, rows, this.model.config.vocabSize);
    });
  }

  /** One forward + backward without an update: the loss and the gradient of every trainable
   *  tensor (the model's, or the adapter's under PEFT's names). */
  async gradients(batch: TokenBatch): Promise<{ loss: number; weightSum: number; grads: NamedTensors }> {
    this.validate([batch]);
    return this.serial(async () => {
      const weightSum = this.uploadInputs([batch]);
      const enc = this.device.createCommandEncoder({ label: 'gradients' });
      enc.clearBuffer(this.trainable.grads!);
      enc.clearBuffer(this.stats);
      const pass = enc.beginComputePass();
      this.microPlan(0, batch.batch, batch.seqLen, 'train').encode(pass);
      pass.end();
      await this.model.res.checkCompiled();
      this.device.queue.submit([enc.finish()]);
      const [stats, grads] = await Promise.all([this.readStats(), this.trainable.readGrads()]);
      return { loss: stats[0], weightSum, grads };
    });
  }

  private async readStats(): Promise<Float32Array> {
    const staging = this.ring[this.ringNext];
    this.ringNext = (this.ringNext + 1) % this.ring.length;
    await staging.busy;
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.stats, 0, staging.buffer, 0, 16);
    this.device.queue.submit([enc.finish()]);
    await staging.buffer.mapAsync(GPUMapMode.READ);
    const s = new Float32Array(staging.buffer.getMappedRange().slice(0));
    staging.buffer.unmap();
    return s;
  }

  /** Sets the learning-rate schedule's length once a run knows it (a run sized by wall-clock
   *  time measures a few steps first); the schedule of steps already taken is unchanged. */
  setTotalSteps(n: number): void {
    if (!Number.isInteger(n) || n < Math.max(1, this.stepCount)) throw new Error(`setTotalSteps: ${n} steps, but ${this.stepCount} are already taken`);
    this.hyper.totalSteps = n;
  }

  /** AdamW's moments (flat, in the parameter layout) — with the parameters and the step
   *  count, everything a resumed run needs to continue exactly as an uninterrupted one. */
  async readOptimizerState(): Promise<{ m: Float32Array; v: Float32Array }> {
    await this.flush();
    return { m: await readBufferF32(this.device, this.m), v: await readBufferF32(this.device, this.v) };
  }

  writeOptimizerState(state: { m: Float32Array; v: Float32Array }): void {
    const total = this.trainable.layout.totalFloats;
    if (state.m.length !== total || state.v.length !== total) throw new Error(`optimizer state has ${state.m.length}/${state.v.length} values; this model's layout has ${total}`);
    upload(this.device.queue, this.m, 0, state.m);
    upload(this.device.queue, this.v, 0, state.v);
  }

  /** Resolves when every submitted step has finished on the GPU. */
  async flush(): Promise<void> {
    await this.jobs.idle();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Bytes this trainer holds on the GPU besides the model (moments, inputs, staging). */
  get gpuBytes(): number {
    let n = this.m.size + this.v.size + this.decayMask.size + this.hyperBuf.size + this.stats.size;
    for (const s of this.slots) n += s.buffer.size;
    for (const r of this.ring) n += r.buffer.size;
    return n + (this.ownsWorkspace ? this.workspace.bytes : 0);
  }

  destroy(): void {
    const res = this.model.res;
    for (const b of [this.m, this.v, this.decayMask, this.hyperBuf, this.stats, ...this.slots.map((s) => s.buffer), ...this.ring.map((r) => r.buffer)]) res.release(b);
    if (this.evalStaging) res.release(this.evalStaging);
    if (this.ownsWorkspace) this.workspace.destroy();
  }
}

function checkHyper(h: TrainHyper): void {
  const bad: string[] = [];
  if (!(h.lr >= 0)) bad.push(`lr ${h.lr}`);
  if (!Number.isInteger(h.warmupSteps) || h.warmupSteps < 0) bad.push(`warmupSteps ${h.warmupSteps}`);
  if (!Number.isInteger(h.totalSteps) || h.totalSteps < 1) bad.push(`totalSteps ${h.totalSteps}`);
  if (!(h.minLrRatio >= 0 && h.minLrRatio <= 1)) bad.push(`minLrRatio ${h.minLrRatio}`);
  if (!(h.weightDecay >= 0)) bad.push(`weightDecay ${h.weightDecay}`);
  if (!(h.beta1 >= 0 && h.beta1 < 1)) bad.push(`beta1 ${h.beta1}`);
  if (!(h.beta2 >= 0 && h.beta2 < 1)) bad.push(`beta2 ${h.beta2}`);
  if (!(h.eps > 0)) bad.push(`eps ${h.eps}`);
  if (!Number.isFinite(h.gradClip)) bad.push(`gradClip ${h.gradClip}`);
  if (!Number.isInteger(h.accumSteps) || h.accumSteps < 1) bad.push(`accumSteps ${h.accumSteps}`);
  if (bad.length) throw new Error(`Invalid training hyperparameters: ${bad.join(', ')}`);
}
