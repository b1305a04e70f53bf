// Policies act for many episodes at once: given the live episode states, they return one
// agent turn ("Thought: …\nAction: …") per episode, in order.
import type { Step } from '../data/trajectory.ts';
import { Rng, hashSeed } from '../data/rng.ts';
import { formatReAct } from './react.ts';
import { getEnv } from './registry.ts';
import type { Env, TaskSpec } from './types.ts';

export interface EpisodeState {
  /** Index of the episode in its rollout batch. */
  index: number;
  task: TaskSpec;
  instruction: string;
  /** Turns so far (agent text, parsed thought/action, observation). */
  steps: Step[];
  /** The latest observation (the initial one before the first turn). */
  lastObservation: string;
  /** The live environment. Model policies must not look at it; the built-in expert and the
   *  random policy use it (the expert reads the world, the random one its valid actions). */
  env: Env;
}

export interface Policy {
  name: string;
  act(episodes: readonly EpisodeState[]): Promise<string[]>;
}

/** A policy that keeps some state per live episode (keyed by its environment), made by `start`
 *  on the episode's first turn; `turn` writes each agent turn from it. */
function perEpisodePolicy<S>(name: string, start: (e: EpisodeState) => S, turn: (state: S, e: EpisodeState) => string): Policy {
  const states = new WeakMap<Env, S>();
  return {
    name,
    async act(episodes) {
      return episodes.map((e) => {
        let state = states.get(e.env);
        if (state === undefined) states.set(e.env, (state = start(e)));
        return turn(state, e);
      });
    },
  };
}

/** Picks uniformly among the environment's currently valid actions (seeded per episode). */
export function randomPolicy(seed = 0): Policy {
  return perEpisodePolicy(
    'random',
    (e) => new Rng(hashSeed(`random/${e.task.env}/${e.task.split}`, e.task.seed ^ seed)),
    (rng, e) => formatReAct('I try something.', rng.pick(e.env.validActions())),
  );
}

/** The environment's expert, without deliberate mistakes. */
export function expertPolicy(mistakeRate = 0): Policy {
  return perEpisodePolicy(
    'expert',
    (e) => getEnv(e.task.env).createExpert(e.env, e.task, { mistakeRate, seed: e.task.seed }),
    (expert, e) => {
      const t = expert.next(e.lastObservation);
      return formatReAct(t.thought, t.action);
    },
  );
}
