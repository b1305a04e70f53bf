// The restart test's figures: success per category with a binomial standard error, and
// whether the selection's restarts beat the others by more than chance would give.
import type { EpisodeResult } from '../envs/rollout.ts';
import { RESTART_CATEGORIES, type RestartCategory, type RestartPlan } from './restart-plan.ts';

export interface CategoryRate {
  category: RestartCategory;
  restarts: number;
  successes: number;
  /** successes / restarts; null with no restart. */
  rate: number | null;
  /** sqrt(p(1 − p) / n), the plain binomial standard error of `rate`. */
  stdErr: number | null;
  /** Restarts whose replayed steps had already finished the task (the model wrote no turn). */
  doneByReplay: number;
  /** Mean share of the trajectory replayed before the model took over (0 = from the start). */
  meanReplayed: number | null;
  /** Mean turns the model wrote. */
  meanModelTurns: number | null;
  /** Steps of this category before the per-trajectory cap (start: one per trajectory). */
  available: number;
}

export interface RateComparison {
  /** Always the selection's restarts. */
  first: 'selected';
  second: Exclude<RestartCategory, 'selected'>;
  /** first rate − second rate; null when either has no restart. */
  difference: number | null;
  /** Standard error of the difference (plus-two adjusted, see chanceStdErr). */
  stdErr: number | null;
  /** The plus-two adjusted rates differ by more than 2 standard errors (see beyondChance). */
  beyondChance: boolean | null;
}

export interface RestartReport {
  model: string;
  /** The selection named on the command line, or "active" (each trajectory's active selection). */
  selection: string;
  trajectories: number;
  perTrajectory: number;
  maxSteps?: number;
  categories: CategoryRate[];
  comparisons: RateComparison[];
  skipped: { id: string; reason: string }[];
  /** Every restart, in the plan's order (afterStep null: from the start). */
  restarts: RestartOutcome[];
}

export interface RestartOutcome {
  id: string;
  category: RestartCategory;
  afterStep: number | null;
  success: boolean;
  modelTurns: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** A success rate with one success and one failure added (Agresti–Caffo): on a handful of
 *  restarts, 0/4 vs 0/4 or 1/1 vs 0/1 would otherwise get a standard error of 0 or a
 *  difference of 100 points and look certain. */
const plusTwo = (s: number, n: number) => (s + 1) / (n + 2);

/** Standard error of a difference of two success rates, plus-two adjusted. */
export function chanceStdErr(s1: number, n1: number, s2: number, n2: number): number {
  const v = (s: number, n: number) => (plusTwo(s, n) * (1 - plusTwo(s, n))) / (n + 2);
  return Math.sqrt(v(s1, n1) + v(s2, n2));
}

/** Whether two success rates differ by more than two standard errors, both plus-two adjusted. */
export function beyondChance(s1: number, n1: number, s2: number, n2: number): boolean {
  return Math.abs(plusTwo(s1, n1) - plusTwo(s2, n2)) > 2 * chanceStdErr(s1, n1, s2, n2);
}

export function categoryRate(category: RestartCategory, plan: RestartPlan, results: readonly EpisodeResult[]): CategoryRate {
  const mine = results.map((r, i) => ({ r, n: plan.points[i].trajectory.steps.length, category: plan.points[i].category })).filter((x) => x.category === category);
  const successes = mine.filter((x) => x.r.success).length;
  const n = mine.length;
  const rate = n ? successes / n : null;
  return {
    category,
    restarts: n,
    successes,
    rate,
    stdErr: rate === null ? null : Math.sqrt((rate * (1 - rate)) / n),
    doneByReplay: mine.filter((x) => x.r.success && x.r.steps === x.r.replayedSteps).length,
    meanReplayed: mean(mine.map((x) => x.r.replayedSteps / x.n)),
    meanModelTurns: mean(mine.map((x) => x.r.steps - x.r.replayedSteps)),
    available: plan.available[category],
  };
}

export function compareRates(a: CategoryRate, b: CategoryRate): RateComparison {
  const second = b.category as RateComparison['second'];
  if (a.rate === null || b.rate === null) return { first: 'selected', second, difference: null, stdErr: null, beyondChance: null };
  const difference = a.rate - b.rate;
  const stdErr = chanceStdErr(a.successes, a.restarts, b.successes, b.restarts);
  return { first: 'selected', second, difference, stdErr, beyondChance: beyondChance(a.successes, a.restarts, b.successes, b.restarts) };
}

/** Results come in the plan's order (runRestarts keeps it). */
export function summariseRestarts(plan: RestartPlan, results: readonly EpisodeResult[], meta: { model: string; selection?: string; maxSteps?: number }): RestartReport {
  if (results.length !== plan.points.length) throw new Error(`${results.length} results for ${plan.points.length} restarts`);
  const categories = RESTART_CATEGORIES.map((c) => categoryRate(c, plan, results));
  const selected = categories.find((c) => c.category === 'selected')!;
  return {
    model: meta.model,
    selection: meta.selection ?? 'active',
    trajectories: plan.trajectories.length,
    perTrajectory: plan.perTrajectory,
    ...(meta.maxSteps !== undefined ? { maxSteps: meta.maxSteps } : {}),
    categories,
    comparisons: categories.filter((c) => c !== selected).map((c) => compareRates(selected, c)),
    skipped: plan.skipped,
    restarts: plan.points.map((p, i) => ({ id: p.trajectory.id, category: p.category, afterStep: p.afterStep, success: results[i].success, modelTurns: results[i].steps - results[i].replayedSteps })),
  };
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;

/** One plain sentence per comparison: the difference, its standard error, and whether it could be chance. */
export function comparisonSentence(c: RateComparison): string {
  const name = c.second === 'start' ? 'from the start' : `after ${c.second} steps`;
  if (c.difference === null || c.stdErr === null) return `after selected steps vs ${name}: nothing to compare (no restarts on one side)`;
  const verdict = c.beyondChance ? 'more than two standard errors: unlikely to be chance' : 'within two standard errors: could be chance with this few restarts';
  return `after selected steps vs ${name}: ${points(c.difference)} points (standard error ${(100 * c.stdErr).toFixed(1)}), ${verdict}`;
}

/** What a category's row calls itself. */
export const CATEGORY_LABEL: Record<RestartCategory, string> = {
  start: 'from the start',
  selected: 'after selected',
  random: 'after random',
  rejected: 'after rejected',
};

/** Restarts after the step that completed the task succeed with no model turn: say how many,
 *  and the success the model itself reached without them, so they cannot pass for its skill. */
export function replayNote(categories: readonly CategoryRate[]): string | undefined {
  if (!categories.some((c) => c.doneByReplay > 0)) return undefined;
  const own = categories.filter((c) => c.category !== 'start').map((c) => `${CATEGORY_LABEL[c.category]} ${c.successes - c.doneByReplay}/${c.restarts - c.doneByReplay}`);
  return `done by replay = restarts after the step that completed the task (success with no model turn); without them: ${own.join(', ')}`;
}

/** Columns of the text table: header, width, cell. */
const COLUMNS: [string, number, (c: CategoryRate) => string][] = [
  ['category', -16, (c) => CATEGORY_LABEL[c.category]],
  ['restarts', 8, (c) => String(c.restarts)],
  ['of', 5, (c) => String(c.available)],
  ['success', 8, (c) => `${c.successes}/${c.restarts}`],
  ['rate', 8, (c) => (c.rate === null ? '-' : pct(c.rate))],
  ['± s.e.', 8, (c) => (c.stdErr === null ? '-' : pct(c.stdErr))],
  ['done by replay', 15, (c) => String(c.doneByReplay)],
  ['replayed', 9, (c) => (c.meanReplayed === null ? '-' : pct(c.meanReplayed))],
  ['model turns', 12, (c) => (c.meanModelTurns === null ? '-' : c.meanModelTurns.toFixed(1))],
];

const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));

/** The report as text lines: a table, then one sentence per comparison. */
export function formatRestartReport(r: RestartReport): string[] {
  const lines = [
    `restart test: model ${r.model}, selection ${r.selection}, ${count(r.trajectories, 'trajectory', 'trajectories')}, at most ${count(r.perTrajectory, 'restart')} per trajectory and category${r.maxSteps !== undefined ? `, at most ${count(r.maxSteps, 'model turn')}` : ''}`,
    '  ' + COLUMNS.map(([head, width]) => cell(head, width)).join(' '),
    ...r.categories.map((c) => '  ' + COLUMNS.map(([, width, value]) => cell(value(c), width)).join(' ')),
    ...r.comparisons.map(comparisonSentence),
  ];
  const note = replayNote(r.categories);
  if (note) lines.push(note);
  return lines;
}
