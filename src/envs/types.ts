// The common shape of the built-in text environments, their expert solvers and their
// task samplers. Everything here is pure logic: no DOM, no Node APIs, deterministic per seed.
import { Rng, hashSeed } from '../data/rng.ts';
import type { StepRole } from '../data/trajectory.ts';

export type Split = 'held-in' | 'held-out';
export const SPLITS: readonly Split[] = ['held-in', 'held-out'];

/** A task to reset an environment with. The whole episode (layout, objects, goal) is a pure
 *  function of (env, taskType, split, seed), so a spec is small and serialisable. */
export interface TaskSpec {
  env: string;
  taskType: string;
  split: Split;
  seed: number;
}

export interface ResetResult {
  /** Everything the agent is told before its first turn: the command description, the
   *  initial observation and the task sentence. */
  instruction: string;
  /** The initial observation alone (part of `instruction`). */
  observation: string;
  /** The task sentence alone, e.g. "put a clean apple in diningtable." */
  task: string;
}

export interface StepResult {
  observation: string;
  /** The episode is over: success, or the step limit reached. */
  done: boolean;
  success: boolean;
  /** 1 on success in household/crafting; BabyAI's 1 − 0.9·steps/limit in grid; 0 otherwise. */
  reward: number;
  /** False when the environment rejected the action (its usual "Nothing happens."-style reply). */
  valid: boolean;
}

export interface Env {
  readonly name: string;
  /** Maximum number of agent actions per episode. */
  readonly stepLimit: number;
  reset(task: TaskSpec): ResetResult;
  step(action: string): StepResult;
  /** The description of the valid commands given to the agent (also the start of every instruction). */
  readonly commands: string;
  /** Actions the environment would accept now (ALFWorld's "admissible commands"). */
  validActions(): string[];
  /** The reply to an action the environment does not understand (also used for model
   *  output that has no parseable "Action:" line). */
  readonly invalidReply: string;
  /** Number of actions taken since reset. */
  readonly steps: number;
}

/** One turn of an expert: its reasoning, its action and the ground-truth role of the turn. */
export interface ExpertTurn {
  thought: string;
  action: string;
  role: StepRole;
}

export interface ExpertOptions {
  /** Probability, at each opportunity, of a deliberate mistake followed by a self-correction. */
  mistakeRate?: number;
  /** Seed of the expert's own choices (phrasing, search order, mistakes). */
  seed?: number;
  /** 'expert' (default): the demonstrator the arms learn from. 'explorer': a weaker, more
   *  exploratory demonstrator without the expert's priors (the base agent's pretraining data,
   *  docs/base-agent.md): household searches every receptacle in the order the room lists
   *  them, grid looks all around before it moves, and every explorer may make up to four
   *  mistakes (each followed by a self-correction) instead of two. */
  style?: DemonstratorStyle;
}

export type DemonstratorStyle = 'expert' | 'explorer';

/** Most deliberate mistakes per episode: the expert's, and the explorer's. */
export function maxMistakes(opts: ExpertOptions): number {
  return opts.style === 'explorer' ? 4 : 2;
}

/** An expert bound to one live episode. It may read the environment's internal state (it is
 *  the demonstrator), but it acts as a searching agent: it only "knows" a target once the
 *  episode's observations have shown it. */
export interface Expert {
  /** The next turn, given the observation the last action produced (the initial observation
   *  at the start). */
  next(lastObservation: string): ExpertTurn;
}

export interface EnvDefinition {
  name: string;
  summary: string;
  /** Task types by split. An environment kept entirely out of training has no held-in types. */
  taskTypes: Record<Split, readonly string[]>;
  /** Why the split is what it is (shown by `env list` and in the docs). */
  splitNote: string;
  create(): Env;
  /** The task for an episode seed within a split (deterministic). */
  sampleTask(seed: number, split: Split): TaskSpec;
  /** An expert for an env that has just been reset with `task`. */
  createExpert(env: Env, task: TaskSpec, opts?: ExpertOptions): Expert;
}

/** Error for a split an environment does not have (e.g. crafting has no held-in tasks). */
export function assertSplit(def: EnvDefinition, split: Split): void {
  if (def.taskTypes[split].length === 0) {
    throw new Error(`environment "${def.name}" has no ${split} tasks: ${def.splitNote}`);
  }
}

/** A task of `split` for `def.sampleTask`: its type drawn from the environment's types for that
 *  split, seeded by the environment, the split and `seed`. */
export function sampleTaskOfSplit(def: EnvDefinition, seed: number, split: Split): TaskSpec {
  assertSplit(def, split);
  const taskType = new Rng(hashSeed(`${def.name}/task/${split}`, seed)).pick(def.taskTypes[split]);
  return { env: def.name, taskType, split, seed };
}
