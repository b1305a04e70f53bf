// Policies act for many episodes at once: given the live episode states, they return one
// agent turn ("Thought: …\nAction: …") per episode, in order.
import type { Step } from '../data/trajectory.ts';
import { Rng, hashSeed } from '../data/rng.ts';
import { formatReAct } from './react.ts';
import { getEnv } from './registry.ts';
import type { Env, Expert, TaskSpec } from './types.ts';

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

/** Picks uniformly among the environment's currently valid actions (seeded per episode). */
export function randomPolicy(seed = 0): Policy {
  const rngs = new Map<Env, Rng>();
  return {
    name: 'random',
    async act(episodes) {
      return episodes.map((e) => {
        let rng = rngs.get(e.env);
        if (!rng) rngs.set(e.env, (rng = new Rng(hashSeed(`random/${e.task.env}/${e.task.split}`, e.task.seed ^ seed))));
        return formatReAct('I try something.', rng.pick(e.env.validActions()));
      });
    },
  };
}

/** The environment's expert, without deliberate mistakes. */
export function expertPolicy(mistakeRate = 0): Policy {
  const experts = new WeakMap<Env, Expert>();
  return {
    name: 'expert',
    async act(episodes) {
      return episodes.map((e) => {
        let ex = experts.get(e.env);
        if (!ex) experts.set(e.env, (ex = getEnv(e.task.env).createExpert(e.env, e.task, { mistakeRate, seed: e.task.seed })));
        const t = ex.next(e.lastObservation);
        return formatReAct(t.thought, t.action);
      });
    },
  };
}
