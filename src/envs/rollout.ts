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
  /** The full episode (instruction, turns, observations). */
  episode: EpisodeState;
}

export interface RolloutOptions {
  /** Episodes stepped together per policy call (default 16). */
  batchSize?: number;
  /** Ends an episode as a failure after this many agent turns, below the environment's own
   *  step limit (cheap evaluations of weak models). Default: the environment's limit. */
  maxSteps?: number;
}

/** Runs one episode per seed, batched: every policy call gets the still-running episodes of a batch. */
export async function runEpisodes(def: EnvDefinition, seeds: readonly number[], split: Split, policy: Policy, opts: RolloutOptions = {}): Promise<EpisodeResult[]> {
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const results: EpisodeResult[] = [];
  for (let b = 0; b < seeds.length; b += batchSize) {
    const batch = seeds.slice(b, b + batchSize).map((seed, i) => {
      const task = def.sampleTask(seed, split);
      const env = def.create();
      const start = env.reset(task);
      const state: EpisodeState = { index: b + i, task, instruction: start.instruction, steps: [], lastObservation: start.observation, env };
      return { state, done: false, success: false, reward: 0, invalid: 0 };
    });
    for (;;) {
      if (opts.maxSteps !== undefined) for (const e of batch) if (!e.done && e.state.steps.length >= opts.maxSteps) e.done = true;
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
    }
    for (const e of batch) {
      results.push({ env: def.name, taskType: e.state.task.taskType, split, seed: e.state.task.seed, success: e.success, reward: e.reward, steps: e.state.steps.length, invalidActions: e.invalid, episode: e.state });
    }
  }
  return results;
}

/** An unparseable turn: stepping the environment with an empty action gives its usual reply
 *  to an action it does not know (env.invalidReply) and uses up a step. */
function invalidStep(state: EpisodeState) {
  return state.env.step('');
}
