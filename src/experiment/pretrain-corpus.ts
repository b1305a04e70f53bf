// The base agent's pretraining corpus (docs/base-agent.md): an endless, seeded stream of
// episodes played by the *explorer* — a weaker demonstrator without the expert's priors —
// in every built-in environment and task type, rendered and masked exactly like the arms'
// training data (loss on every agent turn, the "full" arm's mask). Episode seeds start at
// PRETRAIN_SEED_BASE, far from the seeds the experiments train and evaluate on (< 1,000,000),
// so no pretraining episode is one the arms fine-tune on or are scored on.
//
// The stream is cut into chunks of EPISODES_PER_CHUNK episodes; a chunk is a pure function of
// (seed, chunk index), so a position (chunk, batch) is all a resumed run needs to continue
// with exactly the batches an uninterrupted run would have seen.
import type { TokenBatch } from '../engine/batch.ts';
import { buildTrainingExamples, packBatches, type TrainingExample } from '../data/masks.ts';
import { Rng, hashSeed } from '../data/rng.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { generateDemo } from '../envs/demo.ts';
import { ENVIRONMENTS } from '../envs/registry.ts';
import { renameHouseholdObjects } from './rename-objects.ts';
import { copyableIds, copyBatch, isCopyBatch } from './copy-batches.ts';
import { SPLITS, type EnvDefinition, type Split } from '../envs/types.ts';

export const PRETRAIN_SEED_BASE = 10_000_000;
/** Validation episodes come from their own seed range, disjoint from the stream's. */
export const VALIDATION_SEED_BASE = 9_000_000;
export const EPISODES_PER_CHUNK = 32;
/** The explorer's mistake rate (each mistake is followed by a self-correction). */
export const EXPLORER_MISTAKE_RATE = 0.3;

/** How the corpus is made from the explorer's episodes: the options of `atlas pretrain` that
 *  shape its data (docs/base-agent.md). */
export interface CorpusRecipe {
  /** Weight on the observations that answer the agent's turns (0: agent turns only, the
   *  arms' full mask). The validation loss is always on agent turns only, comparable across runs. */
  observationWeight: number;
  /** Weight on each episode's first agent turn, the plan (1: like every turn). The plan is
   *  where the task's names must be copied, and it is one turn in 5–16. */
  planWeight: number;
  /** Weight on agent-turn tokens that spell a name from the episode's task (the object and
   *  place, the goal's colour and kind, the item to craft; `taskNames`): where the base has
   *  to copy from the task, one token in hundreds (1: like every token). */
  nameWeight: number;
  /** Cut every episode after its first K agent turns (0: whole episodes). Each plan then
   *  comes with its instruction and little else: many more plans per token. */
  firstTurns: number;
  /** Rename every household episode's object classes by its own random permutation
   *  (`renameHouseholdObjects`): the room no longer predicts the task's object, the task does. */
  shuffleObjects: boolean;
  /** The fraction of batches that are synthetic copying rows instead of episodes
   *  (`copy-batches.ts`; 0: none). The corpus position does not move on them. */
  copyMix: number;
  /** The stream's first N batches are synthetic copying rows only, before any episode (0:
   *  none): the copying heads grow from random weights, where they do, before the corpus. */
  copyWarmup: number;
}

/** The plain recipe: whole episodes, loss on every agent turn alike, nothing mixed in. */
export const DEFAULT_RECIPE: Readonly<CorpusRecipe> = { observationWeight: 0, planWeight: 1, nameWeight: 1, firstTurns: 0, shuffleObjects: false, copyMix: 0, copyWarmup: 0 };

/** Just the recipe's fields of `s` (e.g. a run's settings). */
export function recipeOf(s: CorpusRecipe): CorpusRecipe {
  const { observationWeight, planWeight, nameWeight, firstTurns, shuffleObjects, copyMix, copyWarmup } = s;
  return { observationWeight, planWeight, nameWeight, firstTurns, shuffleObjects, copyMix, copyWarmup };
}

/** What a recipe changes from the plain one, in words (for provenance files). */
export function describeRecipe(r: CorpusRecipe): string {
  const parts = [
    r.observationWeight ? ` and weight ${r.observationWeight} on the observations` : '',
    r.planWeight !== 1 ? `, weight ${r.planWeight} on the plan` : '',
    r.nameWeight !== 1 ? `, weight ${r.nameWeight} on the task's names` : '',
    r.firstTurns ? `, episodes cut after their first ${r.firstTurns} agent turns` : '',
    r.shuffleObjects ? ', household object classes renamed by a random permutation per episode' : '',
    r.copyWarmup ? `, the first ${r.copyWarmup} batch${r.copyWarmup === 1 ? '' : 'es'} synthetic copying rows only` : '',
    r.copyMix ? `, ${r.copyMix} of the batches synthetic copying rows` : '',
  ];
  return parts.join('');
}

export interface CorpusOptions extends Partial<CorpusRecipe> {
  seed: number;
  tokenizer: TextTokenizer;
  batchSize: number;
  seqLen: number;
}

/** Options with every recipe field the caller left out set to the plain recipe's. */
function withDefaults(opts: CorpusOptions): CorpusOptions & CorpusRecipe {
  return { ...DEFAULT_RECIPE, ...opts };
}

export interface CorpusPosition {
  chunk: number;
  /** Index of the next batch within the chunk. */
  batch: number;
  /** Batches the stream has served, episodes and copying ones (absent in checkpoints made
   *  before `copyMix`: 0, which only matters with it). */
  served?: number;
}

/** Every (environment, split) that has tasks, drawn uniformly: household and grid in both
 *  splits, crafting (held out from the arms' training) in its only one. */
function sources(): { def: EnvDefinition; split: Split }[] {
  return ENVIRONMENTS.flatMap((def) => SPLITS.filter((split) => def.taskTypes[split].length > 0).map((split) => ({ def, split })));
}

/** The explorer's episodes of one chunk. */
export function corpusEpisodes(seed: number, chunk: number, n = EPISODES_PER_CHUNK, seedBase = PRETRAIN_SEED_BASE): Trajectory[] {
  const all = sources();
  const rng = new Rng(hashSeed(`atlas-pretrain/${seed}`, chunk));
  return Array.from({ length: n }, (_, i) => {
    const { def, split } = all[rng.int(all.length)];
    return generateDemo(def, seedBase + chunk * n + i, split, { style: 'explorer', mistakeRate: EXPLORER_MISTAKE_RATE });
  });
}

/** The episode up to its first `k` agent turns (and their replies). */
export function firstTurnsOf(t: Trajectory, k: number): Trajectory {
  if (t.steps.length <= k) return t;
  return { ...t, steps: t.steps.slice(0, k), groundTruth: t.groundTruth?.slice(0, k), outcome: undefined };
}

/** Words of a task line that are its template, not a name to copy. */
const TASK_TEMPLATE_WORDS = new Set('put a an some two in on the it them and find clean heat cool hot look at under examine with go to pick up open craft'.split(' '));

/** The names in an episode's task — what its plan and actions must copy: the words of the
 *  task line ("Your task is to: …", "Your goal: …", "Goal: craft …") other than its template. */
export function taskNames(instruction: string): string[] {
  const task = /Your task is to: ([^\n]*)|Your goal: ([^\n]*)|Goal: craft ([^\n]*)/.exec(instruction);
  const line = task ? (task[1] ?? task[2] ?? task[3]) : '';
  return [...new Set((line.toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => !TASK_TEMPLATE_WORDS.has(w)))];
}

/** Multiplies the loss weight of label position p (the engine's view and the token view). */
function scaleWeight(e: TrainingExample, p: number, by: number): void {
  e.weights[p] *= by;
  e.tokenWeights[p + 1] *= by;
}

/** Every position where `seq` starts in `labels`. */
function occurrences(labels: ArrayLike<number>, seq: readonly number[]): number[] {
  const found: number[] = [];
  for (let p = 0; p + seq.length <= labels.length; p++) if (seq.every((id, k) => labels[p + k] === id)) found.push(p);
  return found;
}

/** One chunk's training batches: full-arm examples (every agent turn supervised, and the
 *  observations at `observationWeight`) in a seeded order, one example per row. */
export function corpusChunk(options: CorpusOptions, chunk: number): TokenBatch[] {
  const opts = withDefaults(options);
  const cut = opts.firstTurns;
  const episodes = corpusEpisodes(opts.seed, chunk)
    .map((t, i) => (opts.shuffleObjects ? renameHouseholdObjects(t, new Rng(hashSeed(`atlas-pretrain-names/${opts.seed}`, chunk * EPISODES_PER_CHUNK + i))) : t))
    .map((t) => (cut > 0 ? firstTurnsOf(t, cut) : t));
  const { examples } = buildTrainingExamples(episodes, { arm: 'full', tokenizer: opts.tokenizer, contextLength: opts.seqLen, seed: opts.seed, observationWeight: opts.observationWeight });
  const plan = opts.planWeight;
  if (plan !== 1) for (const e of examples) e.labelSteps.forEach((step, p) => { if (step === 0) scaleWeight(e, p, plan); });
  const name = opts.nameWeight;
  if (name !== 1) {
    // Each name's tokens as it appears mid-sentence (after a space), per episode; a name is
    // weighed where all of its tokens stand in a row in an agent turn (" to|m|ato", not every " to").
    const spelt = new Map(episodes.map((t) => [t.id, taskNames(t.instruction).map((w) => opts.tokenizer.encode(` ${w}`))]));
    for (const e of examples) {
      for (const ids of spelt.get(e.trajectoryId)!) {
        for (const p of occurrences(e.labels, ids)) {
          const wholeWord = !/^[a-z]/i.test(opts.tokenizer.decode([e.labels[p + ids.length] ?? opts.tokenizer.padId]));
          if (wholeWord && ids.every((_, k) => e.labelSteps[p + k] >= 0)) ids.forEach((_, k) => scaleWeight(e, p + k, name));
        }
      }
    }
  }
  const order = new Rng(hashSeed(`atlas-pretrain-order/${opts.seed}`, chunk)).shuffle(examples.map((_, i) => i));
  return packBatches(order.map((i) => examples[i]), { batchSize: opts.batchSize, seqLen: opts.seqLen, padId: opts.tokenizer.padId });
}

/** The endless stream of batches from a position; `position` is where the next batch comes from. */
export class CorpusStream {
  private batches: TokenBatch[] = [];
  private loaded = -1;
  private copyIds: number[] | undefined;

  constructor(
    private readonly opts: CorpusOptions,
    public position: CorpusPosition = { chunk: 0, batch: 0 },
  ) {}

  next(): TokenBatch {
    const served = this.position.served ?? 0;
    const { copyWarmup, copyMix } = withDefaults(this.opts);
    if (served < copyWarmup || isCopyBatch(served - copyWarmup, copyMix)) {
      this.copyIds ??= copyableIds(this.opts.tokenizer);
      this.position = { ...this.position, served: served + 1 };
      return copyBatch(this.copyIds, this.opts.batchSize, this.opts.seqLen, new Rng(hashSeed(`atlas-pretrain-copy/${this.opts.seed}`, served)));
    }
    for (;;) {
      if (this.loaded !== this.position.chunk) {
        this.batches = corpusChunk(this.opts, this.position.chunk);
        this.loaded = this.position.chunk;
      }
      const b = this.batches[this.position.batch];
      if (b) {
        this.position = { chunk: this.position.chunk, batch: this.position.batch + 1, served: served + 1 };
        return b;
      }
      this.position = { chunk: this.position.chunk + 1, batch: 0, served };
    }
  }
}

/** A fixed held-back set of explorer episodes for the validation loss, and the share of
 *  their agent turns a window of seqLen cannot hold (an instruction longer than the window
 *  leaves no room: such turns are never trained on, so the caller should say so). */
export function validationBatches(opts: CorpusOptions, episodes = 16): { batches: TokenBatch[]; droppedTurns: number; turns: number } {
  const ts = corpusEpisodes(opts.seed, 0, episodes, VALIDATION_SEED_BASE);
  const { examples, report } = buildTrainingExamples(ts, { arm: 'full', tokenizer: opts.tokenizer, contextLength: opts.seqLen, seed: opts.seed });
  const batches = packBatches(examples, { batchSize: opts.batchSize, seqLen: opts.seqLen, padId: opts.tokenizer.padId });
  return { batches, droppedTurns: report.droppedTurns.length, turns: report.supervisedTurns + report.droppedTurns.length };
}
