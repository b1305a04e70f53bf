// Learning-rate schedule: linear warmup from lr/warmupSteps to lr, then cosine decay to
// lr·minLrRatio at totalSteps (held there afterwards). Steps count from 1.

export interface ScheduleParams {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  minLrRatio: number;
}

export function learningRate(step: number, s: ScheduleParams): number {
  if (step < 1) throw new Error(`learningRate: steps count from 1 (got ${step})`);
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  const minLr = s.lr * s.minLrRatio;
  const decaySteps = s.totalSteps - s.warmupSteps;
  if (decaySteps <= 0) return s.lr;
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
