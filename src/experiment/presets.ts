// The named experiments the playground offers and `atlas experiment` defaults to. One
// definition for both, so the CLI twin of a preset is the same run. Pure data.
import { ARMS, DEFAULT_BUDGET } from '../data/arms.ts';
import type { DataSource, ExperimentConfig, Hyperparameters } from './protocol.ts';

export type ExperimentPresetName = 'quick-demo' | 'paper-arms' | 'byod';
export const EXPERIMENT_PRESET_NAMES: readonly ExperimentPresetName[] = ['quick-demo', 'paper-arms', 'byod'];

// Sequence length 512: the built-in instructions alone take 220–340 tokens of the default tokenizer.
const baseHyper: Hyperparameters = { steps: 150, batchSize: 4, seqLen: 512, lr: 2e-3, warmupSteps: 10, minLrRatio: 0.1, weightDecay: 0.01, gradClip: 1, accumSteps: 1 };

// The Quick demo's size, shared by Bring your own data: the 45k-parameter "tiny" model,
// 120 steps of 2 × 512 tokens, held-out evaluation every 30 steps with 8 next-action queries.
// A function: callers edit the configs they get (the link, the Train step's fields).
const small = () => ({
  model: { kind: 'preset', name: 'tiny' } as const,
  hyper: { ...baseHyper, steps: 120, batchSize: 2, lr: 5e-3 },
  evalEvery: 30,
  rolloutEvery: 0,
  nextActionQueries: 8,
});

const builtin = (envs: string[], trainEpisodes: number, heldOutEpisodes: number): DataSource => ({ kind: 'builtin', envs, trainEpisodes, heldOutEpisodes, seed: 1, mistakeRate: 0.15 });

export function experimentPreset(name: ExperimentPresetName, datasetId?: string): ExperimentConfig {
  const common = { model: { kind: 'preset', name: 'default' } as const, budget: DEFAULT_BUDGET, seed: 1, selector: 'heuristic' };
  switch (name) {
    // Sized to finish in about two minutes on the slowest WebGPU there is — SwiftShader on two
    // CPU cores (docs/playground.md has the measurement, `atlas bench --quick-demo` repeats it),
    // so any laptop GPU finishes sooner. The 45k-parameter "tiny" model learns the lesson the
    // demo is about (held-out loss on critical turns vs on all turns) within 120 steps; it is
    // far too small to act well, and the rollouts at the end say so honestly.
    case 'quick-demo':
      return {
        ...common,
        name: 'Quick demo: critical vs full',
        arms: ['critical', 'full'],
        ...small(),
        data: builtin(['household', 'grid'], 32, 4),
        rolloutEpisodes: 2,
        rolloutMaxSteps: 16,
      };
    case 'paper-arms':
      return {
        ...common,
        name: 'Paper arms: all five',
        arms: [...ARMS],
        data: builtin(['household', 'grid', 'crafting'], 64, 16),
        hyper: { ...baseHyper, steps: 400, warmupSteps: 20 },
        evalEvery: 50,
        rolloutEvery: 100,
        rolloutEpisodes: 16,
      };
    // Sized like the Quick demo so it runs on any WebGPU, SwiftShader included; a bigger model
    // is a choice in the Train step and needs a real GPU. No rollouts: an imported dataset has no environment to act in.
    case 'byod':
      return {
        ...common,
        name: 'Your data: critical vs full',
        arms: ['critical', 'full'],
        ...small(),
        data: { kind: 'dataset', datasetId: datasetId ?? '' },
        rolloutEpisodes: 0,
      };
  }
}
