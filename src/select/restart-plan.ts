// Which restarts the restart test runs (the ATLaS paper's check of a selection before any
// training): for each trajectory, the model from the start, and after the selection's steps,
// after as many seeded random steps, and after as many of the steps the selection left out.
// Capped per trajectory so a run stays small; the plan says how many steps each category had.
import { selectedSteps, type Trajectory } from '../data/trajectory.ts';
import { Rng, hashSeed } from '../data/rng.ts';
import { originOrReason, type RestartAt } from '../envs/restart.ts';
import { pickSelection } from './selector-scores.ts';

export type RestartCategory = 'start' | 'selected' | 'random' | 'rejected';
export const RESTART_CATEGORIES: readonly RestartCategory[] = ['start', 'selected', 'random', 'rejected'];

export interface RestartPoint extends RestartAt {
  category: RestartCategory;
}

export interface RestartPlanOptions {
  /** Which selection (exact name or the part before ":"); default: each trajectory's active one. */
  selection?: string;
  /** Trajectories to use: the first this many that can be restarted (default: all). */
  episodes?: number;
  /** Most restarts per trajectory in each of selected / random / rejected (default 3). */
  perTrajectory?: number;
  /** Seed of the random and rejected samples (and of the cut when a selection exceeds the cap). */
  seed?: number;
}

export interface RestartPlan {
  points: RestartPoint[];
  /** Ids of the trajectories used, in order. */
  trajectories: string[];
  /** Trajectories passed over, with the reason (not built-in, no selection, …). */
  skipped: { id: string; reason: string }[];
  /** Steps each category could have restarted after, before the per-trajectory cap. */
  available: Record<RestartCategory, number>;
  perTrajectory: number;
}

export const DEFAULT_RESTARTS_PER_TRAJECTORY = 3;

/** Why a trajectory cannot take part, or undefined when it can. */
function unusable(t: Trajectory, selection: string | undefined): string | undefined {
  const origin = originOrReason(t);
  if (typeof origin === 'string') return origin;
  if (t.steps.length === 0) return 'no steps';
  if (!pickSelection(t, selection)) return selection ? `no labelled selection by "${selection}"` : 'no labelled selection';
  return undefined;
}

/** The restarts for one trajectory: selected steps (a seeded subset beyond the cap), as many
 *  seeded random steps, as many steps outside the selection. */
function trajectoryPoints(t: Trajectory, opts: Required<Pick<RestartPlanOptions, 'perTrajectory' | 'seed'>> & { selection?: string }) {
  const n = t.steps.length;
  const chosen = selectedSteps(pickSelection(t, opts.selection)).filter((i) => i < n);
  const chosenSet = new Set(chosen);
  const all = Array.from({ length: n }, (_, i) => i);
  const others = all.filter((i) => !chosenSet.has(i));
  // One generator per trajectory and purpose, so adding a trajectory never changes another's sample.
  const sample = (purpose: string, from: number[], k: number) => new Rng(hashSeed(`restart/${purpose}/${t.id}`, opts.seed)).sample(from, k).sort((a, b) => a - b);
  const selected = chosen.length > opts.perTrajectory ? sample('selected', chosen, opts.perTrajectory) : chosen;
  const k = selected.length;
  const points: RestartPoint[] = [
    { trajectory: t, afterStep: null, category: 'start' },
    ...selected.map((afterStep) => ({ trajectory: t, afterStep, category: 'selected' as const })),
    ...sample('random', all, k).map((afterStep) => ({ trajectory: t, afterStep, category: 'random' as const })),
    ...sample('rejected', others, k).map((afterStep) => ({ trajectory: t, afterStep, category: 'rejected' as const })),
  ];
  return { points, available: { start: 1, selected: chosen.length, random: n, rejected: others.length } };
}

export function planRestarts(ts: readonly Trajectory[], opts: RestartPlanOptions = {}): RestartPlan {
  const perTrajectory = opts.perTrajectory ?? DEFAULT_RESTARTS_PER_TRAJECTORY;
  if (!Number.isInteger(perTrajectory) || perTrajectory <= 0) throw new Error(`restarts per trajectory must be a positive integer (got ${perTrajectory})`);
  if (opts.episodes !== undefined && (!Number.isInteger(opts.episodes) || opts.episodes <= 0)) throw new Error(`episodes must be a positive integer (got ${opts.episodes})`);
  const plan: RestartPlan = { points: [], trajectories: [], skipped: [], available: { start: 0, selected: 0, random: 0, rejected: 0 }, perTrajectory };
  for (const t of ts) {
    if (opts.episodes !== undefined && plan.trajectories.length >= opts.episodes) break;
    const why = unusable(t, opts.selection);
    if (why) {
      plan.skipped.push({ id: t.id, reason: why });
      continue;
    }
    const { points, available } = trajectoryPoints(t, { perTrajectory, seed: opts.seed ?? 0, selection: opts.selection });
    plan.points.push(...points);
    plan.trajectories.push(t.id);
    for (const c of RESTART_CATEGORIES) plan.available[c] += available[c];
  }
  return plan;
}
