// The memory plan of an experiment, before anything is allocated: the engine's plan
// (src/engine/memory-plan.ts) for one run — one arm with one training seed — sized exactly as
// the runner sizes it (runner.ts: the shared workspace for batch × seq, each run's trainer with
// its accumulation slots and evaluation readback, each run's generator for next-action queries
// and rollouts, LoRA adapters over one frozen base), and the experiment's total over all its
// runs: what every run shares counted once (the workspace's activations and logits; with LoRA
// the frozen base), everything else once per run. Whether it fits is the one run's plan's
// verdict: the adapter's limits bind buffer by buffer, and a run's buffers are the same size in
// every run. Pure: the page computes it on the main thread from config.json alone.
import type { LlamaConfig } from '../engine/config.ts';
import { memoryPlan, PLAN_CATEGORIES, type MemoryPlan, type MemoryPlanOptions, type PlanCategory, type PlanLimits } from '../engine/memory-plan.ts';
import { rolloutSpecs } from './evaluation.ts';
import { loraSpecOf, trainingSeeds, type ExperimentConfig } from './protocol.ts';
import { DEFAULT_NEXT_ACTION_QUERIES } from './settings-spec.ts';

export type { MemoryPlan, PlanCategory, PlanLimits };
export { PLAN_CATEGORIES };
export { fmtBytes } from '../engine/gpu/resources.ts';

/** Limits no buffer exceeds: a plan made without an adapter (no WebGPU) refuses nothing for size. */
export const NO_LIMITS: PlanLimits = { maxStorageBufferBindingSize: Infinity, maxBufferSize: Infinity };

/** Rows one generator serves at once: next-action queries, or every rollout episode of every
 *  environment and split together, at least the training batch, at most 16 (runner.ts generatorFor). */
export function generatorSize(config: ExperimentConfig): { maxBatch: number; maxSeq: number } {
  const rows = Math.max(config.hyper.batchSize, rolloutSpecs(config).length, config.nextActionQueries ?? DEFAULT_NEXT_ACTION_QUERIES);
  return { maxBatch: Math.min(16, rows), maxSeq: config.hyper.seqLen };
}

/** Whether the runs generate text (next-action queries, or rollouts, which run at the last step
 *  at least): then each run makes a generator. */
function generates(config: ExperimentConfig): boolean {
  return (config.nextActionQueries ?? DEFAULT_NEXT_ACTION_QUERIES) > 0 || rolloutSpecs(config).length > 0;
}

/** The engine's plan options for one run of `config`, as the runner will build it. */
export function runPlanOptions(config: ExperimentConfig, limits: PlanLimits): MemoryPlanOptions {
  const { hyper } = config;
  return {
    batch: hyper.batchSize,
    seq: hyper.seqLen,
    lora: loraSpecOf(config),
    limits,
    accumSteps: Math.max(1, hyper.accumSteps),
    // every run is evaluated at its last step at least (held-out loss through forwardLoss)
    eval: true,
    generation: generates(config) ? generatorSize(config) : undefined,
  };
}

export interface ExperimentMemoryPlan {
  /** One run's plan (the engine's, for runPlanOptions): its buffers, totals and verdict. */
  run: MemoryPlan;
  /** Runs of the experiment: arms × training seeds. */
  runs: number;
  /** Categories whose buffers every run shares (counted once in `totals`). */
  shared: PlanCategory[];
  /** Bytes per category for the whole experiment. */
  totals: Record<PlanCategory, number>;
  total: number;
}

/** The categories every run shares: the workspace, and with LoRA the frozen base. */
export function sharedCategories(lora: boolean): PlanCategory[] {
  return lora ? ['weights', 'activations', 'logits'] : ['activations', 'logits'];
}

/** The plan of `config` on a model of `model`'s shape. Throws (as the runner refuses) for
 *  settings no memory fixes: an unsupported model config, bad LoRA settings. */
export function experimentMemoryPlan(model: LlamaConfig, config: ExperimentConfig, limits: PlanLimits): ExperimentMemoryPlan {
  const run = memoryPlan(model, runPlanOptions(config, limits));
  const runs = Math.max(1, config.arms.length) * trainingSeeds(config).length;
  const shared = sharedCategories(!!run.lora);
  const totals = Object.fromEntries(PLAN_CATEGORIES.map((c) => [c, run.totals[c] * (shared.includes(c) ? 1 : runs)])) as Record<PlanCategory, number>;
  return { run, runs, shared, totals, total: PLAN_CATEGORIES.reduce((a, c) => a + totals[c], 0) };
}
