// Object renaming for the pretraining corpus (`atlas pretrain --shuffle-objects`): whole words
// only, articles agreeing in the agent's turns, one permutation per episode, undone exactly by
// its inverse, and nothing but household episodes touched.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng.ts';
import { generateDemo } from '../../../src/envs/demo.ts';
import { HOUSEHOLD_OBJECT_CLASSES } from '../../../src/envs/household/world.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { objectPermutation, renameEpisode, renameHouseholdObjects, renameWords } from '../../../src/experiment/rename-objects.ts';
import { corpusChunk, corpusEpisodes, taskNames } from '../../../src/experiment/pretrain-corpus.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';

describe('renameWords', () => {
  const names = new Map([['pen', 'apple'], ['pot', 'book'], ['handtowel', 'egg'], ['apple', 'pen']]);
  it('renames whole words only, all at once', () => {
    expect(renameWords('a pencil, a pen 1, a potato, a pot 2', names)).toBe('a pencil, a apple 1, a potato, a book 2');
    expect(renameWords('handtowelholder 1 holds a handtowel 1', names)).toBe('handtowelholder 1 holds a egg 1');
    // One pass: "apple" becomes "pen" and "pen" becomes "apple", not both "pen".
    expect(renameWords('apple pen', names)).toBe('pen apple');
  });
  it('makes "a"/"an" agree with the new name in the agent\'s turns, and keeps the environment\'s "a"', () => {
    expect(renameWords('I need an apple and a pen.', names, true)).toBe('I need a pen and an apple.');
    expect(renameWords('you see a apple 1 and a pen 2', names)).toBe('you see a pen 1 and a apple 2');
  });
});

describe('renameHouseholdObjects', () => {
  const household = getEnv('household');
  const episodes = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [
    generateDemo(household, 10_000_000 + i, 'held-in', { style: 'explorer', mistakeRate: 0.3 }),
    generateDemo(household, 10_000_100 + i, 'held-out', { mistakeRate: 0.15 }),
  ]);

  it('is a permutation of the classes, undone exactly by its inverse', () => {
    // Renaming by the identity only makes articles agree ("find a egg" in one demonstrator
    // phrase becomes "find an egg"); a permutation and its inverse give exactly that.
    const identity = new Map(HOUSEHOLD_OBJECT_CLASSES.map((c) => [c, c]));
    for (const [i, t] of episodes.entries()) {
      const names = objectPermutation(new Rng(i));
      expect(new Set(names.values())).toEqual(new Set(HOUSEHOLD_OBJECT_CLASSES));
      const inverse = new Map([...names].map(([a, b]) => [b, a]));
      const renamed = renameEpisode(t, names);
      expect(renameEpisode(renamed, inverse)).toEqual(renameEpisode(t, identity));
    }
  });

  it('renames the task\'s object everywhere it is named, and the same way in task, turns and replies', () => {
    let changed = 0;
    for (const [i, t] of episodes.entries()) {
      const names = objectPermutation(new Rng(100 + i));
      const renamed = renameHouseholdObjects(t, new Rng(100 + i));
      const object = taskNames(t.instruction).find((w) => HOUSEHOLD_OBJECT_CLASSES.includes(w))!;
      const to = names.get(object)!;
      expect(taskNames(renamed.instruction)).toContain(to);
      // The plan names the (renamed) object the task asks for.
      expect(renamed.steps[0].agent).toMatch(new RegExp(`\\b${to}\\b`));
      if (to !== object) changed++;
    }
    expect(changed).toBeGreaterThan(episodes.length / 2);
  });

  it('leaves other environments alone', () => {
    for (const env of ['grid', 'crafting']) {
      const def = getEnv(env);
      const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
      const t = generateDemo(def, 10_000_000, split, { style: 'explorer', mistakeRate: 0.3 });
      expect(renameHouseholdObjects(t, new Rng(1))).toBe(t);
    }
  });

  it('changes the corpus chunk\'s household text only, deterministically for a seed', () => {
    const opts = { seed: 5, tokenizer: defaultTokenizer(), batchSize: 2, seqLen: 512 };
    const ids = (bs: ReturnType<typeof corpusChunk>) => bs.map((b) => Array.from(b.inputIds).join()).join('|');
    const plain = corpusChunk(opts, 1);
    const shuffled = corpusChunk({ ...opts, shuffleObjects: true }, 1);
    expect(ids(corpusChunk({ ...opts, shuffleObjects: true }, 1))).toBe(ids(shuffled));
    expect(ids(shuffled)).not.toBe(ids(plain));
    expect(corpusEpisodes(5, 1).some((t) => t.env === 'household')).toBe(true);
  });
});
