// The trajectories an experiment trains and evaluates on, with the critical steps marked by
// the configured selector. Built-in data: expert demonstrations from the environments —
// held-in task types for training, held-out ones (and environments kept out of training)
// for evaluation, as in the paper's split.
import { type Selection, type StepLabel, type Trajectory } from '../data/trajectory.ts';
import { budgetCount } from '../data/arms.ts';
import { Rng } from '../data/rng.ts';
import { heuristicSelect } from '../select/heuristic.ts';
import { generateDemos } from '../envs/demo.ts';
import { getEnv } from '../envs/registry.ts';
import type { DataSource } from './protocol.ts';

export interface ExperimentData {
  train: Trajectory[];
  heldOut: Trajectory[];
  /** Trajectories the selector could not label (they still count as data for the full arm). */
  unlabelled: { id: string; reason: string }[];
  notes: string[];
}

/** Expert demonstrations from the built-in environments. */
export function builtinTrajectories(src: Extract<DataSource, { kind: 'builtin' }>): { train: Trajectory[]; heldOut: Trajectory[]; notes: string[] } {
  const train: Trajectory[] = [];
  const heldOut: Trajectory[] = [];
  const notes: string[] = [];
  src.envs.forEach((name, i) => {
    const def = getEnv(name);
    const seed = src.seed + 100_000 * i;
    if (def.taskTypes['held-in'].length) train.push(...generateDemos(def, src.trainEpisodes, seed, 'held-in', { mistakeRate: src.mistakeRate }));
    else notes.push(`${name}: no held-in tasks (${def.splitNote}); used for held-out evaluation only`);
    if (def.taskTypes['held-out'].length) heldOut.push(...generateDemos(def, src.heldOutEpisodes, seed + 50_000, 'held-out', { mistakeRate: src.mistakeRate }));
  });
  return { train, heldOut, notes };
}

/** A selection from the environment's own ground-truth roles, cut to the budget (plan first,
 *  then the other categories in step order) so it obeys the same 30 % rule as any selector. */
export function groundTruthSelection(t: Trajectory, budget: number, now: string): Selection {
  if (!t.groundTruth) throw new Error('no ground-truth roles (only built-in environment data has them)');
  const labels: StepLabel[] = [];
  t.groundTruth.forEach((role, step) => {
    if (role !== 'routine') labels.push({ step, category: role, reason: `ground truth: ${role}` });
  });
  const rank = (l: StepLabel) => (l.category === 'plan' ? 0 : 1);
  labels.sort((a, b) => rank(a) - rank(b) || a.step - b.step);
  const k = budgetCount(t.steps.length, budget);
  const kept = labels.slice(0, k);
  const repairs = labels.length > k ? [`budget: ${k} of ${labels.length} ground-truth critical steps kept; left out ${labels.slice(k).map((l) => l.step).join(', ')}`] : [];
  return { selector: 'ground-truth', createdAt: now, status: 'labelled', critical: kept, budget, repairs };
}

/** Selections the runner rebuilds from the built-in data's seed (applySelector computes them).
 *  Any other selection (oracle, judge, hand edits, …) exists only on stored trajectories, so
 *  training on it needs the stored dataset, not regenerated demonstrations. */
export const SEED_REBUILT_SELECTORS: readonly string[] = ['heuristic', 'ground-truth'];

export function rebuiltFromSeed(selector: string): boolean {
  return SEED_REBUILT_SELECTORS.includes(selector);
}

/** The runner's error when an arm would train on nothing: for the critical arm it names the
 *  selection, how many training trajectories lack it, and how to fix it. */
export function noSupervisedStepMessage(arm: string, selector: string, dataKind: 'builtin' | 'dataset', trainCount: number, unlabelled: { id: string; reason: string }[]): string {
  if (arm !== 'critical') return `the ${arm} arm has no supervised step in the training data`;
  const why = unlabelled.length ? `; ${unlabelled.length} trajectories lack that selection, e.g. ${unlabelled[0].id}: ${unlabelled[0].reason}` : '';
  const head = `the critical arm has no supervised step: none of the ${trainCount} training trajectories has a step selected by "${selector}"${why}`;
  if (dataKind === 'builtin' && !rebuiltFromSeed(selector)) {
    return `${head}. Built-in data is regenerated from its seed, which rebuilds only ${SEED_REBUILT_SELECTORS.map((s) => `"${s}"`).join(' and ')}: train on the stored demonstrations (Train step: "Train on the demonstrations as stored here"; CLI: a dataset file) or choose one of those selections`;
  }
  return `${head}. Run a selector on this data in step 2 (or label it by hand), or choose a selection it has`;
}

/** Marks each trajectory's critical steps with `selector` ("ground-truth", "heuristic", or
 *  the name of a selection the trajectories already carry) and makes it the active one. */
export function applySelector(ts: Trajectory[], selector: string, budget: number, now = new Date().toISOString()): { id: string; reason: string }[] {
  const failed: { id: string; reason: string }[] = [];
  for (const t of ts) {
    try {
      let sel: Selection | undefined;
      if (selector === 'ground-truth') sel = groundTruthSelection(t, budget, now);
      else if (selector === 'heuristic') {
        const { critical, repairs } = heuristicSelect(t, budget);
        if (!critical.length) throw new Error('no heuristic signal found');
        sel = { selector: 'heuristic', createdAt: now, status: 'labelled', critical, budget, repairs };
      } else if (!t.selections.some((s) => s.selector === selector && s.status === 'labelled')) {
        throw new Error(`no labelled selection by "${selector}" on this trajectory`);
      }
      if (sel) t.selections = [...t.selections.filter((s) => s.selector !== sel!.selector), sel];
      t.activeSelection = selector;
    } catch (err) {
      failed.push({ id: t.id, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return failed;
}

export function prepareBuiltinData(src: Extract<DataSource, { kind: 'builtin' }>, selector: string, budget: number): ExperimentData {
  const { train, heldOut, notes } = builtinTrajectories(src);
  const unlabelled = [...applySelector(train, selector, budget), ...applySelector(heldOut, selector, budget)];
  return { train, heldOut, unlabelled, notes };
}

/** A user's dataset: a seeded share of it is held out for evaluation (at least one
 *  trajectory when there are two or more). Stored built-in demonstrations (every trajectory
 *  records its split) keep the environments' own held-in / held-out split instead. */
export function prepareDatasetData(ts: Trajectory[], selector: string, budget: number, seed: number, heldOutFraction = 0.2): ExperimentData {
  const train0 = ts.filter((t) => t.provenance?.split === 'held-in');
  const held0 = ts.filter((t) => t.provenance?.split === 'held-out');
  if (train0.length && train0.length + held0.length === ts.length) {
    const unlabelled = [...applySelector(train0, selector, budget), ...applySelector(held0, selector, budget)];
    return { train: train0, heldOut: held0, unlabelled, notes: [`the demonstrations' own split: ${train0.length} held-in for training, ${held0.length} held-out for evaluation`] };
  }
  const order = new Rng(seed).shuffle(ts.map((_, i) => i));
  const nHeld = ts.length >= 2 ? Math.max(1, Math.round(ts.length * heldOutFraction)) : 0;
  const held = new Set(order.slice(0, nHeld));
  const train = ts.filter((_, i) => !held.has(i));
  const heldOut = ts.filter((_, i) => held.has(i));
  const unlabelled = [...applySelector(train, selector, budget), ...applySelector(heldOut, selector, budget)];
  return { train, heldOut, unlabelled, notes: [`${heldOut.length} of ${ts.length} trajectories held out for evaluation (seed ${seed})`] };
}
