// Trains several arms side by side on one GPU device: every arm starts from the same
// weights and sees the same trajectories in the same order — only the loss weights differ
// (which steps are supervised). Arms take optimizer steps in turn (round robin), share one
// activation workspace, and are evaluated together on held-out data: loss on the critical
// and on all agent turns, next-action accuracy, and rollout success in the environments.
import type { Arm } from '../data/arms.ts';
import { buildTrainingExamples, packBatches, type MaskReport } from '../data/masks.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import { Rng } from '../data/rng.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { LlamaConfig } from '../engine/config.ts';
import type { GpuContext } from '../engine/device.ts';
import { createGenerator, type Generator } from '../engine/generate/generator.ts';
import { gpuResources } from '../engine/gpu/resources.ts';
import { createModel, initParams, type Model } from '../engine/model.ts';
import { buildParamLayout, packParams, unpackParams, type NamedTensors } from '../engine/params.ts';
import { Trainer } from '../engine/trainer.ts';
import { Workspace } from '../engine/workspace.ts';
import type { TokenBatch } from '../engine/batch.ts';
import { getEnv } from '../envs/registry.ts';
import { runEpisodeSpecs, type EpisodeResult, type EpisodeSpec } from '../envs/rollout.ts';
import { expertPolicy } from '../envs/policy.ts';
import { parseReAct } from '../envs/react.ts';
import { normalizeAction } from '../envs/text.ts';
import { noSupervisedStepMessage, type ExperimentData } from './data.ts';
import { DEFAULT_TURN_TOKENS, generateTurns, modelTurnPolicy } from './policy.ts';
import { trainingSeeds, type BaselineMetrics, type EvalMetrics, type ExperimentConfig, type ExperimentEvent, type RunStatus } from './protocol.ts';
import { perStepLoss } from './step-loss.ts';
import { BudgetProbe } from './time-budget.ts';

export interface ResolvedModel {
  config: LlamaConfig;
  /** Starting weights; absent = seeded random init. */
  tensors?: NamedTensors;
  label: string;
}

export interface Checkpoint {
  key: string;
  step: number;
  savedAt: string;
  /** Flat parameters (params.ts layout) per run, keyed by runKey(arm, trainSeed); checkpoints
   *  saved before training seeds existed key them by arm alone (the first seed). */
  arms: Record<string, Float32Array>;
  /** Counters the charts continue from after a resume (absent in older checkpoints). */
  progress?: { supervisedTokens: Record<string, number>; tokensDone: number; trainMs: number; totalSteps?: number };
}

/** A run of one arm with one training seed. The first seed's key is the arm alone, as in
 *  checkpoints saved before seeds existed. */
export function runKey(arm: Arm, trainSeed: number, firstSeed: number): string {
  return trainSeed === firstSeed ? arm : `${arm}#${trainSeed}`;
}

export interface CheckpointStore {
  save(cp: Checkpoint): Promise<void>;
  load(key: string): Promise<Checkpoint | undefined>;
}

export interface RunnerDeps {
  ctx: GpuContext;
  tokenizer: TextTokenizer;
  model: ResolvedModel;
  data: ExperimentData;
  emit: (e: ExperimentEvent) => void;
  checkpoints?: CheckpointStore;
  /** Key checkpoints are saved under (one per experiment configuration). */
  checkpointKey?: string;
}

interface ArmRun {
  arm: Arm;
  trainSeed: number;
  key: string;
  model: Model;
  trainer: Trainer;
  batches: TokenBatch[];
  report: MaskReport;
  supervisedTokens: number;
  generator?: Generator;
  inFlight: Promise<void>[];
}

export interface ArmResult {
  arm: Arm;
  trainSeed: number;
  finalLoss?: number;
  eval?: EvalMetrics;
}

const weightCount = (b: TokenBatch) => b.weights.reduce((a, w) => a + (w > 0 ? 1 : 0), 0);

export class ExperimentRunner {
  private arms: ArmRun[] = [];
  private paused = false;
  private stopped = false;
  private wake?: () => void;
  private workspace?: Workspace;
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
  /** The expert's rollouts on the evaluation episodes (the same at every evaluation). */
  private expertResults?: EpisodeResult[];

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
    const run = this.arms.find((a) => a.arm === arm && (trainSeed === undefined || a.trainSeed === trainSeed));
    if (!run) throw new Error(trainSeed === undefined ? `arm "${arm}" is not part of this run` : `arm "${arm}" has no run with training seed ${trainSeed} (seeds: ${trainingSeeds(this.config).join(', ')})`);
    await run.trainer.flush();
    return run.model.readParams();
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

  private checkConfig(): void {
    const { config: mc } = this.deps.model;
    const { hyper, arms } = this.config;
    const tok = this.deps.tokenizer;
    if (!arms.length) throw new Error('choose at least one arm to train');
    if (new Set(arms).size !== arms.length) throw new Error(`an arm is listed twice: ${arms.join(', ')}`);
    if (hyper.seqLen > mc.maxSeqLen) throw new Error(`sequence length ${hyper.seqLen} exceeds the model's context ${mc.maxSeqLen}`);
    if (tok.vocabSize > mc.vocabSize) throw new Error(`the tokenizer "${tok.name}" has ${tok.vocabSize} ids but the model's vocabulary holds ${mc.vocabSize}`);
    if (!this.deps.data.train.length) throw new Error('no training trajectories');
  }

  /** Runs the experiment to the end (or until stopped); resumes from a checkpoint when given. */
  async run(resumeFrom?: Checkpoint): Promise<ArmResult[]> {
    this.checkConfig();
    this.wallStart = performance.now();
    this.totalSteps = resumeFrom?.progress?.totalSteps ?? this.config.hyper.steps;
    const { ctx, tokenizer: tok, data } = this.deps;
    const { hyper, seed, budget } = this.config;
    const mc = this.deps.model.config;
    this.status('preparing', { message: 'building models and batches' });
    for (const n of data.notes) this.log(n);
    if (data.unlabelled.length) this.log(`${data.unlabelled.length} trajectories have no "${this.config.selector}" selection: ${data.unlabelled.slice(0, 3).map((u) => `${u.id} (${u.reason})`).join('; ')}${data.unlabelled.length > 3 ? ' …' : ''}`);

    const res = gpuResources(ctx);
    this.workspace = new Workspace(res, { maxBatch: hyper.batchSize, maxSeqLen: hyper.seqLen, configs: [mc] });
    const start = this.deps.model.tensors ?? initParams(mc, seed);
    const trainerHyper = {
      lr: hyper.lr,
      warmupSteps: hyper.warmupSteps,
      totalSteps: this.totalSteps,
      minLrRatio: hyper.minLrRatio,
      weightDecay: hyper.weightDecay,
      gradClip: hyper.gradClip,
      accumSteps: hyper.accumSteps,
    };
    const layout = buildParamLayout(mc);
    let stepLoss: Record<string, number[]> | undefined;
    const seeds = trainingSeeds(this.config);
    for (const trainSeed of seeds) for (const arm of this.config.arms) {
      const key = runKey(arm, trainSeed, seeds[0]);
      const name = seeds.length > 1 ? `${arm} (seed ${trainSeed})` : arm;
      const saved = resumeFrom?.arms[key];
      const model = await createModel(ctx, mc, saved ? unpackParams(layout, saved) : start);
      const trainer = new Trainer(model, trainerHyper, { workspace: this.workspace });
      if (arm === 'highest-loss' && !stepLoss) {
        // The base model's per-step loss, before any training (from the shared start weights).
        const base = saved ? await createModel(ctx, mc, start) : model;
        const baseTrainer = saved ? new Trainer(base, trainerHyper, { workspace: this.workspace }) : trainer;
        stepLoss = await perStepLoss(baseTrainer, data.train, tok, hyper.seqLen, hyper.batchSize);
        if (saved) {
          baseTrainer.destroy();
          base.destroy();
        }
      }
      const { examples, report } = buildTrainingExamples(data.train, { arm, tokenizer: tok, contextLength: hyper.seqLen, seed: trainSeed, budget, stepLoss });
      if (!examples.length) throw new Error(noSupervisedStepMessage(arm, this.config.selector, this.config.data.kind, data.train.length, data.unlabelled));
      if (report.droppedTurns.length && trainSeed === seeds[0]) this.log(`${arm}: ${report.droppedTurns.length} supervised turns do not fit a ${hyper.seqLen}-token window (e.g. ${report.droppedTurns[0].trajectoryId} step ${report.droppedTurns[0].step}: ${report.droppedTurns[0].reason})`);
      if (report.cutTokens && trainSeed === seeds[0]) this.log(`${arm}: ${report.windowed} trajectories split into windows; ${report.cutTokens} history tokens cut from context`);
      // Same shuffled order of examples for every arm of a seed, so arms see the data alike.
      const order = new Rng(trainSeed).shuffle(examples.map((_, i) => i));
      const batches = packBatches(order.map((i) => examples[i]), { batchSize: hyper.batchSize, seqLen: hyper.seqLen, padId: tok.padId });
      if (resumeFrom) trainer.stepCount = resumeFrom.step;
      this.arms.push({ arm, trainSeed, key, model, trainer, batches, report, supervisedTokens: resumeFrom?.progress?.supervisedTokens[key] ?? 0, inFlight: [] });
      this.log(`${name}: ${report.examples} examples, ${report.supervisedTurns} supervised turns, ${report.supervisedTokens} supervised tokens`);
    }
    if (resumeFrom) this.log(`resumed from the checkpoint at step ${resumeFrom.step} (AdamW moments restart from zero)`);

    const heldOutCritical = this.heldOutBatches('critical');
    const heldOutAll = this.heldOutBatches('full');
    // After a resume, elapsed time and throughput continue from the checkpoint's counters.
    this.tokensDone = resumeFrom?.progress?.tokensDone ?? 0;
    this.started = performance.now() - (resumeFrom?.progress?.trainMs ?? 0);
    const firstStep = resumeFrom?.step ?? 0;
    // The untuned start, once, before any step: the base row and the charts' reference line.
    const baselineMs = !resumeFrom && !this.stopped ? await this.measureBaseline(heldOutCritical, heldOutAll) : 0;
    const probe = this.config.timeBudgetSeconds && !resumeFrom ? new BudgetProbe(this.config, this.arms.length, baselineMs) : undefined;
    this.status('training', { step: firstStep });
    for (let step = firstStep + 1; step <= this.totalSteps && !this.stopped; step++) {
      await this.gate();
      if (this.stopped) break;
      for (const a of this.arms) this.submitStep(a, step);
      // Keep at most two steps in flight per arm: the GPU stays busy, memory stays bounded.
      for (const a of this.arms) while (a.inFlight.length > 2) await a.inFlight.shift();
      if (probe?.measuring(step)) {
        for (const a of this.arms) await Promise.all(a.inFlight.splice(0));
        const planned = probe.measured(step, performance.now() - this.wallStart);
        if (planned) this.planSteps(planned.steps, planned.note);
      }
      const last = step === this.totalSteps;
      const evalNow = this.config.evalEvery > 0 && step % this.config.evalEvery === 0;
      const rolloutNow = last || (this.config.rolloutEvery > 0 && step % this.config.rolloutEvery === 0);
      if (evalNow || last) {
        const t0 = performance.now();
        await this.evaluate(step, heldOutCritical, heldOutAll, rolloutNow);
        this.evalMs += performance.now() - t0;
        await this.saveCheckpoint(step);
        if (!last && !this.stopped) this.status('training', { step });
      }
    }
    for (const a of this.arms) await Promise.all(a.inFlight);
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

  private submitStep(a: ArmRun, step: number): void {
    const accum = Math.max(1, this.config.hyper.accumSteps);
    const micro: TokenBatch[] = [];
    for (let i = 0; i < accum; i++) micro.push(a.batches[((step - 1) * accum + i) % a.batches.length]);
    const supervised = micro.reduce((n, b) => n + weightCount(b), 0);
    const tokens = micro.reduce((n, b) => n + b.batch * b.seqLen, 0);
    const p = a.trainer.step(micro).then((r) => {
      a.supervisedTokens += supervised;
      this.tokensDone += tokens;
      this.lastLoss.set(a.key, r.loss);
      const elapsedMs = performance.now() - this.started;
      this.deps.emit({ kind: 'train', arm: a.arm, trainSeed: a.trainSeed, step: r.step, loss: r.loss, lr: r.lr, supervisedTokens: a.supervisedTokens, tokensPerSecond: (this.tokensDone / Math.max(1, elapsedMs - this.evalMs)) * 1000, elapsedMs });
    });
    // Marks the rejection handled here; whoever awaits `p` still sees it. Without this, steps
    // left in flight when a run fails (e.g. a lost device) raise unhandled rejections.
    p.catch(() => undefined);
    a.inFlight.push(p);
  }

  private heldOutBatches(arm: Arm): TokenBatch[] {
    const { hyper, seed, budget } = this.config;
    const tok = this.deps.tokenizer;
    const labelled = this.deps.data.heldOut.filter((t) => arm === 'full' || t.selections.some((s) => s.status === 'labelled'));
    const { examples } = buildTrainingExamples(labelled, { arm, tokenizer: tok, contextLength: hyper.seqLen, seed, budget });
    return packBatches(examples, { batchSize: hyper.batchSize, seqLen: hyper.seqLen, padId: tok.padId });
  }

  private async heldOutLoss(a: ArmRun, batches: TokenBatch[]): Promise<number> {
    let num = 0;
    let den = 0;
    for (const b of batches) {
      const r = await a.trainer.forwardLoss(b);
      num += r.loss * r.weightSum;
      den += r.weightSum;
    }
    return den > 0 ? num / den : NaN;
  }

  private generatorFor(a: ArmRun): Promise<Generator> {
    if (a.generator) return Promise.resolve(a.generator);
    // Rows generated together: next-action queries, or every rollout episode of every
    // environment and split at once (runEpisodeSpecs), capped at 16.
    const rows = Math.max(this.config.hyper.batchSize, this.rolloutSpecs().length, this.config.nextActionQueries ?? 32);
    const maxBatch = Math.min(16, rows);
    return createGenerator(this.deps.ctx, this.deps.model.config, a.model.params, { maxBatch, maxSeq: this.config.hyper.seqLen }).then((g) => (a.generator = g));
  }

  private nextActionQueries(): { instruction: string; steps: Trajectory['steps']; expected: string }[] {
    const n = this.config.nextActionQueries ?? 32;
    const all: { instruction: string; steps: Trajectory['steps']; expected: string }[] = [];
    for (const t of this.deps.data.heldOut) {
      t.steps.forEach((s, k) => {
        if (s.action) all.push({ instruction: t.instruction, steps: t.steps.slice(0, k), expected: s.action });
      });
    }
    return new Rng(this.config.seed + 7).sample(all, n);
  }

  private async evaluate(step: number, critical: TokenBatch[], all: TokenBatch[], rollouts: boolean): Promise<void> {
    const withRollouts = rollouts && this.rolloutSpecs().length > 0;
    this.status('evaluating', { step, message: withRollouts ? 'held-out loss, next action, rollouts' : 'held-out loss, next action' });
    for (const a of this.arms) await Promise.all(a.inFlight.splice(0));
    // Training changed the weights since the last evaluation: the generators' cached K/V are stale.
    for (const a of this.arms) a.generator?.reset();
    for (const a of this.arms) {
      if (this.stopped) return;
      const name = trainingSeeds(this.config).length > 1 ? `${a.arm} (seed ${a.trainSeed})` : a.arm;
      this.log(`evaluating ${name} at step ${step}: ${this.measuresText(withRollouts)}`);
      this.status('evaluating', { step, message: `${name}: ${this.measuresText(withRollouts)}` });
      const m: EvalMetrics = { kind: 'eval', arm: a.arm, trainSeed: a.trainSeed, step, ...(await this.measure(a, critical, all, withRollouts, { step, who: name })) };
      this.lastEval.set(a.key, m);
      this.deps.emit(m);
    }
  }

  /** The starting weights (every arm's, before its first step) measured like an arm: emitted
   *  once as the baseline. Uses the first run's model, which has not trained yet. */
  private async measureBaseline(critical: TokenBatch[], all: TokenBatch[]): Promise<number> {
    const first = this.arms[0];
    if (!first || (this.config.evalEvery <= 0 && this.rolloutSpecs().length === 0)) return 0;
    const withRollouts = this.config.rolloutEpisodes > 0 && this.rolloutSpecs().length > 0;
    this.status('evaluating', { step: 0, message: `the untuned base: ${this.measuresText(withRollouts)}` });
    this.log(`evaluating the untuned base (the starting weights) at step 0: ${this.measuresText(withRollouts)}`);
    const t0 = performance.now();
    const m: BaselineMetrics = { kind: 'baseline', step: 0, ...(await this.measure(first, critical, all, withRollouts, { step: 0, who: 'the untuned base' })) };
    const ms = performance.now() - t0;
    this.evalMs += ms;
    if (!this.stopped) this.deps.emit(m);
    return ms;
  }

  private measuresText(withRollouts: boolean): string {
    const n = this.config.nextActionQueries ?? 32;
    return `held-out loss${n ? `, next action (${n} queries)` : ''}${withRollouts ? `, rollouts (${this.config.rolloutEpisodes} episodes per environment and split)` : ''}`;
  }

  /** Held-out losses, next-action accuracy and (optionally) rollout success of one model. */
  private async measure(a: ArmRun, critical: TokenBatch[], all: TokenBatch[], withRollouts: boolean, at: { step: number; who: string }): Promise<Omit<EvalMetrics, 'kind' | 'arm' | 'trainSeed' | 'step'>> {
    const queries = this.nextActionQueries();
    const maxNewTokens = this.config.maxTurnTokens ?? DEFAULT_TURN_TOKENS;
    const m: Omit<EvalMetrics, 'kind' | 'arm' | 'trainSeed' | 'step'> = {
      heldOutLossCritical: await this.heldOutLoss(a, critical),
      heldOutLossAll: await this.heldOutLoss(a, all),
    };
    if (queries.length) {
      const gen = await this.generatorFor(a);
      const turns = await generateTurns(gen, this.deps.tokenizer, queries, { maxNewTokens });
      const hits = turns.filter((text, i) => {
        const action = parseReAct(text).action;
        return action !== null && normalizeAction(action) === normalizeAction(queries[i].expected);
      }).length;
      m.nextActionAccuracy = hits / queries.length;
    }
    if (withRollouts) Object.assign(m, await this.rollouts(a, maxNewTokens, at));
    return m;
  }

  /** The evaluation's rollout episodes: rolloutEpisodes fixed seeds (disjoint from the
   *  training demonstrations') in every environment and split that has tasks. Built-in data only. */
  private rolloutSpecs(): EpisodeSpec[] {
    const src = this.config.data;
    if (src.kind !== 'builtin') return [];
    const specs: EpisodeSpec[] = [];
    for (const split of ['held-in', 'held-out'] as const) {
      for (const name of src.envs) {
        const def = getEnv(name);
        if (def.taskTypes[split].length) for (let i = 0; i < this.config.rolloutEpisodes; i++) specs.push({ def, seed: src.seed + 900_000 + i, split });
      }
    }
    return specs;
  }

  /** Success rates over the rollout episodes, all environments and splits in shared batches
   *  (one generation call per turn for all of them), and the expert's on the same episodes. */
  private async rollouts(a: ArmRun, maxNewTokens: number, at: { step: number; who: string }): Promise<Pick<EvalMetrics, 'successHeldIn' | 'successHeldOut' | 'rolloutSeeds' | 'expertSuccessHeldIn' | 'expertSuccessHeldOut'>> {
    const specs = this.rolloutSpecs();
    const gen = await this.generatorFor(a);
    const policy = modelTurnPolicy(gen, this.deps.tokenizer, { maxNewTokens, name: a.arm });
    const maxSteps = this.config.rolloutMaxSteps;
    // Rollouts take most of an evaluation on a slow adapter: report how far they are.
    const onProgress = (done: number, total: number) => this.status('evaluating', { step: at.step, message: `${at.who}: rollouts, ${done} / ${total} episodes done` });
    const results = await runEpisodeSpecs(specs, policy, { batchSize: gen.maxBatch, maxSteps, onProgress });
    // The expert on the same episodes and cap (CPU only, once per run): the ceiling.
    this.expertResults ??= await runEpisodeSpecs(specs, expertPolicy(), { batchSize: specs.length, maxSteps });
    const rate = (of: EpisodeResult[], split: 'held-in' | 'held-out') => {
      const mine = of.filter((r) => r.split === split);
      return mine.length ? mine.filter((r) => r.success).length / mine.length : undefined;
    };
    return {
      successHeldIn: rate(results, 'held-in'),
      successHeldOut: rate(results, 'held-out'),
      rolloutSeeds: [...new Set(specs.map((s) => s.seed))],
      expertSuccessHeldIn: rate(this.expertResults, 'held-in'),
      expertSuccessHeldOut: rate(this.expertResults, 'held-out'),
    };
  }

  private async saveCheckpoint(step: number): Promise<void> {
    const store = this.deps.checkpoints;
    if (!store || !this.deps.checkpointKey) return;
    const layout = buildParamLayout(this.deps.model.config);
    const arms: Checkpoint['arms'] = {};
    for (const a of this.arms) arms[a.key] = packParams(layout, await a.model.readParams());
    const supervisedTokens: Record<string, number> = {};
    for (const a of this.arms) supervisedTokens[a.key] = a.supervisedTokens;
    const progress = { supervisedTokens, tokensDone: this.tokensDone, trainMs: performance.now() - this.started - this.evalMs, totalSteps: this.totalSteps };
    await store.save({ key: this.deps.checkpointKey, step, savedAt: new Date().toISOString(), arms, progress });
    this.log(`checkpoint saved at step ${step}`);
  }

  destroy(): void {
    for (const a of this.arms) {
      a.generator?.destroy();
      a.trainer.destroy();
      a.model.destroy();
    }
    this.workspace?.destroy();
    this.arms = [];
  }
}

