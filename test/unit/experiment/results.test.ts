// The results table of a run (src/experiment/results.ts): mean and range over seeds, the
// best arm and the arms within its spread, the base and the expert rows, the printed cells.
import { describe, it, expect } from 'vitest';
import { bestAndTies, formatSpread, formatValue, MEASURES, resultsTable, spreadOf, spreadParts, withinSpread, type Spread } from '../../../src/experiment/results.ts';
import type { BaselineMetrics, EvalMetrics } from '../../../src/experiment/protocol.ts';

const spread = (mean: number, min: number, max: number, n = 3): Spread => ({ mean, min, max, n });
const measure = (key: string) => MEASURES.find((m) => m.key === key)!;
const ev = (arm: EvalMetrics['arm'], trainSeed: number, step: number, extra: Partial<EvalMetrics> = {}): EvalMetrics => ({ kind: 'eval', arm, trainSeed, step, heldOutLossCritical: 3, heldOutLossAll: 4, ...extra });

describe('spreadOf', () => {
  it('is the mean, min and max of the finite values, with their count', () => {
    expect(spreadOf([0.2, undefined, 0.4, NaN, 0.9])).toEqual({ mean: 0.5, min: 0.2, max: 0.9, n: 3 });
    expect(spreadOf([undefined])).toBeUndefined();
  });
});

describe('withinSpread', () => {
  it('is true when the seeds\' ranges overlap (touching counts), false when they are apart', () => {
    expect(withinSpread(spread(0.5, 0.4, 0.6), spread(0.55, 0.5, 0.7))).toBe(true);
    expect(withinSpread(spread(0.5, 0.4, 0.6), spread(0.7, 0.6, 0.8))).toBe(true);
    expect(withinSpread(spread(0.5, 0.4, 0.6), spread(0.8, 0.7, 0.9))).toBe(false);
    expect(withinSpread(spread(0.8, 0.7, 0.9), spread(0.5, 0.4, 0.6))).toBe(false);
  });

  it('is undefined with fewer than two seeds on either side: no spread to judge by', () => {
    expect(withinSpread(spread(0.5, 0.5, 0.5, 1), spread(0.5, 0.4, 0.6))).toBeUndefined();
    expect(withinSpread(spread(0.5, 0.4, 0.6), spread(0.5, 0.5, 0.5, 1))).toBeUndefined();
  });
});

describe('bestAndTies', () => {
  const table = {
    rows: [
      { arm: 'full' as const, seeds: [1, 2, 3], step: 10, cells: { successHeldIn: spread(0.5, 0.45, 0.55), heldOutLossAll: spread(2.5, 2.4, 2.6) } },
      { arm: 'critical' as const, seeds: [1, 2, 3], step: 10, cells: { successHeldIn: spread(0.6, 0.52, 0.7), heldOutLossAll: spread(2.9, 2.8, 3.0) } },
      { arm: 'random' as const, seeds: [1, 2, 3], step: 10, cells: { successHeldIn: spread(0.3, 0.25, 0.35), heldOutLossAll: spread(2.55, 2.45, 2.7) } },
    ],
  };

  it('picks the best mean (highest rate, lowest loss) and the arms whose range overlaps the best one\'s', () => {
    expect(bestAndTies(table, measure('successHeldIn'))).toEqual({ best: 'critical', tied: new Set(['full']) });
    expect(bestAndTies(table, measure('heldOutLossAll'))).toEqual({ best: 'full', tied: new Set(['random']) });
  });

  it('has no best on a measure no arm reported, and no ties with one seed', () => {
    expect(bestAndTies(table, measure('nextActionAccuracy'))).toEqual({ tied: new Set() });
    const one = { rows: table.rows.map((r) => ({ ...r, seeds: [1], cells: { successHeldIn: { ...r.cells.successHeldIn, n: 1 } } })) };
    expect(bestAndTies(one, measure('successHeldIn'))).toEqual({ best: 'critical', tied: new Set() });
  });
});

describe('formatSpread, spreadParts and formatValue', () => {
  it('prints "mean (min–max)" over several seeds, the mean alone over one, "—" for nothing', () => {
    expect(formatSpread(spread(0.5, 0.25, 0.75), true)).toBe('50.0 (25.0–75.0)');
    expect(formatSpread(spread(2.5, 2.4, 2.6), false)).toBe('2.500 (2.400–2.600)');
    expect(formatSpread(spread(0.125, 0.125, 0.125, 1), true)).toBe('12.5');
    expect(formatSpread(undefined, true)).toBe('—');
    expect(formatValue(0.375, true)).toBe('37.5');
    expect(formatValue(6.9, false)).toBe('6.900');
    expect(formatValue(undefined, false)).toBe('—');
    // The page prints the two parts apart (the range may wrap under the mean).
    expect(spreadParts(spread(0.5, 0.25, 0.75), true)).toEqual({ mean: '50.0', range: '(25.0–75.0)' });
    expect(spreadParts(spread(0.5, 0.5, 0.5, 1), true)).toEqual({ mean: '50.0' });
    expect(spreadParts(undefined, false)).toEqual({ mean: '—' });
  });
});

describe('resultsTable', () => {
  const evals: EvalMetrics[] = [
    ev('critical', 1, 5),
    ev('critical', 1, 10, { heldOutLossCritical: 2, successHeldIn: 0.5, successHeldOut: 0.25, rolloutSeeds: [900001, 900002], expertSuccessHeldIn: 1, expertSuccessHeldOut: 0.75 }),
    ev('critical', 2, 10, { heldOutLossCritical: 2.4, successHeldIn: 0.75, successHeldOut: 0, rolloutSeeds: [900001, 900002], expertSuccessHeldIn: 1, expertSuccessHeldOut: 0.75 }),
    // full's seed 2 ran a rollout at step 5 only; its latest held-out loss is at step 10.
    ev('full', 1, 10, { heldOutLossAll: 3, successHeldIn: 0.25 }),
    ev('full', 2, 5, { successHeldIn: 0.5 }),
    ev('full', 2, 10, { heldOutLossAll: 3.5 }),
  ];

  it('summarises each arm over its seeds: latest evaluation, success from the latest rollout', () => {
    const t = resultsTable(evals, undefined, ['full', 'critical']);
    expect(t.rows.map((r) => [r.arm, r.seeds, r.step])).toEqual([
      ['full', [1, 2], 10],
      ['critical', [1, 2], 10],
    ]);
    const critical = t.rows[1].cells;
    expect(critical.heldOutLossCritical).toMatchObject({ min: 2, max: 2.4, n: 2 });
    expect(critical.heldOutLossCritical!.mean).toBeCloseTo(2.2, 12);
    expect(critical.successHeldIn).toEqual({ mean: 0.625, min: 0.5, max: 0.75, n: 2 });
    expect(t.rows[0].cells.successHeldIn).toEqual({ mean: 0.375, min: 0.25, max: 0.5, n: 2 });
    expect(t.rows[0].cells.heldOutLossAll).toEqual({ mean: 3.25, min: 3, max: 3.5, n: 2 });
    expect(t.expert).toEqual({ successHeldIn: 1, successHeldOut: 0.75 });
    expect(t.rolloutSeeds).toEqual([900001, 900002]);
    expect(t.base).toBeUndefined();
  });

  it('adds the untuned base on the same measures, and takes the expert and episodes from it when no arm rolled out', () => {
    const baseline: BaselineMetrics = { kind: 'baseline', step: 0, heldOutLossCritical: 6.5, heldOutLossAll: 6.9, nextActionAccuracy: 0, successHeldIn: 0, successHeldOut: 0, rolloutSeeds: [900001, 900002], expertSuccessHeldIn: 0.9, expertSuccessHeldOut: 0.6 };
    const t = resultsTable(evals, baseline, ['critical', 'full']);
    expect(t.base).toEqual({ heldOutLossCritical: 6.5, heldOutLossAll: 6.9, nextActionAccuracy: 0, successHeldIn: 0, successHeldOut: 0 });
    // The arms' own rollouts report the expert first.
    expect(t.expert).toEqual({ successHeldIn: 1, successHeldOut: 0.75 });
    const onlyLosses = resultsTable([ev('critical', 1, 10)], baseline);
    expect(onlyLosses.expert).toEqual({ successHeldIn: 0.9, successHeldOut: 0.6 });
    expect(onlyLosses.rolloutSeeds).toEqual([900001, 900002]);
    expect(onlyLosses.rows[0].cells.successHeldIn).toBeUndefined();
    // A baseline alone (before any evaluation): the base row and no arm rows.
    expect(resultsTable([], baseline, ['critical']).rows).toEqual([]);
  });
});
