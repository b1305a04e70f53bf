// The explorer: the weaker demonstrator the base agent pretrains on (docs/base-agent.md). It
// must always finish its task (the base learns from successful play) but without the expert's
// priors, so it needs more steps; and the expert itself must be unchanged by its option.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, getEnv } from '../../../src/envs/registry.ts';
import { EXPLORER_GENERATOR, generateDemo, generateDemos } from '../../../src/envs/demo.ts';
import { SPLITS } from '../../../src/envs/types.ts';
import { HouseholdEnv } from '../../../src/envs/household/env.ts';
import { trajectoryProblem } from '../../../src/data/jsonl.ts';

describe('explorer demonstrations', () => {
  for (const def of ENVIRONMENTS) {
    for (const split of SPLITS) {
      if (!def.taskTypes[split].length) continue;
      it(`${def.name} ${split}: succeeds on 150 seeds with mistakes, and marks itself`, () => {
        for (let seed = 0; seed < 150; seed++) {
          const t = generateDemo(def, seed, split, { style: 'explorer', mistakeRate: 0.3 });
          expect(trajectoryProblem(t)).toBeNull();
          expect(t.outcome?.success, t.id).toBe(true);
          expect(t.provenance?.generator).toBe(EXPLORER_GENERATOR);
          // At most four mistakes, each followed by a self-correction.
          expect(t.groundTruth!.filter((r) => r === 'self-correction').length).toBeLessThanOrEqual(4);
        }
      });
    }
  }

  it('household: searches every receptacle in the order the room lists them', () => {
    const def = getEnv('household');
    for (let seed = 0; seed < 40; seed++) {
      const t = generateDemo(def, seed, 'held-in', { style: 'explorer', mistakeRate: 0 });
      const env = def.create() as HouseholdEnv;
      env.reset(def.sampleTask(seed, 'held-in'));
      const listing = env.roomListing();
      const visited = t.steps.map((s) => s.action!).filter((a) => a.startsWith('go to ')).map((a) => a.slice(6));
      // Up to the first take, the walk follows the listing without skipping or reordering.
      const firstTake = t.steps.findIndex((s) => s.action!.startsWith('take '));
      const searched = t.steps.slice(0, firstTake).map((s) => s.action!).filter((a) => a.startsWith('go to ')).map((a) => a.slice(6));
      expect(searched).toEqual(listing.slice(0, searched.length));
      expect(visited.length).toBeGreaterThan(0);
      expect(t.steps[0].thought).toMatch(/in the order I see them, starting with /);
    }
  });

  it('grid: looks all around (four turns) before it moves', () => {
    const def = getEnv('grid');
    for (let seed = 0; seed < 30; seed++) {
      const t = generateDemo(def, seed, 'held-in', { style: 'explorer', mistakeRate: 0 });
      const firstFour = t.steps.slice(0, 4).map((s) => s.action);
      // A goto task can end while turning (the target right beside the agent).
      expect(firstFour.every((a) => a === 'turn right'), t.id).toBe(true);
    }
  });

  it('needs more steps than the expert on the same household and grid tasks', () => {
    for (const name of ['household', 'grid']) {
      const def = getEnv(name);
      const steps = (style: 'expert' | 'explorer') => generateDemos(def, 100, 500, 'held-in', { style, mistakeRate: 0 }).reduce((n, t) => n + t.steps.length, 0);
      expect(steps('explorer'), name).toBeGreaterThan(steps('expert') * 1.2);
    }
  });

  it('leaves the expert unchanged: style "expert" gives the same bytes as no style', () => {
    for (const def of ENVIRONMENTS) {
      const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
      const a = generateDemos(def, 20, 7, split, { mistakeRate: 0.3 });
      const b = generateDemos(def, 20, 7, split, { mistakeRate: 0.3, style: 'expert' });
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    }
  });
});
