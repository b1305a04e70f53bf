// One run of the experiment: an arm trained with one training seed — its model (from the shared
// start weights, or a checkpoint's), its trainer on the shared workspace, and its batches: the
// arm's loss masks over the training trajectories, in the seed's shuffled order (the same order
// for every arm of a seed, so arms see the data alike).
import type { Arm } from '../data/arms.ts';
import { buildTrainingExamples, packBatches, type MaskReport } from '../data/masks.ts';
import { Rng } from '../data/rng.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { TokenBatch } from '../engine/batch.ts';
import type { LlamaConfig } from '../engine/config.ts';
import type { GpuContext } from '../engine/device.ts';
import type { Generator } from '../engine/generate/generator.ts';
import { InFlight } from '../engine/in-flight.ts';
import { createModel, type Model } from '../engine/model.ts';
import { createAdapter, loraLayout, type Adapter, type LoraSpec } from '../engine/lora.ts';
import { buildParamLayout, unpackParams, type NamedTensors } from '../engine/params.ts';
import { Trainer, type TrainHyper } from '../engine/trainer.ts';
import type { Workspace } from '../engine/workspace.ts';
import { runKey, type Checkpoint } from './checkpoint.ts';
import { noSupervisedStepMessage, type ExperimentData } from './data.ts';
import { perStepLoss } from './per-step-loss.ts';
import type { ExperimentConfig } from './protocol.ts';
import { BadInputError } from './run-events.ts';

export interface ArmRun {
  arm: Arm;
  trainSeed: number;
  /** Its key in checkpoints (runKey). */
  key: string;
  /** Its name in messages: the arm, with the seed when there are several. */
  name: string;
  /** The run's model: its own, or (LoRA) the frozen base every run shares. */
  model: Model;
  /** Its LoRA adapter, when the runs train adapters over a shared frozen base. */
  adapter?: Adapter;
  trainer: Trainer;
  batches: TokenBatch[];
  report: MaskReport;
  supervisedTokens: number;
  generator?: Generator;
  /** Its submitted steps, at most two in flight. */
  inFlight: InFlight<void>;
}

/** What every run of an experiment shares. */
export interface ArmSetup {
  ctx: GpuContext;
  modelConfig: LlamaConfig;
  tokenizer: TextTokenizer;
  data: ExperimentData;
  config: ExperimentConfig;
  workspace: Workspace;
  trainerHyper: Partial<TrainHyper>;
  /** The start weights every arm fine-tunes. */
  start: NamedTensors;
  /** LoRA: the adapters' spec and the frozen base (start weights) every run shares. */
  lora?: { spec: LoraSpec; base: Model };
  seeds: number[];
  resumeFrom?: Checkpoint;
  log(message: string): void;
}

/** The highest-loss arm's step scores: the base model's per-step loss, computed once. */
export type StepLossCache = { value?: Record<string, number[]> };

/** Builds the run of `arm` with `trainSeed`: model, trainer and batches; logs what it trains on. */
export async function createArmRun(s: ArmSetup, arm: Arm, trainSeed: number, stepLoss: StepLossCache): Promise<ArmRun> {
  const key = runKey(arm, trainSeed, s.seeds[0]);
  const name = s.seeds.length > 1 ? `${arm} (seed ${trainSeed})` : arm;
  const saved = s.resumeFrom?.arms[key];
  const { model, adapter } = await runModel(s, saved);
  const trainer = new Trainer(model, s.trainerHyper, { workspace: s.workspace, adapter });
  try {
    if (arm === 'highest-loss' && !stepLoss.value) stepLoss.value = await baseStepLoss(s, saved ? undefined : trainer);
    const { batches, report } = armBatches(s, arm, trainSeed, stepLoss.value);
    if (s.resumeFrom) trainer.stepCount = s.resumeFrom.step;
    const moments = s.resumeFrom?.adam?.[key];
    if (moments) trainer.writeOptimizerState(moments);
    s.log(`${name}: ${report.examples} examples, ${report.supervisedTurns} supervised turns, ${report.supervisedTokens} supervised tokens`);
    return { arm, trainSeed, key, name, model, adapter, trainer, batches, report, supervisedTokens: s.resumeFrom?.progress?.supervisedTokens[key] ?? 0, inFlight: new InFlight<void>() };
  } catch (err) {
    destroyArmRun({ trainer, model, adapter });
    throw err;
  }
}

/** A run's own model from the start weights (or a checkpoint's); with LoRA an adapter over the
 *  shared base instead — every run's from the same seed, so all start alike (B = 0: the base). */
async function runModel(s: ArmSetup, saved: Float32Array | undefined): Promise<{ model: Model; adapter?: Adapter }> {
  if (!s.lora) return { model: await createModel(s.ctx, s.modelConfig, saved ? unpackParams(buildParamLayout(s.modelConfig), saved) : s.start) };
  const init = saved ? unpackParams(loraLayout(s.modelConfig, s.lora.spec), saved) : { seed: s.config.seed };
  return { model: s.lora.base, adapter: createAdapter(s.lora.base, s.lora.spec, init) };
}

/** Frees what a run owns: its trainer, generator and adapter, and its model unless shared. */
export function destroyArmRun(a: Pick<ArmRun, 'trainer' | 'model' | 'adapter' | 'generator'>): void {
  a.generator?.destroy();
  a.trainer.destroy();
  if (a.adapter) a.adapter.destroy();
  else a.model.destroy();
}

/** The arm's masked examples over the training trajectories, packed in the seed's shuffled order. */
function armBatches(s: ArmSetup, arm: Arm, trainSeed: number, stepLoss: Record<string, number[]> | undefined): { batches: TokenBatch[]; report: MaskReport } {
  const { hyper, budget } = s.config;
  const { examples, report } = buildTrainingExamples(s.data.train, { arm, tokenizer: s.tokenizer, contextLength: hyper.seqLen, seed: trainSeed, budget, stepLoss });
  if (!examples.length) throw new BadInputError(noSupervisedStepMessage(arm, s.config.selector, s.config.data.kind, s.data.train.length, s.data.unlabelled));
  if (trainSeed === s.seeds[0]) logMaskReport(s, arm, report);
  const order = new Rng(trainSeed).shuffle(examples.map((_, i) => i));
  const batches = packBatches(order.map((i) => examples[i]), { batchSize: hyper.batchSize, seqLen: hyper.seqLen, padId: s.tokenizer.padId });
  return { batches, report };
}

/** The base model's per-step loss, before any training, from the shared start weights: on the
 *  untrained run's own trainer, or (after a resume, whose runs have trained) on a model of its own. */
async function baseStepLoss(s: ArmSetup, untrained: Trainer | undefined): Promise<Record<string, number[]>> {
  const { hyper } = s.config;
  if (untrained) return perStepLoss(untrained, s.data.train, s.tokenizer, hyper.seqLen, hyper.batchSize);
  const base = await createModel(s.ctx, s.modelConfig, s.start);
  const trainer = new Trainer(base, s.trainerHyper, { workspace: s.workspace });
  try {
    return await perStepLoss(trainer, s.data.train, s.tokenizer, hyper.seqLen, hyper.batchSize);
  } finally {
    trainer.destroy();
    base.destroy();
  }
}

function logMaskReport(s: ArmSetup, arm: Arm, report: MaskReport): void {
  const seqLen = s.config.hyper.seqLen;
  const dropped = report.droppedTurns[0];
  if (dropped) s.log(`${arm}: ${report.droppedTurns.length} supervised turns do not fit a ${seqLen}-token window (e.g. ${dropped.trajectoryId} step ${dropped.step}: ${dropped.reason})`);
  if (report.cutTokens) s.log(`${arm}: ${report.windowed} trajectories split into windows; ${report.cutTokens} history tokens cut from context`);
}
