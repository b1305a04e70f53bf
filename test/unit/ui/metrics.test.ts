// Runner events → the run log (src/ui/charts/metrics.ts), chart columns (chart-data.ts), CSV and SVG (chart-svg.ts).
import { describe, it, expect } from 'vitest';
import { addEvent, allEvals, armSteps, armSummaries, dropRowsAfter, logFromEvents, metricsCsv, metricsJson, runsOf, stepEveryRunDid } from '../../../src/ui/charts/metrics.ts';
import { alignedData, CHARTS } from '../../../src/ui/charts/chart-data.ts';
import { chartSvg } from '../../../src/ui/charts/chart-svg.ts';
import { resultsTable } from '../../../src/experiment/results.ts';
import type { BaselineMetrics, EvalMetrics, ExperimentEvent } from '../../../src/experiment/protocol.ts';

type TestArm = 'critical' | 'full';
const train = (arm: TestArm, step: number, loss: number, trainSeed?: number): ExperimentEvent => ({ kind: 'train', arm, step, loss, lr: 0.01, supervisedTokens: step * 10, tokensPerSecond: 100, elapsedMs: step * 1000, ...(trainSeed !== undefined ? { trainSeed } : {}) });
const evalAt = (arm: TestArm, step: number, extra: object = {}): EvalMetrics => ({ kind: 'eval', arm, step, heldOutLossCritical: 2 - step / 10, heldOutLossAll: 3 - step / 10, ...extra });
const baseline: BaselineMetrics = { kind: 'baseline', step: 0, heldOutLossCritical: 6.5, heldOutLossAll: 6.9, nextActionAccuracy: 0, successHeldIn: 0.125, successHeldOut: 0, rolloutSeeds: [7, 8], expertSuccessHeldIn: 1, expertSuccessHeldOut: 0.75 };
const spec = (id: string) => CHARTS.find((c) => c.id === id)!;
const COLORS = { critical: '#D55E00', full: '#0072B2' };

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
    expect(a.points).toBe(3);
  });

  it('keeps every arm × line (and the base line) as a series before any value arrives', () => {
    const a = alignedData(logFromEvents(['critical', 'full'], events), spec('success'));
    expect(a.series.map((s) => s.label)).toEqual(['critical · held-in', 'critical · held-out (dashed)', 'full · held-in', 'full · held-out (dashed)', 'base · held-in (untuned start; dotted)', 'base · held-out (untuned start; dotted)']);
    expect(a.data).toEqual([[], [], [], [], [], [], []]);
    expect(a.bands).toEqual([]);
  });

  it('replaces steps a resumed run trains again', () => {
    const log = logFromEvents(['critical'], [train('critical', 1, 5), train('critical', 2, 4), train('critical', 3, 3), train('critical', 3, 2.5), train('critical', 4, 2)]);
    expect(runsOf(log, 'critical')[0].train.map((r) => [r.step, r.loss])).toEqual([
      [1, 5],
      [2, 4],
      [3, 2.5],
      [4, 2],
    ]);
  });

  it('summarises each arm with its latest rollout and writes a CSV row per event', () => {
    const log = logFromEvents(['critical', 'full'], [...events, evalAt('full', 2, { successHeldIn: 0.5, successHeldOut: 0.25, rolloutSeeds: [7, 8], expertSuccessHeldIn: 1, expertSuccessHeldOut: 0.75 }), evalAt('full', 4)]);
    const full = armSummaries(log).find((s) => s.arm === 'full')!;
    expect(full).toMatchObject({ step: 4, seeds: 1, successHeldIn: { mean: 0.5, n: 1 }, successHeldOut: { mean: 0.25, n: 1 }, heldOutLossAll: { mean: 2.6, n: 1 } });
    // The rollout episodes and the expert on them reach the results table.
    const table = resultsTable(allEvals(log), undefined, log.arms);
    expect(table.rolloutSeeds).toEqual([7, 8]);
    expect(table.expert).toEqual({ successHeldIn: 1, successHeldOut: 0.75 });
    const csv = metricsCsv(log).trim().split('\n');
    expect(csv).toHaveLength(1 + 5 + 3); // header, 5 train rows, 3 eval rows
    expect(csv[0].startsWith('kind,arm,step,loss,')).toBe(true);
    expect(csv[0].endsWith(',successHeldIn,successHeldOut,rolloutSeeds,expertSuccessHeldIn,expertSuccessHeldOut,trainSeed')).toBe(true);
    expect(csv).toContain('eval,full,2,,,,,,1.8,2.8,,0.5,0.25,7 8,1,0.75,');
  });

  it('draws an SVG with one path per non-empty series and escapes labels', () => {
    const a = alignedData(logFromEvents(['critical', 'full'], events), spec('train-loss'));
    const svg = chartSvg({ ...spec('train-loss'), title: 'Loss <&>' }, a, COLORS);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('Loss &lt;&amp;&gt;');
    expect(svg).not.toContain('<&>');
  });
});

describe('metrics over several training seeds', () => {
  // critical with seeds 1, 2, 3; full with seeds 1, 2, 3; seed 3 of critical is a step behind.
  const losses: Record<TestArm, number[][]> = {
    critical: [
      [5, 4, 3],
      [5.5, 4.2, 3.3],
      [4.5, 3.9],
    ],
    full: [
      [6, 5, 4],
      [6.2, 5.1, 4.1],
      [5.8, 4.9, 3.9],
    ],
  };
  const seeded: ExperimentEvent[] = [];
  for (let step = 1; step <= 3; step++) for (const arm of ['critical', 'full'] as const) for (let k = 0; k < 3; k++) {
    const loss = losses[arm][k][step - 1];
    if (loss !== undefined) seeded.push(train(arm, step, loss, k + 1));
  }
  const log = () => logFromEvents(['critical', 'full'], [baseline, ...seeded], [1, 2, 3]);

  it('keeps each (arm, seed) run apart and draws the mean and the min–max band of the seeds', () => {
    const l = log();
    expect(l.runs.map((r) => `${r.arm}#${r.trainSeed}:${r.train.length}`)).toEqual(['critical#1:3', 'critical#2:3', 'critical#3:2', 'full#1:3', 'full#2:3', 'full#3:3']);
    const a = alignedData(l, spec('train-loss'));
    expect(a.series.map((s) => [s.role, s.label])).toEqual([
      ['mean', 'critical (mean of 3 seeds)'],
      ['max', 'critical (min–max over 3 seeds)'],
      ['min', 'critical (min over 3 seeds)'],
      ['mean', 'full (mean of 3 seeds)'],
      ['max', 'full (min–max over 3 seeds)'],
      ['min', 'full (min over 3 seeds)'],
    ]);
    expect(a.bands).toEqual([
      { arm: 'critical', upper: 1, lower: 2, dashed: false },
      { arm: 'full', upper: 4, lower: 5, dashed: false },
    ]);
    const [x, critMean, critMax, critMin, fullMean, fullMax, fullMin] = a.data;
    expect(x).toEqual([1, 2, 3]);
    // Step 1 and 2: every seed; mean / max / min equal those of the per-seed values.
    expect(critMean[0]).toBeCloseTo((5 + 5.5 + 4.5) / 3, 12);
    expect([critMax[0], critMin[0]]).toEqual([5.5, 4.5]);
    expect(critMean[1]).toBeCloseTo((4 + 4.2 + 3.9) / 3, 12);
    expect([critMax[1], critMin[1]]).toEqual([4.2, 3.9]);
    // Step 3: seed 3 of critical has not reported it, so critical has no point there yet.
    expect([critMean[2], critMax[2], critMin[2]]).toEqual([null, null, null]);
    expect(fullMean[2]).toBeCloseTo(4, 12);
    expect([fullMax[2], fullMin[2]]).toEqual([4.1, 3.9]);
    expect(a.points).toBe(3);
  });

  it('counts progress per run: an arm is as far as its slowest seed, a seed not yet heard of counts 0', () => {
    expect(armSteps(log())).toEqual([
      { arm: 'critical', step: 2 },
      { arm: 'full', step: 3 },
    ]);
    expect(stepEveryRunDid(log())).toBe(2);
    const early = logFromEvents(['critical'], [train('critical', 1, 5, 1), train('critical', 2, 4, 1)], [1, 2]);
    expect(stepEveryRunDid(early)).toBe(0);
  });

  it('a resumed run replaces its own rows only; a resume drops every run\'s later rows and keeps the baseline', () => {
    const l = log();
    // Seed 2 of full trains step 2 again (after a checkpoint at step 1): its own step 2 and 3 go.
    addEvent(l, train('full', 2, 9, 2));
    expect(runsOf(l, 'full').map((r) => r.train.map((t) => t.loss))).toEqual([
      [6, 5, 4],
      [6.2, 9],
      [5.8, 4.9, 3.9],
    ]);
    dropRowsAfter(l, 1);
    expect(l.runs.map((r) => r.train.map((t) => t.step))).toEqual([[1], [1], [1], [1], [1], [1]]);
    expect(l.baseline).toEqual(baseline);
  });

  it('reads events stored before seeds existed as the run of config.seed', () => {
    const legacy = logFromEvents(['critical'], [train('critical', 1, 5), evalAt('critical', 1)], [4]);
    expect(legacy.runs).toHaveLength(1);
    expect(legacy.runs[0].trainSeed).toBe(4);
    expect(allEvals(legacy).map((e) => e.trainSeed)).toEqual([4]);
    expect(stepEveryRunDid(legacy)).toBe(1);
    expect(metricsCsv(legacy).trim().split('\n')[1].endsWith(',4')).toBe(true);
  });

  it('summarises an arm by the mean over its seeds at the step all of them reached', () => {
    const critical = armSummaries(log()).find((s) => s.arm === 'critical')!;
    expect(critical.seeds).toBe(3);
    expect(critical.step).toBe(2);
    // Step 2 of every seed (not seed 1's and 2's step 3 with seed 3's step 2).
    expect(critical.loss).toMatchObject({ min: 3.9, max: 4.2, n: 3 });
    expect(critical.loss!.mean).toBeCloseTo((4 + 4.2 + 3.9) / 3, 12);
  });

  it('keeps the baseline and draws it as a flat base line from step 0 to the run\'s last step', () => {
    const l = log();
    for (const arm of ['critical', 'full'] as const) for (const trainSeed of [1, 2, 3]) addEvent(l, { ...evalAt(arm, 2), trainSeed });
    expect(l.baseline).toEqual(baseline);
    const a = alignedData(l, spec('heldout-loss'), 10);
    const base = a.series.map((s, i) => ({ s, col: a.data[i + 1] })).filter(({ s }) => s.role === 'base');
    expect(base.map(({ s }) => s.label)).toEqual(['base · critical turns (untuned start; dotted)', 'base · all turns (untuned start; dotted)']);
    expect(a.data[0]).toEqual([0, 2, 10]);
    expect(base.map(({ col }) => col)).toEqual([
      [6.5, 6.5, 6.5],
      [6.9, 6.9, 6.9],
    ]);
    // The base line's ends are not points of the arms.
    expect(a.points).toBe(1);
    // Training charts have no base line.
    expect(alignedData(l, spec('train-loss'), 10).series.some((s) => s.role === 'base')).toBe(false);
  });

  it('writes the baseline row and each run\'s seed in the CSV, and both in the JSON', () => {
    const csv = metricsCsv(log()).trim().split('\n');
    expect(csv[0].split(',').at(-1)).toBe('trainSeed');
    expect(csv[1]).toBe('baseline,,0,,,,,,6.5,6.9,0,0.125,0,7 8,1,0.75,');
    expect(csv.filter((r) => r.startsWith('train,critical,'))).toHaveLength(8);
    expect(csv.filter((r) => r.startsWith('train,critical,') && r.endsWith(',3'))).toHaveLength(2);
    expect(csv).toContain('train,full,3,3.9,0.01,30,100,3000,,,,,,,,,3');
    const json = JSON.parse(metricsJson(log(), null, 'http://x/#seeds=3')) as { baseline: BaselineMetrics; runs: { arm: string; trainSeed: number; train: unknown[] }[]; link: string };
    expect(json.baseline).toEqual(baseline);
    expect(json.runs.map((r) => `${r.arm}#${r.trainSeed}`)).toEqual(['critical#1', 'critical#2', 'critical#3', 'full#1', 'full#2', 'full#3']);
    expect(json.link).toBe('http://x/#seeds=3');
  });

  it('draws each band as a filled path and the base as a grey dotted line in the SVG, and names them in its legend', () => {
    const l = log();
    for (const step of [1, 2]) for (const trainSeed of [1, 2, 3]) addEvent(l, { ...evalAt('critical', step), heldOutLossCritical: 2 + trainSeed / 10 - step / 10, trainSeed });
    const s = spec('heldout-loss');
    const svg = chartSvg(s, alignedData(l, s, 4), COLORS);
    // critical's two line kinds: two bands; full has no evaluation yet.
    expect(svg.match(/<path class="band" d="M[^"]+Z" fill="#D55E00" fill-opacity="0\.\d+"/g)).toHaveLength(2);
    expect(svg.match(/<path class="base" d="M[^"]+" fill="none" stroke="#888888" stroke-width="1.5" stroke-dasharray="2 4"\/>/g)).toHaveLength(2);
    // Mean lines: critical's two kinds (the base and the bands are drawn apart).
    expect(svg.match(/<path d="M/g)).toHaveLength(2);
    for (const label of ['critical · critical turns (mean of 3 seeds)', 'critical · critical turns (min–max over 3 seeds)', 'critical · all turns (dashed; mean of 3 seeds)', 'base · critical turns (untuned start; dotted)']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).not.toContain('(min over 3 seeds)');
  });
});
