// A run sized by wall-clock time instead of steps (the Quick demo's "two minutes on whatever
// adapter you have"): after measuring what a training step and an evaluation cost here, the
// runner picks the most steps whose training and evaluations fit the budget. No GPU here:
// the runner measures, this module plans.
import type { ExperimentConfig } from './protocol.ts';

export interface BudgetInput {
  budgetMs: number;
  /** Time already spent (start-up, the base's evaluation, the probe steps). */
  spentMs: number;
  /** Steps already taken (by every run). */
  doneSteps: number;
  /** Most steps the run may take (the configured step count). */
  maxSteps: number;
  /** One training step of every run together. */
  stepMs: number;
  /** One evaluation of every run together. */
  evalMs: number;
  evalEvery: number;
  rolloutEvery: number;
}

/** Evaluations a run of `steps` makes after `from`: every evalEvery / rolloutEvery step and the last. */
export function evaluationsBetween(from: number, steps: number, evalEvery: number, rolloutEvery: number): number {
  let n = 0;
  for (let k = from + 1; k <= steps; k++) if (k === steps || (evalEvery > 0 && k % evalEvery === 0) || (rolloutEvery > 0 && k % rolloutEvery === 0)) n++;
  return n;
}

/** The time a run of `steps` takes from now, by the measured costs. */
export function projectedMs(i: BudgetInput, steps: number): number {
  return i.spentMs + (steps - i.doneSteps) * i.stepMs + evaluationsBetween(i.doneSteps, steps, i.evalEvery, i.rolloutEvery) * i.evalMs;
}

/** The most steps (≥ the steps done, ≤ maxSteps) whose projected time fits the budget. */
export function stepsWithinBudget(i: BudgetInput): number {
  let best = i.doneSteps;
  for (let s = i.doneSteps + 1; s <= i.maxSteps; s++) if (projectedMs(i, s) <= i.budgetMs) best = s;
  return best;
}

/** Measures the first training steps of a run with a time budget, then plans its length. */
export class BudgetProbe {
  private readonly probe: number;
  private afterFirst = 0;

  constructor(
    private readonly config: ExperimentConfig,
    private readonly runs: number,
    /** One model's evaluation (the base's): every run's evaluation costs about as much. */
    private readonly evalOneMs: number,
  ) {
    this.probe = Math.min(3, config.hyper.steps);
  }

  /** Whether the loop must finish `step` before going on (the probe times whole steps). */
  measuring(step: number): boolean {
    return step === 1 || step === this.probe;
  }

  /** Called once `step` has finished; returns the plan after the last probe step. */
  measured(step: number, spentMs: number): { steps: number; note: string } | undefined {
    if (step === 1 && this.probe > 1) {
      this.afterFirst = spentMs;
      return undefined;
    }
    if (step !== this.probe) return undefined;
    // The first step compiles the kernels: time the later probe steps when there are any.
    const stepMs = this.probe > 1 ? (spentMs - this.afterFirst) / (this.probe - 1) : spentMs;
    const { hyper, evalEvery, rolloutEvery } = this.config;
    const budgetMs = this.config.timeBudgetSeconds! * 1000;
    const evalMs = this.evalOneMs * this.runs;
    const steps = Math.max(this.probe, stepsWithinBudget({ budgetMs, spentMs, doneSteps: this.probe, maxSteps: hyper.steps, stepMs, evalMs, evalEvery, rolloutEvery }));
    const evals = evaluationsBetween(this.probe, steps, evalEvery, rolloutEvery);
    const capped = steps === hyper.steps ? ` (the most this run allows)` : '';
    const note = `time budget ${this.config.timeBudgetSeconds} s: ${steps} steps per arm fit${capped} — measured ${(stepMs / 1000).toFixed(2)} s per step of all ${this.runs} runs and ${(this.evalOneMs / 1000).toFixed(1)} s per evaluation of one model; ${evals} more evaluations`;
    return { steps, note };
  }
}
