// Same seed, same episode, byte for byte; different seeds, different episodes.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../../src/envs/registry.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { runEpisodes } from '../../../src/envs/rollout.ts';
import { randomPolicy } from '../../../src/envs/policy.ts';

describe('determinism', () => {
  for (const def of ENVIRONMENTS) {
    const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
    it(`${def.name}: expert demos are byte-identical for the same seeds`, () => {
      const a = trajectoriesToJsonl(generateDemos(def, 20, 100, split, { mistakeRate: 0.3 }));
      const b = trajectoriesToJsonl(generateDemos(def, 20, 100, split, { mistakeRate: 0.3 }));
      expect(a).toBe(b);
      const c = trajectoriesToJsonl(generateDemos(def, 20, 101, split, { mistakeRate: 0.3 }));
      expect(c).not.toBe(a);
      // Each line is one JSON.stringify(trajectory).
      expect(a.trimEnd().split('\n')).toHaveLength(20);
    });

    it(`${def.name}: random rollouts are reproducible too`, async () => {
      const run = async () => (await runEpisodes(def, [1, 2, 3], split, randomPolicy(7))).map((r) => JSON.stringify(r.episode.steps));
      expect(await run()).toEqual(await run());
    });
  }
});
