// Per-step loss (highest-loss arm) against an independent route: the engine's weighted loss
// with ONLY step k supervised is, by definition, the mean CE over step k's agent tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { buildTrainingExamples, packBatches } from '../../../src/data/masks.ts';
import { renderTrajectory } from '../../../src/data/render.ts';
import { presetModel } from '../../../src/experiment/model-source.ts';
import { bundledModelNode } from '../../../src/cli/model-arg.ts';
import { perStepLoss } from '../../../src/experiment/per-step-loss.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

describe('perStepLoss', () => {
  it('equals the masked loss with only that step supervised', async () => {
    const { model, tokenizer } = await presetModel('tiny', bundledModelNode);
    const T = 512;
    // A short trajectory that fits one window, so both routes see the same history for every step.
    const t: Trajectory = {
      version: 1,
      id: 'short',
      source: { format: 'test' },
      instruction: 'Your task is to: put a clean mug on the desk.',
      steps: [
        { agent: 'Thought: First I find a mug, clean it, then put it on the desk.\nAction: go to countertop 1', observation: 'On the countertop 1, you see a mug 1.' },
        { agent: 'Thought: There is the mug.\nAction: take mug 1 from countertop 1', observation: 'You pick up the mug 1 from the countertop 1.' },
        { agent: 'Action: go to sinkbasin 1', observation: 'On the sinkbasin 1, you see nothing.' },
        { agent: 'Action: clean mug 1 with sinkbasin 1', observation: 'You clean the mug 1 using the sinkbasin 1.' },
      ],
      selections: [],
    };
    expect(renderTrajectory(t, tokenizer).ids.length).toBeLessThanOrEqual(T + 1);
    const gpu = await createModel(ctx, model.config, { seed: 5 });
    const trainer = new Trainer(gpu, {}, { maxBatch: 2, maxSeqLen: T });
    const losses = (await perStepLoss(trainer, [t], tokenizer, T, 2))[t.id];
    expect(losses).toHaveLength(t.steps.length);
    for (const k of [0, Math.floor(t.steps.length / 2), t.steps.length - 1]) {
      const only: Trajectory = { ...t, selections: [{ selector: 'only', createdAt: '', status: 'labelled', critical: [{ step: k }] }], activeSelection: 'only' };
      const { examples } = buildTrainingExamples([only], { arm: 'critical', tokenizer, contextLength: T });
      expect(examples).toHaveLength(1);
      const [batch] = packBatches(examples, { batchSize: 2, seqLen: T, padId: tokenizer.padId });
      const direct = await trainer.forwardLoss(batch);
      expect(Math.abs(losses[k] - direct.loss) / direct.loss).toBeLessThan(1e-5);
    }
    // A freshly initialised model has no reason to find every step equally hard.
    expect(new Set(losses.map((x) => x.toFixed(3))).size).toBeGreaterThan(1);
    trainer.destroy();
    gpu.destroy();
  });
});
