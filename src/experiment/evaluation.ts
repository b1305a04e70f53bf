// One evaluation of a model during an experiment, the same for every arm and for the untuned
// base: held-out loss on the critical and on all agent turns, next-action accuracy given the
// true history, and rollout success in the environments beside the built-in expert's on the
// same episodes and turn cap. The runner owns the models and their generators; this module
// measures.
import type { Arm } from '../data/arms.ts';
import { buildTrainingExamples, packBatches } from '../data/masks.ts';
import { Rng } from '../data/rng.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { TokenBatch } from '../engine/batch.ts';
import type { Generator } from '../engine/generate/generator.ts';
import type { Trainer } from '../engine/trainer.ts';
import { expertPolicy } from '../envs/policy.ts';
import { parseReAct } from '../envs/react.ts';
import { getEnv } from '../envs/registry.ts';
import { runEpisodeSpecs, type EpisodeResult, type EpisodeSpec } from '../envs/rollout.ts';
import { normalizeAction } from '../envs/text.ts';
import type { ExperimentData } from './data.ts';
import { heldOutLoss } from './held-out-loss.ts';
import { generateTurns, modelTurnPolicy } from './model-turns.ts';
import type { EvalMetrics, ExperimentConfig } from './protocol.ts';
import { DEFAULT_NEXT_ACTION_QUERIES, DEFAULT_TURN_TOKENS } from './settings-spec.ts';

/** What one evaluation measures of a model (an arm's EvalMetrics, or the baseline's). */
export type Measures = Omit<EvalMetrics, 'kind' | 'arm' | 'trainSeed' | 'step'>;

/** The model being measured: its trainer (for losses) and a generator on its weights. */
export interface MeasuredModel {
  /** Who it is in progress messages ("critical (seed 2)", "the untuned base"). */
  who: string;
  /** Its policy's name in rollouts (the arm). */
  policyName: string;
  trainer: Trainer;
  generator(): Promise<Generator>;
}

interface NextActionQuery {
  instruction: string;
  steps: Trajectory['steps'];
  expected: string;
}

export interface EvaluationDeps {
  tokenizer: TextTokenizer;
  data: ExperimentData;
}

type RolloutMeasures = Pick<EvalMetrics, 'successHeldIn' | 'successHeldOut' | 'rolloutSeeds' | 'expertSuccessHeldIn' | 'expertSuccessHeldOut'>;

export class Evaluation {
  /** Held-out batches of the critical arm's and of every agent turn. */
  readonly critical: TokenBatch[];
  readonly all: TokenBatch[];
  /** The rollout episodes (built-in data only; none for a stored dataset). */
  readonly rolloutSpecs: EpisodeSpec[];
  private readonly queries: NextActionQuery[];
  /** The expert's rollouts on the evaluation episodes (the same at every evaluation). */
  private expertResults?: EpisodeResult[];

  constructor(
    private readonly config: ExperimentConfig,
    private readonly deps: EvaluationDeps,
  ) {
    this.critical = this.heldOutBatches('critical');
    this.all = this.heldOutBatches('full');
    this.rolloutSpecs = rolloutSpecs(config);
    this.queries = nextActionQueries(config, deps.data.heldOut);
  }

  get nextActionQueryCount(): number {
    return this.config.nextActionQueries ?? DEFAULT_NEXT_ACTION_QUERIES;
  }

  /** What an evaluation measures, in words ("held-out loss, next action (8 queries), rollouts (…)"). */
  measuresText(withRollouts: boolean): string {
    const n = this.nextActionQueryCount;
    return `held-out loss${n ? `, next action (${n} queries)` : ''}${withRollouts ? `, rollouts (${this.config.rolloutEpisodes} episodes per environment and split)` : ''}`;
  }

  /** Held-out losses, next-action accuracy and (optionally) rollout success of one model;
   *  `progress` hears how far a long measurement is ("critical: rollouts, 3 of 8 episodes finished"). */
  async measure(m: MeasuredModel, withRollouts: boolean, progress: (message: string) => void): Promise<Measures> {
    const maxNewTokens = this.config.maxTurnTokens ?? DEFAULT_TURN_TOKENS;
    const out: Measures = {
      heldOutLossCritical: await heldOutLoss(m.trainer, this.critical),
      heldOutLossAll: await heldOutLoss(m.trainer, this.all),
    };
    if (this.queries.length) out.nextActionAccuracy = await this.nextActionAccuracy(await m.generator(), maxNewTokens);
    if (withRollouts) Object.assign(out, await this.rollouts(m, maxNewTokens, progress));
    return out;
  }

  private heldOutBatches(arm: Arm): TokenBatch[] {
    const { hyper, seed, budget } = this.config;
    const tok = this.deps.tokenizer;
    const labelled = this.deps.data.heldOut.filter((t) => arm === 'full' || t.selections.some((s) => s.status === 'labelled'));
    const { examples } = buildTrainingExamples(labelled, { arm, tokenizer: tok, contextLength: hyper.seqLen, seed, budget });
    return packBatches(examples, { batchSize: hyper.batchSize, seqLen: hyper.seqLen, padId: tok.padId });
  }

  private async nextActionAccuracy(gen: Generator, maxNewTokens: number): Promise<number> {
    const turns = await generateTurns(gen, this.deps.tokenizer, this.queries, { maxNewTokens });
    const hits = turns.filter((text, i) => {
      const action = parseReAct(text).action;
      return action !== null && normalizeAction(action) === normalizeAction(this.queries[i].expected);
    }).length;
    return hits / this.queries.length;
  }

  /** Success rates over the rollout episodes, all environments and splits in shared batches
   *  (one generation call per turn for all of them), and the expert's on the same episodes. */
  private async rollouts(m: MeasuredModel, maxNewTokens: number, progress: (message: string) => void): Promise<RolloutMeasures> {
    const specs = this.rolloutSpecs;
    const gen = await m.generator();
    const policy = modelTurnPolicy(gen, this.deps.tokenizer, { maxNewTokens, name: m.policyName });
    const maxSteps = this.config.rolloutMaxSteps;
    // Rollouts take most of an evaluation on a slow adapter: report how far they are.
    const onProgress = (done: number, total: number) => progress(`${m.who}: rollouts, ${done} of ${total} episodes finished`);
    const results = await runEpisodeSpecs(specs, policy, { batchSize: gen.maxBatch, maxSteps, onProgress });
    // The expert on the same episodes and cap (CPU only, once per run): the ceiling.
    this.expertResults ??= await runEpisodeSpecs(specs, expertPolicy(), { batchSize: specs.length, maxSteps });
    return {
      successHeldIn: successRate(results, 'held-in'),
      successHeldOut: successRate(results, 'held-out'),
      rolloutSeeds: [...new Set(specs.map((s) => s.seed))],
      expertSuccessHeldIn: successRate(this.expertResults, 'held-in'),
      expertSuccessHeldOut: successRate(this.expertResults, 'held-out'),
    };
  }
}

/** The evaluation's rollout episodes: rolloutEpisodes fixed seeds (disjoint from the training
 *  demonstrations') in every environment and split that has tasks. Built-in data only. */
export function rolloutSpecs(config: ExperimentConfig): EpisodeSpec[] {
  const src = config.data;
  if (src.kind !== 'builtin') return [];
  const specs: EpisodeSpec[] = [];
  for (const split of ['held-in', 'held-out'] as const) {
    for (const name of src.envs) {
      const def = getEnv(name);
      if (def.taskTypes[split].length) for (let i = 0; i < config.rolloutEpisodes; i++) specs.push({ def, seed: src.seed + 900_000 + i, split });
    }
  }
  return specs;
}

/** Held-out next-action queries: a seeded sample of (history, the expert's next action). */
function nextActionQueries(config: ExperimentConfig, heldOut: readonly Trajectory[]): NextActionQuery[] {
  const all: NextActionQuery[] = [];
  for (const t of heldOut) {
    t.steps.forEach((s, k) => {
      if (s.action) all.push({ instruction: t.instruction, steps: t.steps.slice(0, k), expected: s.action });
    });
  }
  return new Rng(config.seed + 7).sample(all, config.nextActionQueries ?? DEFAULT_NEXT_ACTION_QUERIES);
}

function successRate(of: EpisodeResult[], split: 'held-in' | 'held-out'): number | undefined {
  const mine = of.filter((r) => r.split === split);
  return mine.length ? mine.filter((r) => r.success).length / mine.length : undefined;
}
