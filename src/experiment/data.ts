// The trajectories an experiment trains and evaluates on, with the critical steps marked by
// the configured selector. Built-in data: expert demonstrations from the environments —
// held-in task types for training, held-out ones (and environments kept out of training)
// for evaluation, as in the paper's split.
import type { Trajectory } from '../data/trajectory.ts';
import { Rng } from '../data/rng.ts';
import { labelledSelection, rebuiltFromSeed, seedRebuiltSelector, SEED_REBUILT_SELECTORS } from '../select/registry.ts';
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

/** Marks each trajectory's critical steps with `selector` and makes it the active one. A
 *  selector the runner rebuilds from the seed (registry: rebuiltFromSeed — heuristic, ground
 *  truth) is computed here, replacing any earlier selection of that name; any other name must
 *  be a selection the trajectories already carry. */
export function applySelector(ts: Trajectory[], selector: string, budget: number, now = new Date().toISOString()): { id: string; reason: string }[] {
  const failed: { id: string; reason: string }[] = [];
  const rebuilt = seedRebuiltSelector(selector);
  for (const t of ts) {
    try {
      if (rebuilt) {
        // No selector rebuilt from the seed draws at random: the seed is not used.
        const sel = labelledSelection(rebuilt.name, rebuilt.select(t, { budget, seed: 0 }), now);
        t.selections = [...t.selections.filter((s) => s.selector !== sel.selector), sel];
      } else if (!t.selections.some((s) => s.selector === selector && s.status === 'labelled')) {
        throw new Error(`no labelled selection by "${selector}" on this trajectory`);
      }
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
