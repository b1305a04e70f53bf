// The charts of the Compare step and their columns (uPlot's aligned data): per arm and line
// kind the mean over training seeds, with several seeds a min–max band, and on evaluation
// charts the untuned base as a flat reference line. Pure: shared by the live charts, the SVG
// export and tests.
import type { Arm } from '../../data/arms.ts';
import type { EvalMetrics, TrainMetrics } from '../../experiment/protocol.ts';
import { spreadOf, type Spread } from '../../experiment/results.ts';
import { runsOf, type MetricsLog, type RunLog } from './metrics.ts';

/** A train, eval or baseline row seen through one type (each field present on some kinds only). */
export type MetricRow = Partial<Omit<TrainMetrics, 'kind'>> & Partial<Omit<EvalMetrics, 'kind'>> & { step: number };

export interface ChartLine {
  /** Suffix after the arm name in the legend ('' for single-line charts). */
  suffix: string;
  dash?: number[];
  pick: (m: MetricRow) => number | undefined;
}

export interface ChartSpec {
  id: string;
  title: string;
  yLabel: string;
  /** What the chart shows and how to read it (shown beside the chart). */
  explain: string;
  source: 'train' | 'eval';
  lines: ChartLine[];
  /** y-axis from 0 to 1 (rates). */
  unitRange?: boolean;
}

const DASHED = [6, 4];
/** The base line: grey and dotted on every chart, whatever the line kind. */
export const BASE_COLOR = '#888888';
export const BASE_DASH = [2, 4];

export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'train-loss',
    title: 'Training loss',
    yLabel: 'loss (nats/token)',
    explain: 'Cross-entropy on each arm’s own supervised tokens. Arms supervise different tokens, so compare shapes, not levels.',
    source: 'train',
    lines: [{ suffix: '', pick: (m) => m.loss }],
  },
  {
    id: 'heldout-loss',
    title: 'Held-out loss',
    yLabel: 'loss (nats/token)',
    explain: 'The same yardstick for every arm: loss on held-out expert trajectories — solid on the critical steps’ turns, dashed on all agent turns; grey dotted: the untuned base. Lower is better.',
    source: 'eval',
    lines: [
      { suffix: ' · critical turns', pick: (m) => m.heldOutLossCritical },
      { suffix: ' · all turns', dash: DASHED, pick: (m) => m.heldOutLossAll },
    ],
  },
  {
    id: 'next-action',
    title: 'Next-action accuracy',
    yLabel: 'exact match',
    explain: 'Given the true history of a held-out expert trajectory, how often the model’s next action matches the expert’s exactly; grey dotted: the untuned base.',
    source: 'eval',
    unitRange: true,
    lines: [{ suffix: '', pick: (m) => m.nextActionAccuracy }],
  },
  {
    id: 'success',
    title: 'Rollout success',
    yLabel: 'success rate',
    explain: 'The model acts alone in the environments: solid = held-in tasks, dashed = held-out tasks (unseen task types and an unseen environment); grey dotted: the untuned base on the same episodes. This is the paper’s headline number.',
    source: 'eval',
    unitRange: true,
    lines: [
      { suffix: ' · held-in', pick: (m) => m.successHeldIn },
      { suffix: ' · held-out', dash: DASHED, pick: (m) => m.successHeldOut },
    ],
  },
  {
    id: 'supervised-tokens',
    title: 'Supervised tokens seen',
    yLabel: 'tokens',
    explain: 'How many tokens carried loss so far. The critical arm learns from far fewer tokens than full — the point of the method.',
    source: 'train',
    lines: [{ suffix: '', pick: (m) => m.supervisedTokens }],
  },
  {
    id: 'throughput',
    title: 'Throughput',
    yLabel: 'tokens/s',
    explain: 'Training speed of each arm on this GPU (all tokens, including context). Arms take turns on one device.',
    source: 'train',
    lines: [{ suffix: '', pick: (m) => m.tokensPerSecond }],
  },
];

export interface SeriesInfo {
  /** The arm; absent on the base line. */
  arm?: Arm;
  /**
   * mean: the arm's line (its only value with one seed); max / min: the edges of its min–max
   * band, drawn without a stroke (the band's legend entry is the max edge's; the min edge has
   * none); base: the untuned start, flat across the x range.
   */
  role: 'mean' | 'max' | 'min' | 'base';
  label: string;
  dash?: number[];
}

/** A filled band between two series (indices into `series`). */
export interface BandInfo {
  arm: Arm;
  upper: number;
  lower: number;
  /** The band's line kind is dashed (its fill is lighter, so two bands of one arm stay apart). */
  dashed: boolean;
}

export interface Aligned {
  /** [x, y1, y2, …] — x is the training step. */
  data: (number | null)[][];
  series: SeriesInfo[];
  bands: BandInfo[];
  /** Steps where some arm has a value (the base line's two ends are not counted). */
  points: number;
}

/** "critical · held-out (dashed; mean of 3 seeds)": what the line is, then its style and what it summarises. */
function legendLabel(name: string, line: ChartLine, notes: string[]): string {
  return `${name}${line.suffix}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** An arm's line of a dashed kind says so in the legend. */
const styleNotes = (line: ChartLine) => (line.dash ? ['dashed'] : []);

/**
 * The arm's seeds summarised per step: only steps every seed with this line has reached, so
 * the mean of a step never stands on fewer seeds than the others (runs interleave; one is
 * often a step ahead while training).
 */
function spreadPerStep(runs: readonly RunLog[], source: ChartSpec['source'], line: ChartLine): Map<number, Spread> {
  const byStep = new Map<number, number[]>();
  let reporting = 0;
  for (const run of runs) {
    let any = false;
    for (const r of source === 'train' ? run.train : run.eval) {
      const v = line.pick(r as MetricRow);
      if (v === undefined || v === null || !Number.isFinite(v)) continue;
      const values = byStep.get(r.step);
      if (values) values.push(v);
      else byStep.set(r.step, [v]);
      any = true;
    }
    if (any) reporting++;
  }
  const out = new Map<number, Spread>();
  for (const [step, values] of byStep) if (values.length === reporting) out.set(step, spreadOf(values)!);
  return out;
}

/**
 * One x column (the union of steps) and, per arm × line, the mean over seeds and — with two
 * or more seeds — the band's max and min columns; on evaluation charts one base column per
 * line (flat, from step 0 to `xEnd`, the run's last step). Gaps are null. The set of series
 * depends only on the arms, the seeds and the chart, never on the data so far: a chart is
 * only ever redrawn, not rebuilt, as values arrive.
 */
export function alignedData(log: MetricsLog, spec: ChartSpec, xEnd?: number): Aligned {
  const series: SeriesInfo[] = [];
  const bands: BandInfo[] = [];
  const columns: Map<number, number>[] = [];
  const xs = new Set<number>();
  const nSeeds = log.seeds.length;
  const add = (info: SeriesInfo, col: Map<number, number>) => {
    series.push(info);
    columns.push(col);
    return series.length - 1;
  };
  for (const arm of log.arms) {
    const runs = runsOf(log, arm);
    for (const line of spec.lines) {
      const spreads = spreadPerStep(runs, spec.source, line);
      for (const step of spreads.keys()) xs.add(step);
      const column = (f: (s: Spread) => number) => new Map([...spreads].map(([step, s]) => [step, f(s)]));
      add({ arm, role: 'mean', label: legendLabel(arm, line, [...styleNotes(line), ...(nSeeds > 1 ? [`mean of ${nSeeds} seeds`] : [])]), dash: line.dash }, column((s) => s.mean));
      if (nSeeds < 2) continue;
      const upper = add({ arm, role: 'max', label: legendLabel(arm, line, [...styleNotes(line), `min–max over ${nSeeds} seeds`]) }, column((s) => s.max));
      const lower = add({ arm, role: 'min', label: `${arm}${line.suffix} (min over ${nSeeds} seeds)` }, column((s) => s.min));
      bands.push({ arm, upper, lower, dashed: line.dash !== undefined });
    }
  }
  const points = xs.size;
  const baseValues: (number | undefined)[] = [];
  if (spec.source === 'eval') {
    for (const line of spec.lines) {
      const v = log.baseline ? line.pick(log.baseline as MetricRow) : undefined;
      baseValues.push(v !== undefined && v !== null && Number.isFinite(v) ? v : undefined);
      add({ role: 'base', label: legendLabel('base', line, ['untuned start', 'dotted']), dash: BASE_DASH }, new Map());
    }
  }
  if (baseValues.some((v) => v !== undefined)) {
    xs.add(log.baseline?.step ?? 0);
    if (xEnd !== undefined && xEnd > 0) xs.add(xEnd);
  }
  const x = [...xs].sort((a, b) => a - b);
  const firstBase = series.length - baseValues.length;
  const data = columns.map((c, i) => (i >= firstBase ? x.map(() => baseValues[i - firstBase] ?? null) : x.map((s) => c.get(s) ?? null)));
  return { data: [x, ...data], series, bands, points };
}

/** The series a legend lists: all but the bands' min edges (the band's entry is its max edge). */
export function inLegend(s: SeriesInfo): boolean {
  return s.role !== 'min';
}
