// The results table of a run, in the paper's shape: one row per arm with every measure as
// the mean and min–max over its training seeds, plus the untuned base and the expert on the
// same episodes. Pure: the CLI, the page and the exports read the same numbers.
import type { Arm } from '../data/arms.ts';
import type { BaselineMetrics, EvalMetrics } from './protocol.ts';

/** Mean and range of one measure over a run's seeds. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
  /** Seeds that reported a value. */
  n: number;
}

export function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const xs = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (!xs.length) return undefined;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

export type Measure = 'successHeldIn' | 'successHeldOut' | 'heldOutLossCritical' | 'heldOutLossAll' | 'nextActionAccuracy';

export interface MeasureSpec {
  key: Measure;
  label: string;
  higherIsBetter: boolean;
  /** A rate shown in percent. */
  percent: boolean;
}

export const MEASURES: readonly MeasureSpec[] = [
  { key: 'successHeldIn', label: 'held-in success', higherIsBetter: true, percent: true },
  { key: 'successHeldOut', label: 'held-out success', higherIsBetter: true, percent: true },
  { key: 'heldOutLossCritical', label: 'held-out loss, critical turns', higherIsBetter: false, percent: false },
  { key: 'heldOutLossAll', label: 'held-out loss, all turns', higherIsBetter: false, percent: false },
  { key: 'nextActionAccuracy', label: 'next-action accuracy', higherIsBetter: true, percent: true },
];

export interface ArmRow {
  arm: Arm;
  /** Training seeds that reported an evaluation. */
  seeds: number[];
  /** The step of the evaluations summarised (the latest each seed reached). */
  step: number;
  cells: Partial<Record<Measure, Spread>>;
}

export interface ResultsTable {
  rows: ArmRow[];
  /** The untuned base on the same data and episodes (absent when the run measured no baseline). */
  base?: Partial<Record<Measure, number>>;
  /** The built-in expert on the same rollout episodes and turn cap: the ceiling. */
  expert?: { successHeldIn?: number; successHeldOut?: number };
  rolloutSeeds?: number[];
}

/** The latest evaluation of every (arm, seed) — success from the latest one that ran rollouts — summarised per arm. */
export function resultsTable(evals: readonly EvalMetrics[], baseline?: BaselineMetrics, arms?: readonly Arm[]): ResultsTable {
  const byRun = new Map<string, EvalMetrics[]>();
  for (const e of evals) {
    const key = `${e.arm}#${e.trainSeed ?? ''}`;
    const list = byRun.get(key) ?? [];
    list.push(e);
    byRun.set(key, list);
  }
  const order = arms ?? [...new Set(evals.map((e) => e.arm))];
  let expert: ResultsTable['expert'];
  let rolloutSeeds: number[] | undefined;
  const rows: ArmRow[] = [];
  for (const arm of order) {
    const runs = [...byRun.values()].filter((list) => list[0].arm === arm);
    if (!runs.length) continue;
    const latest = runs.map((list) => list.reduce((a, b) => (b.step >= a.step ? b : a)));
    const lastRollout = runs.map((list) => [...list].sort((a, b) => a.step - b.step).findLast((e) => e.successHeldIn !== undefined || e.successHeldOut !== undefined));
    const cells: ArmRow['cells'] = {};
    for (const m of MEASURES) {
      const source = m.key === 'successHeldIn' || m.key === 'successHeldOut' ? lastRollout : latest;
      const s = spreadOf(source.map((e) => e?.[m.key]));
      if (s) cells[m.key] = s;
    }
    for (const r of lastRollout) {
      if (r && (r.expertSuccessHeldIn !== undefined || r.expertSuccessHeldOut !== undefined)) expert ??= { successHeldIn: r.expertSuccessHeldIn, successHeldOut: r.expertSuccessHeldOut };
      if (r?.rolloutSeeds) rolloutSeeds ??= r.rolloutSeeds;
    }
    rows.push({ arm, seeds: latest.map((e) => e.trainSeed).filter((s): s is number => s !== undefined).sort((a, b) => a - b), step: Math.max(...latest.map((e) => e.step)), cells });
  }
  let base: ResultsTable['base'];
  if (baseline) {
    base = {};
    for (const m of MEASURES) if (baseline[m.key] !== undefined) base[m.key] = baseline[m.key];
    if (baseline.expertSuccessHeldIn !== undefined || baseline.expertSuccessHeldOut !== undefined) expert ??= { successHeldIn: baseline.expertSuccessHeldIn, successHeldOut: baseline.expertSuccessHeldOut };
    rolloutSeeds ??= baseline.rolloutSeeds;
  }
  return { rows, base, expert, rolloutSeeds };
}

/** Two arms' results on a measure are within each other's spread when their seeds' ranges
 *  overlap: the difference of their means is not larger than run-to-run noise. Undefined with
 *  fewer than two seeds on either side (no spread to judge by). */
export function withinSpread(a: Spread, b: Spread): boolean | undefined {
  if (a.n < 2 || b.n < 2) return undefined;
  return a.min <= b.max && b.min <= a.max;
}

/** The best arm on a measure (by mean) and, for every other arm, whether it is within the
 *  best one's spread: the labels the table prints. */
export function bestAndTies(table: ResultsTable, m: MeasureSpec): { best?: Arm; tied: Set<Arm> } {
  const scored = table.rows.filter((r) => r.cells[m.key] !== undefined);
  if (!scored.length) return { tied: new Set() };
  const best = scored.reduce((a, b) => {
    const x = a.cells[m.key]!.mean;
    const y = b.cells[m.key]!.mean;
    return (m.higherIsBetter ? y > x : y < x) ? b : a;
  });
  const tied = new Set<Arm>();
  for (const r of scored) if (r !== best && withinSpread(r.cells[m.key]!, best.cells[m.key]!)) tied.add(r.arm);
  return { best: best.arm, tied };
}

/** One value as the table prints it: a rate in percent with one decimal, a loss with three; '—' when absent. */
export function formatValue(v: number | undefined, percent: boolean): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return percent ? (100 * v).toFixed(1) : v.toFixed(3);
}

/** The two parts of a printed spread: the mean, and over several seeds its "(min–max)". */
export function spreadParts(s: Spread | undefined, percent: boolean): { mean: string; range?: string } {
  if (!s) return { mean: '—' };
  const f = (v: number) => formatValue(v, percent);
  return s.n > 1 ? { mean: f(s.mean), range: `(${f(s.min)}–${f(s.max)})` } : { mean: f(s.mean) };
}

/** "mean (min–max)" over several seeds, the value alone over one. */
export function formatSpread(s: Spread | undefined, percent: boolean): string {
  const { mean, range } = spreadParts(s, percent);
  return range ? `${mean} ${range}` : mean;
}
