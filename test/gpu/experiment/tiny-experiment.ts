// The runner tests' configuration: the tiny preset on three grid demonstrations, a few steps,
// no evaluation unless a test asks for it. Plumbing, not learning curves.
import type { ExperimentConfig } from '../../../src/experiment/protocol.ts';

export function tinyExperimentConfig(over: Partial<ExperimentConfig> = {}, lr = 1e-2): ExperimentConfig {
  return {
    name: 'test',
    arms: ['critical', 'full'],
    model: { kind: 'preset', name: 'tiny' },
    data: { kind: 'builtin', envs: ['grid'], trainEpisodes: 3, heldOutEpisodes: 1, seed: 3, mistakeRate: 0.15 },
    hyper: { steps: 4, batchSize: 2, seqLen: 512, lr, warmupSteps: 0, minLrRatio: 1, weightDecay: 0, gradClip: 1, accumSteps: 1 },
    selector: 'ground-truth',
    budget: 0.3,
    seed: 1,
    evalEvery: 0,
    rolloutEvery: 0,
    rolloutEpisodes: 0,
    nextActionQueries: 2,
    maxTurnTokens: 6,
    ...over,
  };
}
