// A run sized by wall-clock time instead of steps (the Quick demo's "two minutes on whatever
// adapter you have"): after measuring what a training step and an evaluation cost here, the
// runner picks the most steps whose training and evaluations fit the budget. Pure arithmetic.

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
