// Training and evaluation of one model (one "arm"). Each step is ONE command encoder:
// clear gradients → for each micro-batch forward + masked CE + backward (gradients add
// up) → global gradient norm + clip scale → AdamW. The loss and gradient norm are copied
// into a ring of mappable staging buffers and resolved later, so the caller can submit
// the next step without waiting. Nothing is allocated per step: plans (bind groups,
// uniforms) are built once per (micro-batch slot, B, T), inputs go through writeBuffer.
import type { Model } from './model.ts';
import { Workspace, type AttentionMode } from './workspace.ts';
import { Plan, type Dispatch, type View } from './gpu/plan.ts';
import { upload } from './gpu/resources.ts';
import { SerialQueue } from './gpu/serial.ts';
import { defaultMatmulVariant, type MatmulVariant } from './kernels/matmul.ts';
import { adamw, gradNormFinish, gradNormPartial, GRADNORM_GROUPS, HYPER_FIELDS } from './kernels/optimizer.ts';
import { encodeBackward, encodeForward, encodeForwardLogits, type InputViews } from './layers.ts';
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
}

const STAGING_RING = 4;
const STATS_BYTES = 256;

interface InputSlot {
  buffer: GPUBuffer;
  views: InputViews;
  /** byte offsets of ids, labels, weights, offsets, positions */
  offsets: number[];
}

export class Trainer {
  readonly model: Model;
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
    this.variant = opts.matmul ?? defaultMatmulVariant(model.ctx);
    this.fuse = opts.fuseProjections ?? true;
    this.device = model.ctx.device;
    const res = model.res;
    if (opts.workspace) {
      if (!opts.workspace.serves(model.config)) throw new Error('The shared workspace was not sized for this model config: create it with this config in `configs`');
      this.workspace = opts.workspace;
      this.ownsWorkspace = false;
    } else {
      this.workspace = new Workspace(res, { maxBatch: opts.maxBatch ?? 4, maxSeqLen: opts.maxSeqLen ?? model.config.maxSeqLen, configs: [model.config], attention: opts.attention });
      this.ownsWorkspace = true;
    }
    const total = model.layout.totalFloats;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.m = res.createBuffer('adam.m', total * 4, usage);
    this.v = res.createBuffer('adam.v', total * 4, usage);
    const mask = new Uint32Array(total / 64);
    for (const s of model.layout.slots) mask.fill(s.decay ? 1 : 0, s.offset / 64, Math.ceil((s.offset + s.size) / 64));
    this.decayMask = res.createBuffer('adam.decayMask', mask.byteLength, usage);
    this.device.queue.writeBuffer(this.decayMask, 0, mask);
    this.hyperBuf = res.createBuffer('adam.hyper', 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.stats = res.createBuffer('stats', STATS_BYTES, usage);
    for (let i = 0; i < Math.max(1, this.hyper.accumSteps); i++) this.slots.push(this.createSlot(i));
    for (let i = 0; i < STAGING_RING; i++) {
      this.ring.push({ buffer: res.createBuffer(`staging.${i}`, 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, false), busy: Promise.resolve() });
    }
    this.optimizerPlan = this.buildOptimizerPlan();
  }

  private createSlot(i: number): InputSlot {
    const rows = this.workspace.maxBatch * this.workspace.maxSeqLen;
    const V = this.model.config.vocabSize;
    const sizes = [rows, rows, rows, V + 1, rows].map((n) => Math.ceil((n * 4) / 256) * 256);
    const offsets: number[] = [];
    let o = 0;
    for (const s of sizes) {
      offsets.push(o);
      o += s;
    }
    const buffer = this.model.res.createBuffer(`inputs.${i}`, o, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
    const view = (k: number): View => ({ buffer, offset: offsets[k], size: sizes[k] });
    return { buffer, offsets, views: { ids: view(0), labels: view(1), weights: view(2), csrOffsets: view(3), csrPositions: view(4) } };
  }

  private buildOptimizerPlan(): Plan {
    const plan = new Plan(this.model.res);
    const total = this.model.layout.totalFloats;
    const partial = this.workspace.scratch('partial');
    const stats: View = { buffer: this.stats };
    plan.add(gradNormPartial(), { count4: total / 4 }, [{ buffer: this.model.grads }, partial], [GRADNORM_GROUPS]);
    plan.add(gradNormFinish(), {}, [partial, stats, { buffer: this.hyperBuf }], [1]);
    const blocks = total / 64;
    const blocksX = Math.min(blocks, 65535);
    plan.add(adamw(), { blocks, blocksX }, [{ buffer: this.model.params }, { buffer: this.model.grads }, { buffer: this.m }, { buffer: this.v }, { buffer: this.decayMask }, stats, { buffer: this.hyperBuf }], [blocksX, Math.ceil(blocks / blocksX)]);
    return plan;
  }

  /** The dispatches of one micro-batch for slot/B/T, cached: forward + loss + backward
   *  ('train'), forward + loss ('loss'), or the forward pass up to the logits ('logits'). */
  private microPlan(slot: number, B: number, T: number, what: 'train' | 'loss' | 'logits'): Plan {
    const key = `${slot}:${B}:${T}:${what}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = new Plan(this.model.res);
      const ctx = { plan, model: this.model, ws: this.workspace, inputs: this.slots[slot].views, B, T, variant: this.variant, stats: { buffer: this.stats }, fuse: this.fuse };
      if (what === 'logits') encodeForwardLogits(ctx);
      else encodeForward(ctx);
      if (what === 'train') encodeBackward(ctx);
      this.plans.set(key, plan);
    }
    return plan;
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
      enc.clearBuffer(this.model.grads);
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
      this.evalStaging ??= this.model.res.createBuffer('staging.eval', 16 + rowsMax * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, false);
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
      const pass = enc.beginComputePass();
      this.microPlan(0, batch.batch, batch.seqLen, 'logits').encode(pass);
      pass.end();
      const logits = this.workspace.scratch('logits');
      enc.copyBufferToBuffer(logits.buffer, logits.offset ?? 0, staging, 0, bytes);
      await this.model.res.checkCompiled();
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return unpadLogits(out, rows, this.model.config.vocabSize);
    });
  }

  /** One forward + backward without an update: the loss and every parameter's gradient. */
  async gradients(batch: TokenBatch): Promise<{ loss: number; weightSum: number; grads: NamedTensors }> {
    this.validate([batch]);
    return this.serial(async () => {
      const weightSum = this.uploadInputs([batch]);
      const enc = this.device.createCommandEncoder({ label: 'gradients' });
      enc.clearBuffer(this.model.grads);
      enc.clearBuffer(this.stats);
      const pass = enc.beginComputePass();
      this.microPlan(0, batch.batch, batch.seqLen, 'train').encode(pass);
      pass.end();
      await this.model.res.checkCompiled();
      this.device.queue.submit([enc.finish()]);
      const [stats, grads] = await Promise.all([this.readStats(), this.model.readGrads()]);
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
    const read = async (src: GPUBuffer) => {
      const staging = this.device.createBuffer({ size: src.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(src, 0, staging, 0, src.size);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      return out;
    };
    return { m: await read(this.m), v: await read(this.v) };
  }

  writeOptimizerState(state: { m: Float32Array; v: Float32Array }): void {
    const total = this.model.layout.totalFloats;
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
