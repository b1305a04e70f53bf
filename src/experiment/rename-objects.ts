// Object renaming for the base's pretraining corpus (`atlas pretrain --shuffle-objects`,
// docs/base-agent.md). In a household room the likely objects (kitchen: apple, egg, potato…)
// predict the task's object well enough that a small model never learns to read it from the
// task line. Renaming every object class of an episode by one random permutation keeps the
// episode consistent — the explorer's decisions use no knowledge of where things lie — while
// the room stops predicting the object: only the task line (and what the agent has seen) does.
import { Rng } from '../data/rng.ts';
import type { Step, Trajectory } from '../data/trajectory.ts';
import { HOUSEHOLD_OBJECT_CLASSES } from '../envs/household/world.ts';
import { article } from '../envs/text.ts';

/** Whole-word replacement of each key of `names` by its value, all in one pass. With
 *  `articles`, "a"/"an" right before a name is made to agree with the new name, as the
 *  demonstrators' thoughts write it (`article`); the environment's own text always says "a". */
export function renameWords(text: string, names: ReadonlyMap<string, string>, articles = false): string {
  if (!names.size) return text;
  // Longest first, so that no name is cut short by a shorter one sharing its start.
  const alternatives = [...names.keys()].sort((a, b) => b.length - a.length).join('|');
  const pattern = new RegExp(`\\b(?:(a|an) )?(${alternatives})\\b`, 'g');
  return text.replace(pattern, (_, a: string | undefined, w: string) => {
    const to = names.get(w)!;
    return a === undefined ? to : articles ? article(to) : `${a} ${to}`;
  });
}

/** A random one-to-one renaming of the household object classes. */
export function objectPermutation(rng: Rng): Map<string, string> {
  const shuffled = rng.shuffle(HOUSEHOLD_OBJECT_CLASSES);
  return new Map(HOUSEHOLD_OBJECT_CLASSES.map((c, i) => [c, shuffled[i]]));
}

/** A household episode with its object classes renamed by a permutation drawn from `rng`;
 *  episodes of other environments are returned unchanged. */
export function renameHouseholdObjects(t: Trajectory, rng: Rng): Trajectory {
  return t.env === 'household' ? renameEpisode(t, objectPermutation(rng)) : t;
}

/** Every text of an episode (task, turns, replies) with `names` renamed. */
export function renameEpisode(t: Trajectory, names: ReadonlyMap<string, string>): Trajectory {
  const r = (s: string) => renameWords(s, names);
  const agent = (s: string) => renameWords(s, names, true);
  const step = (s: Step): Step => ({
    ...s,
    agent: agent(s.agent),
    observation: r(s.observation),
    ...(s.thought !== undefined ? { thought: agent(s.thought) } : {}),
    ...(s.action !== undefined ? { action: agent(s.action) } : {}),
  });
  return { ...t, instruction: r(t.instruction), steps: t.steps.map(step) };
}
