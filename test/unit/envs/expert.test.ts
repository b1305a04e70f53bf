// The experts solve every generated task of every type and split, with and without mistakes.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '../../../src/envs/registry.ts';
import { generateDemo } from '../../../src/envs/demo.ts';
import { SPLITS } from '../../../src/envs/types.ts';
import { trajectoryProblem } from '../../../src/data/jsonl.ts';

const PER_TYPE = 50;

describe('expert demonstrations', () => {
  for (const def of ENVIRONMENTS) {
    for (const split of SPLITS) {
      const types = def.taskTypes[split];
      if (types.length === 0) {
        it(`${def.name} has no ${split} tasks and says why`, () => {
          expect(() => def.sampleTask(0, split)).toThrow(/no held-in tasks/);
        });
        continue;
      }
      it(`${def.name} ${split}: the expert succeeds on ${PER_TYPE} tasks of each type (${types.join(', ')})`, () => {
        const perType = new Map<string, number>(types.map((t) => [t, 0]));
        const failures: string[] = [];
        for (let seed = 0; [...perType.values()].some((n) => n < PER_TYPE); seed++) {
          if (seed > 2000) throw new Error(`task sampler never produced enough of some type: ${JSON.stringify([...perType])}`);
          const task = def.sampleTask(seed, split);
          if (perType.get(task.taskType)! >= PER_TYPE) continue;
          perType.set(task.taskType, perType.get(task.taskType)! + 1);
          const t = generateDemo(def, seed, split, { mistakeRate: seed % 2 ? 0.3 : 0 });
          expect(trajectoryProblem(t)).toBeNull();
          expect(t.taskType).toBe(task.taskType);
          if (!t.outcome?.success) failures.push(t.id);
          // Every episode ends right at its success, inside the step limit.
          expect(t.steps.length).toBeLessThanOrEqual(def.create().stepLimit);
        }
        expect(failures).toEqual([]);
      });

      it(`${def.name} ${split}: a sweep of 300 consecutive seeds (with mistakes) has no failure`, () => {
        // Plus grid seeds 320 (held-in) and 665 (held-out), once unsolvable: an object walled in by boxes.
        const failures: string[] = [];
        for (const seed of [...Array.from({ length: 300 }, (_, i) => i), 320, 665]) {
          try {
            if (!generateDemo(def, seed, split, { mistakeRate: 0.3 }).outcome?.success) failures.push(`${seed}: failed`);
          } catch (err) {
            failures.push(`${seed}: ${(err as Error).message}`);
          }
        }
        expect(failures).toEqual([]);
      });
    }
  }
});
