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
import { generateTurns, modelTurnPolicy } from './policy.ts';
import type { EvalMetrics, ExperimentConfig, ExperimentEvent, RunStatus } from './protocol.ts';
import { perStepLoss } from './step-loss.ts';

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
  /** Flat parameters (params.ts layout) per arm. */
  arms: Partial<Record<Arm, Float32Array>>;
  /** Counters the charts continue from after a resume (absent in older checkpoints). */
  progress?: { supervisedTokens: Partial<Record<Arm, number>>; tokensDone: number; trainMs: number };
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
  private tokensDone = 0;
  /** Time spent evaluating, left out of tokens/s. */
  private evalMs = 0;
  private lastLoss = new Map<Arm, number>();
  private lastEval = new Map<Arm, EvalMetrics>();
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

  /** Current weights of one arm. */
  async armWeights(arm: Arm): Promise<NamedTensors> {
    const run = this.arms.find((a) => a.arm === arm);
    if (!run) throw new Error(`arm "${arm}" is not part of this run`);
    await run.trainer.flush();
    return run.model.readParams();
  }

  get modelConfig(): LlamaConfig {
    return this.deps.model.config;
  }

  private status(state: RunStatus['state'], extra: Partial<RunStatus> = {}): void {
    this.deps.emit({ kind: 'status', state, gpuBytes: gpuResources(this.deps.ctx).gpuBytes, adapter: this.deps.ctx.description, totalSteps: this.config.hyper.steps, ...extra });
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
      totalSteps: hyper.steps,
      minLrRatio: hyper.minLrRatio,
      weightDecay: hyper.weightDecay,
      gradClip: hyper.gradClip,
      accumSteps: hyper.accumSteps,
    };
    const layout = buildParamLayout(mc);
    let stepLoss: Record<string, number[]> | undefined;
    for (const arm of this.config.arms) {
      const saved = resumeFrom?.arms[arm];
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
      const { examples, report } = buildTrainingExamples(data.train, { arm, tokenizer: tok, contextLength: hyper.seqLen, seed, budget, stepLoss });
      if (!examples.length) throw new Error(noSupervisedStepMessage(arm, this.config.selector, this.config.data.kind, data.train.length, data.unlabelled));
      if (report.droppedTurns.length) this.log(`${arm}: ${report.droppedTurns.length} supervised turns do not fit a ${hyper.seqLen}-token window (e.g. ${report.droppedTurns[0].trajectoryId} step ${report.droppedTurns[0].step}: ${report.droppedTurns[0].reason})`);
      if (report.cutTokens) this.log(`${arm}: ${report.windowed} trajectories split into windows; ${report.cutTokens} history tokens cut from context`);
      // Same shuffled order of examples for every arm (seeded), so arms see the data alike.
      const order = new Rng(seed).shuffle(examples.map((_, i) => i));
      const batches = packBatches(order.map((i) => examples[i]), { batchSize: hyper.batchSize, seqLen: hyper.seqLen, padId: tok.padId });
      if (resumeFrom) trainer.stepCount = resumeFrom.step;
      this.arms.push({ arm, model, trainer, batches, report, supervisedTokens: resumeFrom?.progress?.supervisedTokens[arm] ?? 0, inFlight: [] });
      this.log(`${arm}: ${report.examples} examples, ${report.supervisedTurns} supervised turns, ${report.supervisedTokens} supervised tokens`);
    }
    if (resumeFrom) this.log(`resumed from the checkpoint at step ${resumeFrom.step} (AdamW moments restart from zero)`);

    const heldOutCritical = this.heldOutBatches('critical');
    const heldOutAll = this.heldOutBatches('full');
    // After a resume, elapsed time and throughput continue from the checkpoint's counters.
    this.tokensDone = resumeFrom?.progress?.tokensDone ?? 0;
    this.started = performance.now() - (resumeFrom?.progress?.trainMs ?? 0);
    const firstStep = resumeFrom?.step ?? 0;
    this.status('training', { step: firstStep });
    for (let step = firstStep + 1; step <= hyper.steps && !this.stopped; step++) {
      await this.gate();
      if (this.stopped) break;
      for (const a of this.arms) this.submitStep(a, step);
      // Keep at most two steps in flight per arm: the GPU stays busy, memory stays bounded.
      for (const a of this.arms) while (a.inFlight.length > 2) await a.inFlight.shift();
      const last = step === hyper.steps;
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
    this.status(this.stopped ? 'stopped' : 'done', { step: this.arms[0]?.trainer.stepCount });
    return this.arms.map((a) => ({ arm: a.arm, finalLoss: this.lastLoss.get(a.arm), eval: this.lastEval.get(a.arm) }));
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
      this.lastLoss.set(a.arm, r.loss);
      const elapsedMs = performance.now() - this.started;
      this.deps.emit({ kind: 'train', arm: a.arm, step: r.step, loss: r.loss, lr: r.lr, supervisedTokens: a.supervisedTokens, tokensPerSecond: (this.tokensDone / Math.max(1, elapsedMs - this.evalMs)) * 1000, elapsedMs });
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
    const queries = this.nextActionQueries();
    const maxNewTokens = this.config.maxTurnTokens ?? 48;
    for (const a of this.arms) {
      if (this.stopped) return;
      this.log(`evaluating ${a.arm} at step ${step}: held-out loss${queries.length ? `, next action (${queries.length} queries)` : ''}${rollouts && this.config.rolloutEpisodes > 0 ? `, rollouts (${this.config.rolloutEpisodes} episodes per environment and split)` : ''}`);
      const m: EvalMetrics = {
        kind: 'eval',
        arm: a.arm,
        step,
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
      if (withRollouts) Object.assign(m, await this.rollouts(a, maxNewTokens));
      this.lastEval.set(a.arm, m);
      this.deps.emit(m);
    }
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
  private async rollouts(a: ArmRun, maxNewTokens: number): Promise<Pick<EvalMetrics, 'successHeldIn' | 'successHeldOut' | 'rolloutSeeds' | 'expertSuccessHeldIn' | 'expertSuccessHeldOut'>> {
    const specs = this.rolloutSpecs();
    const gen = await this.generatorFor(a);
    const policy = modelTurnPolicy(gen, this.deps.tokenizer, { maxNewTokens, name: a.arm });
    const maxSteps = this.config.rolloutMaxSteps;
    const results = await runEpisodeSpecs(specs, policy, { batchSize: gen.maxBatch, maxSteps });
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
    for (const a of this.arms) arms[a.arm] = packParams(layout, await a.model.readParams());
    const supervisedTokens: Partial<Record<Arm, number>> = {};
    for (const a of this.arms) supervisedTokens[a.arm] = a.supervisedTokens;
    const progress = { supervisedTokens, tokensDone: this.tokensDone, trainMs: performance.now() - this.started - this.evalMs };
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
