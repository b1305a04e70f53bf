// Step-level metrics on expert trajectories (held-out): given the true history up to a step,
// does the model's next action match the expert's exactly? Reported over all steps and over
// the ground-truth critical steps. The per-step loss needs the engine; `stepLossMetrics`
// takes it as an injected function and only does the bookkeeping.
import type { Step, Trajectory } from '../data/trajectory.ts';
import { parseReAct } from './react.ts';
import { renderEpisodePrompt } from './episode-prompt.ts';
import { normalizeAction } from './text.ts';

/** Predicts the next agent turn for each prompt (e.g. a model's greedy completion). */
export type ActionPredictor = (prompts: string[]) => Promise<string[]>;

export interface MatchMetrics {
  steps: number;
  matches: number;
  exactMatch: number;
  criticalSteps: number;
  criticalMatches: number;
  criticalExactMatch: number;
}

export interface StepQuery {
  trajectory: Trajectory;
  step: number;
  prompt: string;
}

/** One prompt per step: the instruction and the true history before the step. */
export function stepQueries(ts: readonly Trajectory[], render = renderEpisodePrompt): StepQuery[] {
  return ts.flatMap((t) => t.steps.map((_, i) => ({ trajectory: t, step: i, prompt: render(t.instruction, t.steps.slice(0, i) as Step[]) })));
}

function trueAction(s: Step): string {
  return normalizeAction(s.action ?? parseReAct(s.agent).action ?? '');
}

export async function nextActionMatch(ts: readonly Trajectory[], predict: ActionPredictor, batchSize = 32): Promise<MatchMetrics> {
  const qs = stepQueries(ts);
  let matches = 0, critical = 0, criticalMatches = 0;
  for (let b = 0; b < qs.length; b += batchSize) {
    const batch = qs.slice(b, b + batchSize);
    const outs = await predict(batch.map((q) => q.prompt));
    if (outs.length !== batch.length) throw new Error(`action predictor returned ${outs.length} turns for ${batch.length} prompts`);
    batch.forEach((q, i) => {
      const predicted = parseReAct(outs[i]).action;
      const hit = predicted !== null && normalizeAction(predicted) === trueAction(q.trajectory.steps[q.step]);
      const role = q.trajectory.groundTruth?.[q.step];
      const isCritical = role !== undefined && role !== 'routine';
      if (hit) matches++;
      if (isCritical) {
        critical++;
        if (hit) criticalMatches++;
      }
    });
  }
  return {
    steps: qs.length, matches, exactMatch: qs.length ? matches / qs.length : 0,
    criticalSteps: critical, criticalMatches, criticalExactMatch: critical ? criticalMatches / critical : 0,
  };
}

/** Mean loss per agent turn for each step of a trajectory (the engine computes it). */
export type StepLossFn = (t: Trajectory) => Promise<number[]>;

export interface LossMetrics {
  /** Mean loss over all agent turns. */
  allTurns: number;
  /** Mean loss over the ground-truth critical turns. */
  criticalTurns: number;
  turns: number;
  critical: number;
}

export async function stepLossMetrics(ts: readonly Trajectory[], stepLoss: StepLossFn): Promise<LossMetrics> {
  let all = 0, n = 0, crit = 0, c = 0;
  for (const t of ts) {
    const losses = await stepLoss(t);
    if (losses.length !== t.steps.length) throw new Error(`step loss for "${t.id}" has ${losses.length} values for ${t.steps.length} steps`);
    losses.forEach((l, i) => {
      all += l;
      n++;
      const role = t.groundTruth?.[i];
      if (role !== undefined && role !== 'routine') {
        crit += l;
        c++;
      }
    });
  }
  return { allTurns: n ? all / n : 0, criticalTurns: c ? crit / c : 0, turns: n, critical: c };
}
