// Rollouts: run a policy in ReAct form on many episodes at once. Each agent turn is parsed;
// a turn without a usable "Action:" line counts as an invalid action and gets the
// environment's usual reply (and uses up a step), like any action the environment rejects.
import { parseReAct } from './react.ts';
import type { EpisodeState, Policy } from './policy.ts';
import type { EnvDefinition, Split } from './types.ts';

export interface EpisodeResult {
  env: string;
  taskType: string;
  split: Split;
  seed: number;
  success: boolean;
  reward: number;
  steps: number;
  invalidActions: number;
  /** Steps replayed before the policy acted (0 unless the spec has a `start`); `steps` includes them. */
  replayedSteps: number;
  /** The full episode (instruction, turns, observations). */
  episode: EpisodeState;
}

export interface RolloutOptions {
  /** Episodes stepped together per policy call (default 16). */
  batchSize?: number;
  /** Ends an episode as a failure after this many agent turns, below the environment's own
   *  step limit (cheap evaluations of weak models). Default: the environment's limit. */
  maxSteps?: number;
  /** Called after every policy call with the episodes finished so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** One episode to run: an environment, a task seed and a split. */
export interface EpisodeSpec {
  def: EnvDefinition;
  seed: number;
  split: Split;
  /** Where the policy takes over (default: the environment just reset). A restart replays an
   *  expert's first steps here (src/envs/restart.ts); called once, when the episode's batch starts. */
  start?: () => EpisodeStart;
}

/** An episode ready for the policy's first turn. */
export interface EpisodeStart {
  state: Omit<EpisodeState, 'index'>;
  /** Steps taken before the policy acts (a replayed prefix): `maxSteps` counts only the policy's turns. */
  replayed: number;
  /** Whether the steps taken so far already ended the episode, and how. */
  done: boolean;
  success: boolean;
  reward: number;
}

/** The usual start: the environment reset with the spec's task, no step taken. */
export function freshStart(def: EnvDefinition, seed: number, split: Split): EpisodeStart {
  const task = def.sampleTask(seed, split);
  const env = def.create();
  const start = env.reset(task);
  return { state: { task, instruction: start.instruction, steps: [], lastObservation: start.observation, env }, replayed: 0, done: false, success: false, reward: 0 };
}

/** Runs one episode per seed, batched: every policy call gets the still-running episodes of a batch. */
export function runEpisodes(def: EnvDefinition, seeds: readonly number[], split: Split, policy: Policy, opts: RolloutOptions = {}): Promise<EpisodeResult[]> {
  return runEpisodeSpecs(
    seeds.map((seed) => ({ def, seed, split })),
    policy,
    opts,
  );
}

/** Runs episodes of any environments and splits in shared batches (one policy call steps all
 *  live episodes of a batch, whatever their environment), so a model policy generates for
 *  every environment at once. Results come back in the order of `specs`. */
export async function runEpisodeSpecs(specs: readonly EpisodeSpec[], policy: Policy, opts: RolloutOptions = {}): Promise<EpisodeResult[]> {
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const results: EpisodeResult[] = [];
  for (let b = 0; b < specs.length; b += batchSize) {
    const batch = specs.slice(b, b + batchSize).map((spec, i) => {
      const { state, replayed, done, success, reward } = spec.start ? spec.start() : freshStart(spec.def, spec.seed, spec.split);
      return { def: spec.def, split: spec.split, state: { ...state, index: b + i }, replayed, done, success, reward, invalid: 0 };
    });
    // The cap counts the policy's own turns, not a replayed prefix.
    const capped = (e: (typeof batch)[number]) => opts.maxSteps != null && e.state.steps.length - e.replayed >= opts.maxSteps;
    for (;;) {
      for (const e of batch) if (!e.done && capped(e)) e.done = true;
      const live = batch.filter((e) => !e.done);
      if (live.length === 0) break;
      const turns = await policy.act(live.map((e) => e.state));
      if (turns.length !== live.length) throw new Error(`policy "${policy.name}" returned ${turns.length} turns for ${live.length} episodes`);
      live.forEach((e, i) => {
        const text = turns[i];
        const parsed = parseReAct(text);
        const r = parsed.action === null ? invalidStep(e.state) : e.state.env.step(parsed.action);
        if (!r.valid) e.invalid++;
        e.state.steps.push({ agent: text, thought: parsed.thought, action: parsed.action ?? undefined, observation: r.observation });
        e.state.lastObservation = r.observation;
        Object.assign(e, { done: r.done, success: r.success, reward: r.reward });
      });
      opts.onProgress?.(b + batch.filter((e) => e.done || capped(e)).length, specs.length);
    }
    for (const e of batch) {
      results.push({ env: e.def.name, taskType: e.state.task.taskType, split: e.split, seed: e.state.task.seed, success: e.success, reward: e.reward, steps: e.state.steps.length, invalidActions: e.invalid, replayedSteps: e.replayed, episode: e.state });
    }
  }
  return results;
}

/** An unparseable turn: stepping the environment with an empty action gives its usual reply
 *  to an action it does not know (env.invalidReply) and uses up a step. */
function invalidStep(state: EpisodeState) {
  return state.env.step('');
}
