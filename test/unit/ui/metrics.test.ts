// Runner events → chart columns, CSV and SVG (src/ui/charts/metrics.ts).
import { describe, it, expect } from 'vitest';
import { alignedData, armSummaries, chartSvg, CHARTS, logFromEvents, metricsCsv } from '../../../src/ui/charts/metrics.ts';
import type { ExperimentEvent } from '../../../src/experiment/protocol.ts';

const train = (arm: 'critical' | 'full', step: number, loss: number): ExperimentEvent => ({ kind: 'train', arm, step, loss, lr: 0.01, supervisedTokens: step * 10, tokensPerSecond: 100, elapsedMs: step * 1000 });
const evalAt = (arm: 'critical' | 'full', step: number, extra: object = {}): ExperimentEvent => ({ kind: 'eval', arm, step, heldOutLossCritical: 2 - step / 10, heldOutLossAll: 3 - step / 10, ...extra });
const spec = (id: string) => CHARTS.find((c) => c.id === id)!;

describe('metrics', () => {
  const events: ExperimentEvent[] = [train('critical', 1, 5), train('full', 1, 6), train('critical', 2, 4), train('full', 2, 5.5), evalAt('critical', 2), train('critical', 3, 3)];

  it('aligns the arms on the union of steps, with gaps as null', () => {
    const a = alignedData(logFromEvents(['critical', 'full'], events), spec('train-loss'));
    expect(a.series.map((s) => s.label)).toEqual(['critical', 'full']);
    expect(a.data).toEqual([
      [1, 2, 3],
      [5, 4, 3],
      [6, 5.5, null],
    ]);
  });

  it('keeps every arm × line as a series before any value arrives', () => {
    const a = alignedData(logFromEvents(['critical', 'full'], events), spec('success'));
    expect(a.series.map((s) => s.label)).toEqual(['critical · held-in', 'critical · held-out', 'full · held-in', 'full · held-out']);
    expect(a.data).toEqual([[], [], [], [], []]);
  });

  it('replaces steps a resumed run trains again', () => {
    const log = logFromEvents(['critical'], [train('critical', 1, 5), train('critical', 2, 4), train('critical', 3, 3), train('critical', 3, 2.5), train('critical', 4, 2)]);
    expect(log.train.critical!.map((r) => [r.step, r.loss])).toEqual([
      [1, 5],
      [2, 4],
      [3, 2.5],
      [4, 2],
    ]);
  });

  it('summarises each arm with its latest rollout and writes a CSV row per event', () => {
    const log = logFromEvents(['critical', 'full'], [...events, evalAt('full', 2, { successHeldIn: 0.5, successHeldOut: 0.25, rolloutSeeds: [7, 8], expertSuccessHeldIn: 1, expertSuccessHeldOut: 0.75 }), evalAt('full', 4)]);
    const full = armSummaries(log).find((s) => s.arm === 'full')!;
    expect(full).toMatchObject({ step: 4, successHeldIn: 0.5, successHeldOut: 0.25, rolloutSeeds: [7, 8], expertSuccessHeldIn: 1, expertSuccessHeldOut: 0.75, heldOutLossAll: 2.6 });
    const csv = metricsCsv(log).trim().split('\n');
    expect(csv).toHaveLength(1 + 5 + 3); // header, 5 train rows, 3 eval rows
    expect(csv[0].endsWith(',successHeldIn,successHeldOut,rolloutSeeds,expertSuccessHeldIn,expertSuccessHeldOut')).toBe(true);
    expect(csv).toContain('eval,full,2,,,,,,1.8,2.8,,0.5,0.25,7 8,1,0.75');
  });

  it('draws an SVG with one path per non-empty series and escapes labels', () => {
    const a = alignedData(logFromEvents(['critical', 'full'], events), spec('train-loss'));
    const svg = chartSvg({ ...spec('train-loss'), title: 'Loss <&>' }, a, { critical: '#D55E00', full: '#0072B2' });
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('Loss &lt;&amp;&gt;');
    expect(svg).not.toContain('<&>');
  });
});
