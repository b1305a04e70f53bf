import { describe, expect, it } from 'vitest';
import { learningRate } from '../../../src/engine/schedule.ts';

describe('learning-rate schedule', () => {
  const s = { lr: 1e-3, warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1 };
  it('warms up linearly from lr/warmup to lr', () => {
    expect(learningRate(1, s)).toBeCloseTo(1e-4, 12);
    expect(learningRate(5, s)).toBeCloseTo(5e-4, 12);
    expect(learningRate(10, s)).toBeCloseTo(1e-3, 12);
  });
  it('decays along a cosine to lr·minLrRatio and stays there', () => {
    // halfway through the decay: min + (max − min)/2
    expect(learningRate(60, s)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 12);
    // a quarter: min + (max − min)·(1 + cos(π/4))/2
    expect(learningRate(35, s)).toBeCloseTo(1e-4 + 9e-4 * (1 + Math.SQRT1_2) / 2, 12);
    expect(learningRate(110, s)).toBeCloseTo(1e-4, 12);
    expect(learningRate(500, s)).toBeCloseTo(1e-4, 12);
  });
  it('is monotone after warmup and constant without decay steps', () => {
    for (let t = 11; t < 110; t++) expect(learningRate(t + 1, s)).toBeLessThanOrEqual(learningRate(t, s));
    expect(learningRate(3, { lr: 0.5, warmupSteps: 0, totalSteps: 0 + 1, minLrRatio: 0 })).toBe(0);
    expect(learningRate(3, { lr: 0.5, warmupSteps: 5, totalSteps: 5, minLrRatio: 0 })).toBeCloseTo(0.3, 12);
    expect(() => learningRate(0, s)).toThrow(/count from 1/);
  });
});
