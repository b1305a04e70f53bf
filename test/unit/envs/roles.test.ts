// Ground-truth roles come from the expert's own state and are plausible.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, getEnv } from '../../../src/envs/registry.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import type { StepRole, Trajectory } from '../../../src/data/trajectory.ts';

const demos = (env: string, split: 'held-in' | 'held-out', mistakeRate: number, n = 60) => generateDemos(getEnv(env), n, 0, split, { mistakeRate });
const count = (t: Trajectory, r: StepRole) => t.groundTruth!.filter((x) => x === r).length;

describe('ground-truth step roles', () => {
  for (const def of ENVIRONMENTS) {
    const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
    it(`${def.name}: one role per step, the opening plan first and only there`, () => {
      for (const t of demos(def.name, split, 0.2)) {
        expect(t.groundTruth).toHaveLength(t.steps.length);
        expect(t.groundTruth![0]).toBe('plan');
        expect(count(t, 'plan')).toBe(1);
        // The turn that completes the task is a critical action (or the observation that triggers it).
        expect(['action', 'observation', 'plan']).toContain(t.groundTruth![t.steps.length - 1]);
        // Some step is critical besides the plan.
        expect(t.groundTruth!.slice(1).some((r) => r !== 'routine')).toBe(true);
      }
    });

    it(`${def.name}: self-corrections follow a failed or wrong step and appear only with mistakes`, () => {
      for (const t of demos(def.name, split, 0)) expect(count(t, 'self-correction')).toBe(0);
      const withMistakes = demos(def.name, split, 0.5);
      const corrections = withMistakes.flatMap((t) => t.groundTruth!.flatMap((r, i) => (r === 'self-correction' ? [{ t, i }] : [])));
      expect(corrections.length).toBeGreaterThanOrEqual(5);
      for (const { t, i } of corrections) {
        expect(i).toBeGreaterThan(0);
        expect(t.groundTruth![i - 1]).toBe('routine');
        // Every correction still ends in success.
        expect(t.outcome!.success).toBe(true);
      }
      // The mistake before a correction was rejected by the environment, or led somewhere useless.
      const rejected = corrections.filter(({ t, i }) => /^(Nothing happens\.|Could not|That did not|You cannot|There is)/.test(t.steps[i - 1].observation));
      expect(rejected.length).toBeGreaterThan(0);
    });
  }

  it('household: routine steps are the majority, the target is first seen in a critical observation', () => {
    const ts = demos('household', 'held-in', 0, 100);
    let routine = 0, all = 0;
    for (const t of ts) {
      routine += count(t, 'routine');
      all += t.steps.length;
      // A critical observation interprets what the previous observation just revealed: the
      // target (taken or used at once) or, while searching, a desk lamp needed later.
      t.groundTruth!.forEach((role, k) => {
        if (role !== 'observation') return;
        const revealed = t.steps[k - 1].observation;
        if (/^(take|use) /.test(t.steps[k].action!)) {
          const obj = t.steps[k].action!.split(' ').slice(1, 3).join(' ');
          expect(revealed, t.id).toContain(`a ${obj}`);
          // … and it was not visible in any earlier observation.
          expect(t.steps.slice(0, k - 1).some((s) => s.observation.includes(`a ${obj}`)), t.id).toBe(false);
        } else {
          const lamp = /I notice a (desklamp \d+)/.exec(t.steps[k].thought!);
          expect(lamp, t.id).not.toBeNull();
          expect(revealed).toContain(`a ${lamp![1]}`);
        }
      });
      expect(t.groundTruth!.includes('observation'), t.id).toBe(true);
    }
    expect(routine / all).toBeGreaterThan(0.5);
  });

  it('household: search-heavy episodes (6+ places searched before the target shows up) are mostly routine', () => {
    const ts = demos('household', 'held-out', 0, 150).filter((t) => {
      const firstSight = t.groundTruth!.indexOf('observation');
      return t.steps.slice(0, firstSight).filter((s) => s.action!.startsWith('go to')).length >= 6;
    });
    expect(ts.length).toBeGreaterThan(5);
    for (const t of ts) expect(count(t, 'routine') / t.steps.length, t.id).toBeGreaterThan(0.5);
  });

  it('grid: routine navigation dominates; picking up and toggling are critical actions', () => {
    const ts = demos('grid', 'held-out', 0, 60);
    let routine = 0, all = 0;
    for (const t of ts) {
      routine += count(t, 'routine');
      all += t.steps.length;
      t.steps.forEach((s, i) => {
        if (s.action === 'pick up' && s.observation.startsWith('You pick up')) expect(t.groundTruth![i]).not.toBe('routine');
      });
    }
    expect(routine / all).toBeGreaterThan(0.5);
  });

  it('crafting: the final craft is a critical action; gets are routine', () => {
    for (const t of demos('crafting', 'held-out', 0, 40)) {
      expect(t.groundTruth![t.steps.length - 1]).not.toBe('routine');
      t.steps.forEach((s, i) => {
        if (i > 0 && s.action!.startsWith('get ')) expect(t.groundTruth![i]).toBe('routine');
      });
    }
  });
});

describe('expert prose follows its actions', () => {
  it('household: the plan names the receptacle the first action goes to', () => {
    for (const t of generateDemos(getEnv('household'), 80, 0, 'held-in', { mistakeRate: 0 })) {
      const m = /starting with ([a-z]+ \d+)\./.exec(t.steps[0].thought!);
      expect(m, t.id).not.toBeNull();
      expect(t.steps[0].action).toBe(`go to ${m![1]}`);
    }
  });
});
