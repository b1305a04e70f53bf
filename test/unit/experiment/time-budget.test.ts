// Sizing a run by wall-clock time: the most steps whose measured training and evaluation fit.
import { describe, expect, it } from 'vitest';
import { evaluationsBetween, projectedMs, stepsWithinBudget } from '../../../src/experiment/time-budget.ts';

const base = { budgetMs: 120_000, spentMs: 20_000, doneSteps: 3, maxSteps: 500, stepMs: 1_000, evalMs: 10_000, evalEvery: 10, rolloutEvery: 10 };

describe('time budget', () => {
  it('counts the evaluations after the steps done: every evalEvery / rolloutEvery step and the last', () => {
    expect(evaluationsBetween(3, 30, 10, 10)).toBe(3);
    expect(evaluationsBetween(3, 31, 10, 10)).toBe(4);
    expect(evaluationsBetween(3, 30, 10, 15)).toBe(4); // 10, 15, 20, 30
    expect(evaluationsBetween(3, 3, 10, 10)).toBe(0);
    expect(evaluationsBetween(0, 7, 0, 0)).toBe(1);
  });

  it('takes the most steps that fit, by the measured costs', () => {
    const s = stepsWithinBudget(base);
    expect(projectedMs(base, s)).toBeLessThanOrEqual(base.budgetMs);
    expect(projectedMs(base, s + 1)).toBeGreaterThan(base.budgetMs);
    // 20 s spent; 60 steps would be 57 s of training + 6 evaluations (60 s): too much; 50 → 47 + 50 = 117 s.
    expect(s).toBe(50);
  });

  it('never goes below the steps done nor above the configured most', () => {
    expect(stepsWithinBudget({ ...base, budgetMs: 1 })).toBe(3);
    expect(stepsWithinBudget({ ...base, budgetMs: 1e9, maxSteps: 40 })).toBe(40);
  });
});
