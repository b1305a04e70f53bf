// Which steps each training arm supervises. The five arms of the ATLaS paper's ablation:
//   full          every agent turn
//   critical      the steps of the trajectory's active selection
//   random        a seeded random sample, as many steps as critical
//   rejected      a seeded sample of the steps the selector did NOT choose, as many as critical
//   highest-loss  the steps where the base model's per-step loss is highest, as many as critical
// When a trajectory has no selection, "as many as critical" falls back to the budget count.
import { activeSelection, selectedSteps, type Trajectory } from './trajectory.ts';
import { Rng, hashSeed } from './rng.ts';

export type Arm = 'full' | 'critical' | 'random' | 'rejected' | 'highest-loss';
export const ARMS: readonly Arm[] = ['full', 'critical', 'random', 'rejected', 'highest-loss'];

export const DEFAULT_BUDGET = 0.3;

/** Budget rounding rule: at most floor(budget × steps), but at least one step when the
 *  trajectory has any step and the budget is positive (a 3-step trajectory keeps one). */
export function budgetCount(nSteps: number, budget = DEFAULT_BUDGET): number {
  if (nSteps <= 0 || budget <= 0) return 0;
  return Math.min(nSteps, Math.max(1, Math.floor(budget * nSteps + 1e-9)));
}

export interface ArmOptions {
  seed?: number;
  budget?: number;
  /** Per-step loss of the base model (highest-loss arm); same length as steps. */
  stepLoss?: readonly number[];
}

/** Sorted indices of the steps the arm puts loss on. */
export function armSteps(arm: Arm, t: Trajectory, opts: ArmOptions = {}): number[] {
  const n = t.steps.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const critical = selectedSteps(activeSelection(t)).filter((i) => i >= 0 && i < n);
  const count = activeSelection(t) ? critical.length : budgetCount(n, opts.budget);
  const rng = new Rng(hashSeed(t.id, opts.seed ?? 0));
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  switch (arm) {
    case 'full':
      return all;
    case 'critical':
      return critical;
    case 'random':
      return sorted(rng.sample(all, count));
    case 'rejected': {
      const chosen = new Set(critical);
      return sorted(rng.sample(all.filter((i) => !chosen.has(i)), count));
    }
    case 'highest-loss': {
      const loss = opts.stepLoss;
      if (!loss || loss.length !== n) {
        throw new Error(`highest-loss arm needs a per-step loss for each of the ${n} steps of trajectory "${t.id}"`);
      }
      // Ties broken by earlier step, so the choice is deterministic.
      return sorted(all.slice().sort((a, b) => loss[b] - loss[a] || a - b).slice(0, count));
    }
  }
}
