// Trains several arms side by side on one GPU device: every arm starts from the same
// weights and sees the same trajectories in the same order — only the loss weights differ
// (which steps are supervised). Arms take optimizer steps in turn (round robin), share one
// activation workspace, and are evaluated together on held-out data (evaluation.ts): loss on
// the critical and on all agent turns, next-action accuracy, and rollout success in the
// environments. A run, step by step: prepare the arms → measure the untuned base → train
// (evaluate and checkpoint every so often) → finish.
import type { Arm } from '../data/arms.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { LlamaConfig } from '../engine/config.ts';
import type { GpuContext } from '../engine/device.ts';
import { createGenerator, type Generator } from '../engine/generate/generator.ts';
import { gpuResources } from '../engine/gpu/resources.ts';
import { packParams, type NamedTensors } from '../engine/params.ts';
import { Workspace } from '../engine/workspace.ts';
import type { TokenBatch } from '../engine/batch.ts';
import { createArmRun, destroyArmRun, type ArmRun, type StepLossCache } from './arm-runs.ts';
import { createModel, initParams, type Model } from '../engine/model.ts';
import { mergeLora, validateLoraSpec } from '../engine/lora.ts';
import type { Checkpoint, CheckpointStore } from './checkpoint.ts';
import type { ExperimentData } from './data.ts';
import { Evaluation, type MeasuredModel } from './evaluation.ts';
import { generatorSize } from './run-memory.ts';
import { loraSpecOf, trainingSeeds, type BaselineMetrics, type EvalMetrics, type ExperimentConfig, type RunEvent, type RunStatus } from './protocol.ts';
import { BadInputError } from './run-events.ts';
import { trainerHyper } from './settings-spec.ts';
import { BudgetProbe } from './time-budget.ts';

export interface ResolvedModel {
  config: LlamaConfig;
  /** Starting weights; absent = seeded random init. */
  tensors?: NamedTensors;
  label: string;
}

export interface RunnerDeps {
  ctx: GpuContext;
  tokenizer: TextTokenizer;
  model: ResolvedModel;
  data: ExperimentData;
  emit: (e: RunEvent) => void;
  checkpoints?: CheckpointStore;
  /** Key checkpoints are saved under (one per experiment configuration). */
  checkpointKey?: string;
}

export interface ArmResult {
  arm: Arm;
  trainSeed: number;
  finalLoss?: number;
  eval?: EvalMetrics;
}

const weightCount = (b: TokenBatch) => b.weights.reduce((a, w) => a + (w > 0 ? 1 : 0), 0);
/** Steps each arm may have submitted and not yet finished: the GPU stays busy, memory bounded. */
const STEPS_IN_FLIGHT = 2;

export class ExperimentRunner {
  private arms: ArmRun[] = [];
  private paused = false;
  private stopped = false;
  private wake?: () => void;
  private workspace?: Workspace;
  /** LoRA: the frozen base every run's adapter trains over. */
  private base?: Model;
  private evaluation?: Evaluation;
  private started = 0;
  /** Wall clock at the start of run() (training and evaluation). */
  private wallStart = 0;
  /** Steps of this run: hyper.steps, or what fits a time budget once measured. */
  private totalSteps = 0;
  private tokensDone = 0;
  /** Time spent evaluating, left out of tokens/s. */
  private evalMs = 0;
  private lastLoss = new Map<string, number>();
  private lastEval = new Map<string, EvalMetrics>();

  constructor(
    readonly config: ExperimentConfig,
    private readonly deps: RunnerDeps,
  ) {}

  pause(): void {
    this.paused = true;
    this.status('paused');
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.paused = false;
    this.wake?.();
  }

  /** Current weights of one arm (of its run with `trainSeed`; default the first seed). */
  async armWeights(arm: Arm, trainSeed?: number): Promise<NamedTensors> {
    const run = this.runOf(arm, trainSeed);
    await run.trainer.flush();
    const base = await run.model.readParams();
    // LoRA: the merged weights W + (alpha/r)·B·A, what a plain model folder holds
    return run.adapter ? mergeLora(run.model.config, base, run.adapter.spec, await run.adapter.readParams()) : base;
  }

  /** Current LoRA adapter of one arm (of its run with `trainSeed`; default the first seed), by
   *  PEFT's tensor names. */
  async armAdapter(arm: Arm, trainSeed?: number): Promise<NamedTensors> {
    const run = this.runOf(arm, trainSeed);
    if (!run.adapter) throw new Error('this run trained every weight (no LoRA rank): it has no adapter to export; save its weights instead');
    await run.trainer.flush();
    return run.adapter.readParams();
  }

  private runOf(arm: Arm, trainSeed: number | undefined): ArmRun {
    const run = this.arms.find((a) => a.arm === arm && (trainSeed === undefined || a.trainSeed === trainSeed));
    if (!run) throw new Error(trainSeed === undefined ? `arm "${arm}" is not part of this run` : `arm "${arm}" has no run with training seed ${trainSeed} (seeds: ${trainingSeeds(this.config).join(', ')})`);
    return run;
  }

  get modelConfig(): LlamaConfig {
    return this.deps.model.config;
  }

  private status(state: RunStatus['state'], extra: Partial<RunStatus> = {}): void {
    const elapsedMs = this.wallStart ? performance.now() - this.wallStart : 0;
    this.deps.emit({ kind: 'status', state, gpuBytes: gpuResources(this.deps.ctx).gpuBytes, adapter: this.deps.ctx.description, totalSteps: this.totalSteps || this.config.hyper.steps, elapsedMs, ...extra });
  }

  private log(message: string): void {
    this.deps.emit({ kind: 'log', message });
  }

  /** Refuses a configuration that cannot train, before anything is built. */
  private checkConfig(): void {
    const { config: mc } = this.deps.model;
    const { hyper, arms } = this.config;
    const tok = this.deps.tokenizer;
    if (!arms.length) throw new BadInputError('choose at least one arm to train');
    if (new Set(arms).size !== arms.length) throw new BadInputError(`an arm is listed twice: ${arms.join(', ')}`);
    if (hyper.seqLen > mc.maxSeqLen) throw new BadInputError(`sequence length ${hyper.seqLen} exceeds the model's context ${mc.maxSeqLen}`);
    if (tok.vocabSize > mc.vocabSize) throw new BadInputError(`the tokenizer "${tok.name}" has ${tok.vocabSize} ids but the model's vocabulary holds ${mc.vocabSize}`);
    if (!this.deps.data.train.length) throw new BadInputError('no training trajectories');
  }

  /** Runs the experiment to the end (or until stopped); resumes from a checkpoint when given. */
  async run(resumeFrom?: Checkpoint): Promise<ArmResult[]> {
    this.checkConfig();
    this.wallStart = performance.now();
    this.totalSteps = resumeFrom?.progress?.totalSteps ?? this.config.hyper.steps;
    await this.prepareArms(resumeFrom);
    this.evaluation = new Evaluation(this.config, { tokenizer: this.deps.tokenizer, data: this.deps.data });
    // After a resume, elapsed time and throughput continue from the checkpoint's counters.
    this.tokensDone = resumeFrom?.progress?.tokensDone ?? 0;
    this.started = performance.now() - (resumeFrom?.progress?.trainMs ?? 0);
    // The untuned start, once, before any step: the base row and the charts' reference line.
    const baselineMs = !resumeFrom && !this.stopped ? await this.measureBaseline() : 0;
    const probe = this.config.timeBudgetSeconds && !resumeFrom ? new BudgetProbe(this.config, this.arms.length, baselineMs) : undefined;
    await this.train(resumeFrom?.step ?? 0, probe);
    return this.finish();
  }

  /** Every run (arm × training seed) with its model, trainer and batches, on one shared workspace. */
  private async prepareArms(resumeFrom?: Checkpoint): Promise<void> {
    const { data } = this.deps;
    const mc = this.deps.model.config;
    const { hyper, seed } = this.config;
    this.status('preparing', { message: 'building models and batches' });
    for (const n of data.notes) this.log(n);
    if (data.unlabelled.length) this.log(`${data.unlabelled.length} trajectories have no "${this.config.selector}" selection: ${data.unlabelled.slice(0, 3).map((u) => `${u.id} (${u.reason})`).join('; ')}${data.unlabelled.length > 3 ? ' …' : ''}`);
    const spec = loraSpecOf(this.config);
    if (spec) {
      try {
        validateLoraSpec(spec);
      } catch (err) {
        throw new BadInputError(err instanceof Error ? err.message : String(err));
      }
    }
    this.workspace = new Workspace(gpuResources(this.deps.ctx), { maxBatch: hyper.batchSize, maxSeqLen: hyper.seqLen, configs: [mc], lora: spec ? [{ rank: spec.rank, targets: spec.targets.length }] : undefined });
    const seeds = trainingSeeds(this.config);
    const start = this.deps.model.tensors ?? initParams(mc, seed);
    // LoRA: one frozen copy of the base for every run
    this.base = spec ? await createModel(this.deps.ctx, mc, start, { frozen: true }) : undefined;
    if (spec) this.log(`LoRA: ${spec.targets.length} projections per layer, rank ${spec.rank}, alpha ${spec.alpha}; one frozen base shared by ${seeds.length * this.config.arms.length} runs`);
    const setup = {
      ctx: this.deps.ctx,
      modelConfig: mc,
      tokenizer: this.deps.tokenizer,
      data,
      config: this.config,
      workspace: this.workspace,
      trainerHyper: trainerHyper(hyper, this.totalSteps),
      start,
      lora: spec && this.base ? { spec, base: this.base } : undefined,
      seeds,
      resumeFrom,
      log: (m: string) => this.log(m),
    };
    const stepLoss: StepLossCache = {};
    for (const trainSeed of seeds) for (const arm of this.config.arms) this.arms.push(await createArmRun(setup, arm, trainSeed, stepLoss));
    if (resumeFrom) this.log(`resumed from the checkpoint at step ${resumeFrom.step}${resumeFrom.adam ? ' with AdamW’s moments' : ' (an older checkpoint without AdamW’s moments: they restart from zero)'}`);
  }

  /** The training loop from `firstStep` to the last step: every arm's step in turn, an
   *  evaluation and a checkpoint every evalEvery steps and at the end. */
  private async train(firstStep: number, probe?: BudgetProbe): Promise<void> {
    this.status('training', { step: firstStep });
    for (let step = firstStep + 1; step <= this.totalSteps && !this.stopped; step++) {
      await this.gate();
      if (this.stopped) break;
      for (const a of this.arms) this.submitStep(a, step);
      for (const a of this.arms) await a.inFlight.keep(STEPS_IN_FLIGHT);
      if (probe?.measuring(step)) await this.probeBudget(probe, step);
      const last = step === this.totalSteps;
      const evalNow = this.config.evalEvery > 0 && step % this.config.evalEvery === 0;
      const rolloutNow = last || (this.config.rolloutEvery > 0 && step % this.config.rolloutEvery === 0);
      if (evalNow || last) await this.evaluateAndCheckpoint(step, rolloutNow, last);
    }
  }

  /** A time-budgeted run times its first whole steps, then plans its length. */
  private async probeBudget(probe: BudgetProbe, step: number): Promise<void> {
    for (const a of this.arms) await a.inFlight.drain();
    const planned = probe.measured(step, performance.now() - this.wallStart);
    if (planned) this.planSteps(planned.steps, planned.note);
  }

  private async evaluateAndCheckpoint(step: number, rollouts: boolean, last: boolean): Promise<void> {
    const t0 = performance.now();
    await this.evaluate(step, rollouts);
    this.evalMs += performance.now() - t0;
    await this.saveCheckpoint(step);
    if (!last && !this.stopped) this.status('training', { step });
  }

  /** Waits for every step in flight; says how the run ended; each run's last loss and evaluation. */
  private async finish(): Promise<ArmResult[]> {
    for (const a of this.arms) await a.inFlight.drain();
    this.status(this.stopped ? 'stopped' : 'done', { step: this.arms[0]?.trainer.stepCount, totalSteps: this.totalSteps });
    return this.arms.map((a) => ({ arm: a.arm, trainSeed: a.trainSeed, finalLoss: this.lastLoss.get(a.key), eval: this.lastEval.get(a.key) }));
  }

  /** Fixes the run's length (a time budget measured it): every trainer's schedule and the status. */
  private planSteps(steps: number, note: string): void {
    this.totalSteps = steps;
    for (const a of this.arms) a.trainer.setTotalSteps(steps);
    this.log(note);
    this.status('training', { step: this.arms[0]?.trainer.stepCount, message: note });
  }

  private async gate(): Promise<void> {
    while (this.paused && !this.stopped) await new Promise<void>((r) => (this.wake = r));
  }

  /** Submits one optimizer step of one run (its accumSteps micro-batches); reports it when the GPU has finished it. */
  private submitStep(a: ArmRun, step: number): void {
    const accum = Math.max(1, this.config.hyper.accumSteps);
    const micro: TokenBatch[] = [];
    for (let i = 0; i < accum; i++) micro.push(a.batches[((step - 1) * accum + i) % a.batches.length]);
    const supervised = micro.reduce((n, b) => n + weightCount(b), 0);
    const tokens = micro.reduce((n, b) => n + b.batch * b.seqLen, 0);
    a.inFlight.push(
      a.trainer.step(micro).then((r) => {
        a.supervisedTokens += supervised;
        this.tokensDone += tokens;
        this.lastLoss.set(a.key, r.loss);
        const elapsedMs = performance.now() - this.started;
        this.deps.emit({ kind: 'train', arm: a.arm, trainSeed: a.trainSeed, step: r.step, loss: r.loss, lr: r.lr, supervisedTokens: a.supervisedTokens, tokensPerSecond: (this.tokensDone / Math.max(1, elapsedMs - this.evalMs)) * 1000, elapsedMs });
      }),
    );
  }

  private generatorFor(a: ArmRun): Promise<Generator> {
    if (a.generator) return Promise.resolve(a.generator);
    // Rows generated together: next-action queries, or every rollout episode of every
    // environment and split at once (runEpisodeSpecs), capped at 16 — the memory plan's size.
    return createGenerator(a.model, { ...generatorSize(this.config), adapter: a.adapter }).then((g) => (a.generator = g));
  }

  /** A run as the evaluation measures it: its trainer, and its generator on the current weights. */
  private measured(a: ArmRun, who: string): MeasuredModel {
    return { who, policyName: a.arm, trainer: a.trainer, generator: () => this.generatorFor(a) };
  }

  private async evaluate(step: number, rollouts: boolean): Promise<void> {
    const ev = this.evaluation!;
    const withRollouts = rollouts && ev.rolloutSpecs.length > 0;
    this.status('evaluating', { step, message: withRollouts ? 'held-out loss, next action, rollouts' : 'held-out loss, next action' });
    for (const a of this.arms) await a.inFlight.drain();
    // Training changed the weights since the last evaluation: the generators' cached K/V are stale.
    for (const a of this.arms) a.generator?.reset();
    for (const a of this.arms) {
      if (this.stopped) return;
      this.log(`evaluating ${a.name} at step ${step}: ${ev.measuresText(withRollouts)}`);
      this.status('evaluating', { step, message: `${a.name}: ${ev.measuresText(withRollouts)}` });
      const progress = (message: string) => this.status('evaluating', { step, message });
      const m: EvalMetrics = { kind: 'eval', arm: a.arm, trainSeed: a.trainSeed, step, ...(await ev.measure(this.measured(a, a.name), withRollouts, progress)) };
      this.lastEval.set(a.key, m);
      this.deps.emit(m);
    }
  }

  /** The starting weights (every arm's, before its first step) measured like an arm: emitted
   *  once as the baseline. Uses the first run's model, which has not trained yet. */
  private async measureBaseline(): Promise<number> {
    const ev = this.evaluation!;
    const first = this.arms[0];
    if (!first || (this.config.evalEvery <= 0 && ev.rolloutSpecs.length === 0)) return 0;
    const withRollouts = this.config.rolloutEpisodes > 0 && ev.rolloutSpecs.length > 0;
    this.status('evaluating', { step: 0, message: `the untuned base: ${ev.measuresText(withRollouts)}` });
    this.log(`evaluating the untuned base (the starting weights) at step 0: ${ev.measuresText(withRollouts)}`);
    const t0 = performance.now();
    const progress = (message: string) => this.status('evaluating', { step: 0, message });
    const m: BaselineMetrics = { kind: 'baseline', step: 0, ...(await ev.measure(this.measured(first, 'the untuned base'), withRollouts, progress)) };
    const ms = performance.now() - t0;
    this.evalMs += ms;
    if (!this.stopped) this.deps.emit(m);
    return ms;
  }

  private async saveCheckpoint(step: number): Promise<void> {
    const store = this.deps.checkpoints;
    if (!store || !this.deps.checkpointKey) return;
    const arms: Checkpoint['arms'] = {};
    // a run's trainable weights: the model's, or (LoRA) its adapter's
    const adam: NonNullable<Checkpoint['adam']> = {};
    for (const a of this.arms) {
      arms[a.key] = packParams(a.trainer.trainable.layout, await a.trainer.trainable.readParams());
      adam[a.key] = await a.trainer.readOptimizerState();
    }
    const supervisedTokens: Record<string, number> = {};
    for (const a of this.arms) supervisedTokens[a.key] = a.supervisedTokens;
    const progress = { supervisedTokens, tokensDone: this.tokensDone, trainMs: performance.now() - this.started - this.evalMs, totalSteps: this.totalSteps };
    await store.save({ key: this.deps.checkpointKey, step, savedAt: new Date().toISOString(), arms, adam, progress });
    this.log(`checkpoint saved at step ${step}`);
  }

  destroy(): void {
    for (const a of this.arms) destroyArmRun(a);
    this.base?.destroy();
    this.base = undefined;
    this.workspace?.destroy();
    this.arms = [];
  }
}
