// The built-in environments' expert demonstrations as the page shows them: generated from the
// data source's seed exactly as the experiment runner generates them (src/experiment/data.ts),
// held-in episodes first, then the held-out ones, labelled as the runner labels them. Used by
// the data worker (workers/import.worker.ts) and the page. Pure and fast: a few ms for dozens
// of episodes.
import { ENVIRONMENTS } from '../envs/registry.ts';
import { applySelector, builtinTrajectories } from './data.ts';
import { rebuiltFromSeed } from '../select/registry.ts';
import { DEFAULT_BUDGET } from '../data/arms.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { DataSource } from './protocol.ts';

export type BuiltinSource = Extract<DataSource, { kind: 'builtin' }>;

export const BUILTIN_ENV_NAMES: readonly string[] = ENVIRONMENTS.map((e) => e.name);

export function envSummary(name: string): { summary: string; splitNote: string; heldIn: readonly string[]; heldOut: readonly string[] } | undefined {
  const def = ENVIRONMENTS.find((e) => e.name === name);
  return def && { summary: def.summary, splitNote: def.splitNote, heldIn: def.taskTypes['held-in'], heldOut: def.taskTypes['held-out'] };
}

/** Exactly the demonstrations the experiment runner trains and evaluates on for this source
 *  (src/experiment/data.ts): held-in episodes first, then the held-out ones — labelled as the
 *  runner labels them: the heuristic selection always (the presets' default), and `selector`
 *  on top when it is another one the runner rebuilds from the seed (ground truth). So the
 *  token view, the trajectory detail and the exports show what the critical arm trains on. */
export function builtinDemos(src: BuiltinSource, budget: number = DEFAULT_BUDGET, selector = 'heuristic'): Trajectory[] {
  const { train, heldOut } = builtinTrajectories(src);
  const all = [...train, ...heldOut];
  labelLikeTheRunner(all, budget, selector);
  return all;
}

/** Applies the runner's own selections (applySelector) to built-in demonstrations, in place:
 *  the heuristic always, then `selector` when it is another one the runner rebuilds. */
function labelLikeTheRunner(ts: Trajectory[], budget: number, selector = 'heuristic'): void {
  const now = new Date().toISOString();
  applySelector(ts, 'heuristic', budget, now);
  if (selector !== 'heuristic' && rebuiltFromSeed(selector)) applySelector(ts, selector, budget, now);
}

/** Copies of stored built-in demonstrations with the runner's selections recomputed (after a
 *  budget change, or on data stored before it carried them); every trajectory keeps the
 *  selection that was active (a selector run or hand edits stay the ones the run uses). */
export function relabelledLikeTheRunner(ts: readonly Trajectory[], budget: number, selector = 'heuristic'): Trajectory[] {
  const copy = ts.map((t) => ({ ...t, selections: [...t.selections] }));
  const active = copy.map((t) => t.activeSelection);
  labelLikeTheRunner(copy, budget, selector);
  copy.forEach((t, i) => {
    const a = active[i];
    if (a && t.selections.some((x) => x.selector === a)) t.activeSelection = a;
  });
  return copy;
}
