// The named experiments the playground offers and `atlas experiment` defaults to. One
// definition for both, so the CLI twin of a preset is the same run. Pure data.
import { ARMS, DEFAULT_BUDGET } from '../data/arms.ts';
import type { DataSource, ExperimentConfig, Hyperparameters } from './protocol.ts';

export type ExperimentPresetName = 'quick-demo' | 'paper-arms' | 'byod';
export const EXPERIMENT_PRESET_NAMES: readonly ExperimentPresetName[] = ['quick-demo', 'paper-arms', 'byod'];

// Sequence length 512: the built-in instructions alone take 220–340 tokens of the default tokenizer.
// Fine-tuning from the base agent (docs/base-agent.md): peak lr 1e-3, a third of the base's
// pretraining peak (3e-3), warmed up and decayed to a tenth as in pretraining.
const baseHyper: Hyperparameters = { steps: 150, batchSize: 4, seqLen: 512, lr: 1e-3, warmupSteps: 10, minLrRatio: 0.1, weightDecay: 0.01, gradClip: 1, accumSteps: 1 };

// The Quick demo's size, shared by Bring your own data: the shipped base agent, batches of
// 2 × 512 tokens, held-out evaluation and rollouts every 10 steps so success lines move.
// A function: callers edit the configs they get (the link, the Train step's fields).
const small = () => ({
  model: { kind: 'preset', name: 'base' } as const,
  hyper: { ...baseHyper, steps: 60, batchSize: 2, warmupSteps: 3 },
  evalEvery: 10,
  rolloutEvery: 10,
  nextActionQueries: 8,
});

const builtin = (envs: string[], trainEpisodes: number, heldOutEpisodes: number): DataSource => ({ kind: 'builtin', envs, trainEpisodes, heldOutEpisodes, seed: 1, mistakeRate: 0.15 });

export function experimentPreset(name: ExperimentPresetName, datasetId?: string): ExperimentConfig {
  const common = { model: { kind: 'preset', name: 'base' } as const, budget: DEFAULT_BUDGET, seed: 1, selector: 'heuristic' };
  switch (name) {
    // Two minutes of wall-clock time, training and evaluation together, on whatever adapter
    // the page finds (the runner measures and says how many steps fit; at most 60). From the
    // base agent, so success moves: the base already acts, the arms fine-tune on expert
    // demonstrations. `atlas bench --quick-demo` measures it (docs/playground.md).
    case 'quick-demo':
      return {
        ...common,
        name: 'Quick demo: critical vs full',
        arms: ['critical', 'full'],
        ...small(),
        data: builtin(['household', 'grid'], 32, 4),
        // Rollouts every 20 steps, 12 turns at most: a rollout of a base that does not finish
        // runs to its cap, and at every 10 steps with 20 turns the evaluations took the whole
        // budget on SwiftShader (3 training steps in 197 s under load, atlas bench --quick-demo).
        rolloutEvery: 20,
        rolloutEpisodes: 2,
        rolloutMaxSteps: 12,
        timeBudgetSeconds: 120,
      };
    // The paper's five arms from the base agent. Sized so that `atlas experiment --preset
    // paper-arms --seeds 3` (the report in docs/report.md) ends within two hours on a
    // SwiftShader CPU adapter with two cores; a GPU runs it in minutes.
    case 'paper-arms':
      return {
        ...common,
        name: 'Paper arms: all five',
        arms: [...ARMS],
        data: builtin(['household', 'grid', 'crafting'], 64, 8),
        hyper: { ...baseHyper, steps: 40, warmupSteps: 4 },
        evalEvery: 20,
        rolloutEvery: 40,
        rolloutEpisodes: 4,
        rolloutMaxSteps: 20,
        nextActionQueries: 16,
      };
    // Sized like the Quick demo, without a clock (no rollouts to time: an imported dataset
    // has no environment to act in) and without rollouts.
    case 'byod':
      return {
        ...common,
        name: 'Your data: critical vs full',
        arms: ['critical', 'full'],
        ...small(),
        rolloutEvery: 0,
        data: { kind: 'dataset', datasetId: datasetId ?? '' },
        rolloutEpisodes: 0,
      };
  }
}
