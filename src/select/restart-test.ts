// The restart test end to end: plan the restarts of a selection, run them all in shared
// batches with one policy (the untuned model), and summarise success per category.
// Used by `atlas score --restart` and the Select step's restart panel.
import type { Trajectory } from '../data/trajectory.ts';
import { DEFAULT_BUDGET } from '../data/arms.ts';
import { groundTruthSelection } from './ground-truth.ts';
import type { Policy } from '../envs/policy.ts';
import { runRestarts } from '../envs/restart.ts';
import { planRestarts, type RestartPlan, type RestartPlanOptions } from './restart-plan.ts';
import { summariseRestarts, type RestartReport } from './restart-report.ts';

export interface RestartTestOptions extends RestartPlanOptions {
  /** Most turns the model may write per restart (default: up to the environment's step limit). */
  maxSteps?: number;
  /** Episodes stepped together per policy call (the generator's batch). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The ground-truth selection on demonstrations that carry roles but do not store one: built from
 *  the roles as the experiment runner builds it (default budget), so asking for it needs no other step. */
export function withGroundTruthSelection(ts: readonly Trajectory[], now = new Date().toISOString()): Trajectory[] {
  return ts.map((t) => (t.groundTruth && !t.selections.some((s) => s.selector === 'ground-truth' && s.status === 'labelled') ? { ...t, selections: [...t.selections, groundTruthSelection(t, DEFAULT_BUDGET, now)] } : t));
}

/** The restarts a test would run (planRestarts; the ground-truth selection built when asked for). */
export function restartPlan(ts: readonly Trajectory[], opts: RestartPlanOptions = {}): RestartPlan {
  return planRestarts(opts.selection === 'ground-truth' ? withGroundTruthSelection(ts) : ts, opts);
}

/** The plan, or an error saying why nothing can be restarted (checked before a model is loaded). */
export function restartablePlan(ts: readonly Trajectory[], opts: RestartPlanOptions = {}): RestartPlan {
  const plan = restartPlan(ts, opts);
  if (plan.points.length === 0) {
    const first = plan.skipped[0];
    throw new Error(`nothing to restart: none of the ${ts.length} trajectories is a built-in demonstration with ${opts.selection ? `a selection by "${opts.selection}"` : 'a selection'}${first ? ` (first: ${first.id}: ${first.reason})` : ''}`);
  }
  return plan;
}

/** Runs a plan's restarts with one policy and summarises them. */
export async function runPlannedRestarts(plan: RestartPlan, policy: Policy, opts: Omit<RestartTestOptions, keyof RestartPlanOptions> & Pick<RestartPlanOptions, 'selection'> = {}): Promise<RestartReport> {
  const results = await runRestarts(plan.points, policy, { batchSize: opts.batchSize, maxSteps: opts.maxSteps, onProgress: opts.onProgress });
  return summariseRestarts(plan, results, { model: policy.name, selection: opts.selection, maxSteps: opts.maxSteps });
}

export async function runRestartTest(ts: readonly Trajectory[], policy: Policy, opts: RestartTestOptions = {}): Promise<RestartReport> {
  return runPlannedRestarts(restartablePlan(ts, opts), policy, opts);
}
