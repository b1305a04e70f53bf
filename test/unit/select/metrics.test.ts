import { describe, expect, it } from 'vitest';
import { agreement, cohensKappa, scoreAgainstGroundTruth } from '../../../src/select/selector-scores.ts';
import type { Selection, StepLabel, Trajectory, StepRole } from '../../../src/data/trajectory.ts';

function traj(id: string, roles: StepRole[], selections: [string, StepLabel[]][]): Trajectory {
  return {
    version: 1,
    id,
    source: { format: 'synthetic' },
    instruction: 'x',
    steps: roles.map((_, i) => ({ agent: `a${i}`, observation: `o${i}` })),
    groundTruth: roles,
    selections: selections.map(([selector, critical]): Selection => ({ selector, createdAt: '2026-01-01T00:00:00Z', status: 'labelled', critical })),
  };
}

describe('scoreAgainstGroundTruth', () => {
  it('counts precision, recall and F1 overall and per category (hand-computed)', () => {
    // t1: truth plan@0 action@4; chose 0 (plan), 2 (action: wrong), 4 (observation: right step, wrong category)
    // t2: truth observation@1 self-correction@2; chose 1 (observation)
    const ts = [
      traj('t1', ['plan', 'routine', 'routine', 'routine', 'action'], [['x', [{ step: 0, category: 'plan' }, { step: 2, category: 'action' }, { step: 4, category: 'observation' }]]]),
      traj('t2', ['routine', 'observation', 'self-correction'], [['x', [{ step: 1, category: 'observation' }]]]),
    ];
    const r = scoreAgainstGroundTruth(ts);
    expect(r.trajectories).toBe(2);
    expect(r.steps).toBe(8);
    expect(r.overall).toEqual({ tp: 3, fp: 1, fn: 1, precision: 0.75, recall: 0.75, f1: 0.75 });
    expect(r.perCategory.plan).toEqual({ tp: 1, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1, detectionRecall: 1 });
    expect(r.perCategory.action).toEqual({ tp: 0, fp: 1, fn: 1, precision: 0, recall: 0, f1: 0, detectionRecall: 1 });
    expect(r.perCategory.observation).toMatchObject({ tp: 1, fp: 1, fn: 0, precision: 0.5, recall: 1, detectionRecall: 1 });
    expect(r.perCategory.observation.f1).toBeCloseTo(2 / 3, 12);
    expect(r.perCategory['self-correction']).toEqual({ tp: 0, fp: 0, fn: 1, precision: null, recall: 0, f1: null, detectionRecall: 0 });
  });

  it('skips, with reasons, trajectories without ground truth or selection', () => {
    const noGt = { ...traj('a', ['plan'], [['x', [{ step: 0 }]]]), groundTruth: undefined };
    const noSel = traj('b', ['plan'], []);
    const r = scoreAgainstGroundTruth([noGt, noSel]);
    expect(r.skipped).toEqual([{ id: 'a', reason: 'no ground-truth roles' }, { id: 'b', reason: 'no labelled selection' }]);
    expect(r.overall.precision).toBeNull();
  });
});

describe('agreement', () => {
  it("Cohen's kappa matches hand computation", () => {
    // 2×2 table: both 20, A only 5, B only 10, neither 15 → po 0.7, pA 0.5, pB 0.6, pe 0.5 → kappa 0.4
    expect(cohensKappa(20, 5, 10, 15)).toBeCloseTo(0.4, 12);
    expect(cohensKappa(0, 0, 0, 10)).toBe(1);
    expect(cohensKappa(0, 0, 0, 0)).toBeNull();
  });

  it('pairs two selectors by trajectory and reports kappa and Jaccard overlap', () => {
    const ts = [
      traj('t1', ['routine', 'routine', 'routine', 'routine'], [['a', [{ step: 0 }, { step: 1 }]], ['b', [{ step: 1 }, { step: 2 }]]]),
      traj('t2', ['routine', 'routine', 'routine', 'routine'], [['a', [{ step: 3 }]], ['b', [{ step: 3 }]]]),
    ];
    const r = agreement(ts, ts, 'a', 'b');
    expect(r).toMatchObject({ trajectories: 2, steps: 8, bothChose: 2, onlyA: 1, onlyB: 1, neither: 4 });
    expect(r.jaccard).toBeCloseTo(2 / 4, 12);
    expect(r.meanJaccard).toBeCloseTo((1 / 3 + 1) / 2, 12);
    // po = 6/8, pA = pB = 3/8, pe = 9/64 + 25/64 = 34/64 → kappa = (48/64 − 34/64)/(30/64) = 14/30
    expect(r.kappa).toBeCloseTo(14 / 30, 12);
    const other = agreement(ts, [ts[0]], 'a', 'b');
    expect(other.skipped).toEqual([{ id: 't2', reason: 'not in the other set' }]);
  });
});
