import { describe, expect, it } from 'vitest';
import { runSelection } from '../../../src/select/run.ts';
import { armSteps, budgetCount } from '../../../src/data/arms.ts';
import { makeTrajectory } from './fixtures.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';

const ts = Array.from({ length: 6 }, (_, i) => makeTrajectory(`b${i}`, 5 + i * 2));
const last = (t: Trajectory) => t.selections[t.selections.length - 1];

describe('model-free baseline selectors', () => {
  it('random: seeded, the budget count, the same steps as armSteps', async () => {
    const a = await runSelection(ts, { selector: 'random', seed: 7 });
    const b = await runSelection(ts, { selector: 'random', seed: 7 });
    const c = await runSelection(ts, { selector: 'random', seed: 8 });
    expect(a.summary).toMatchObject({ selector: 'random', labelled: 6, failed: [], requests: 0 });
    a.trajectories.forEach((t, i) => {
      const steps = last(t).critical.map((x) => x.step);
      expect(steps).toEqual(armSteps('random', ts[i], { seed: 7 }));
      expect(steps).toHaveLength(budgetCount(ts[i].steps.length, 0.3));
      expect(last(b.trajectories[i]).critical).toEqual(last(t).critical);
    });
    expect(c.trajectories.map((t) => last(t).critical.map((x) => x.step))).not.toEqual(a.trajectories.map((t) => last(t).critical.map((x) => x.step)));
  });

  it('rejected: the complement of the existing selection within the same count; fails without one', async () => {
    const labelled = (await runSelection(ts, { selector: 'heuristic' })).trajectories;
    const { trajectories } = await runSelection(labelled, { selector: 'rejected', seed: 1 });
    trajectories.forEach((t) => {
      const chosen = new Set(t.selections[0].critical.map((x) => x.step));
      const rejected = last(t).critical.map((x) => x.step);
      expect(rejected).toHaveLength(chosen.size);
      expect(rejected.some((s) => chosen.has(s))).toBe(false);
      expect(last(t).critical[0].reason).toMatch(/not chosen by "heuristic"/);
    });
    const bare = await runSelection(ts.slice(0, 2), { selector: 'rejected' });
    expect(bare.summary.failed).toEqual([
      { id: 'b0', reason: 'the rejected arm needs a labelled selection on the trajectory to take the complement of' },
      { id: 'b1', reason: 'the rejected arm needs a labelled selection on the trajectory to take the complement of' },
    ]);
  });

  it('highest-loss: takes an injected per-step loss; refuses to run without one', async () => {
    await expect(runSelection(ts, { selector: 'highest-loss' })).rejects.toThrow(/highest-loss needs the base model per-step loss/);
    const { trajectories } = await runSelection(ts, { selector: 'highest-loss', stepLoss: (t) => t.steps.map((_, i) => (i * 7) % 5) });
    trajectories.forEach((t, i) => {
      const loss = t.steps.map((_, j) => (j * 7) % 5);
      expect(last(t).critical.map((x) => x.step)).toEqual(armSteps('highest-loss', ts[i], { stepLoss: loss }));
      expect(last(t).critical.every((x) => loss[x.step] >= Math.max(...loss.filter((_, j) => !last(t).critical.some((c) => c.step === j))))).toBe(true);
    });
    const bad = await runSelection(ts.slice(0, 1), { selector: 'highest-loss', stepLoss: () => [1, 2] });
    expect(bad.summary.failed[0].reason).toMatch(/needs a per-step loss for each of the 5 steps/);
  });

  it('full: every step, no budget', async () => {
    const { trajectories } = await runSelection(ts, { selector: 'full' });
    trajectories.forEach((t) => {
      expect(last(t).critical.map((x) => x.step)).toEqual(t.steps.map((_, i) => i));
      expect(last(t).budget).toBeUndefined();
    });
  });

  it('heuristic through the runner; an empty trajectory fails with its reason', async () => {
    const empty: Trajectory = { ...makeTrajectory('empty', 4), steps: [], groundTruth: [] };
    const { summary, trajectories } = await runSelection([ts[0], empty], { selector: 'heuristic' });
    expect(summary.labelled).toBe(1);
    expect(summary.failed).toEqual([{ id: 'empty', reason: 'trajectory has no steps' }]);
    expect(last(trajectories[0]).critical.length).toBe(1);
  });

  it('rejects a bad budget and an unknown selector', async () => {
    await expect(runSelection(ts, { selector: 'random', budget: 0 })).rejects.toThrow(/budget must be in \(0, 1\]/);
    await expect(runSelection(ts, { selector: 'nope' as never })).rejects.toThrow(/unknown selector "nope"/);
    await expect(runSelection(ts, { selector: 'judge' })).rejects.toThrow(/judge selector needs a loaded local model/);
  });
});

describe('which selection is active afterwards', () => {
  it('a critical selector becomes active; a baseline arm does not displace it', async () => {
    const { activeSelection } = await import('../../../src/data/trajectory.ts');
    const heur = (await runSelection(ts, { selector: 'heuristic' })).trajectories;
    expect(heur.every((t) => t.activeSelection === 'heuristic')).toBe(true);
    const rnd = (await runSelection(heur, { selector: 'random', seed: 2 })).trajectories;
    rnd.forEach((t, i) => {
      expect(t.selections.map((s) => s.selector)).toEqual(['heuristic', 'random']);
      expect(activeSelection(t)).toEqual(heur[i].selections[0]);
    });
    // Without a pinned name, the earlier selection gets pinned before the baseline is appended.
    const unpinned = heur.map((t) => ({ ...t, activeSelection: undefined }));
    const full = (await runSelection(unpinned, { selector: 'full' })).trajectories;
    expect(full.every((t) => t.activeSelection === 'heuristic' && activeSelection(t)?.selector === 'heuristic')).toBe(true);
  });
});
