// Proof 7 (engine part): bad inputs give clear errors before anything is dispatched.
import { beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { Workspace } from '../../../src/engine/workspace.ts';
import { gpuResources } from '../../../src/engine/gpu/resources.ts';
import { batchFromRows } from '../../../src/engine/batch.ts';
import { PRESETS } from '../../../models/presets.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

const config = PRESETS.test.config;

describe('clear errors for bad inputs', () => {
  it('rejects token ids and labels outside the vocabulary, and ragged rows', async () => {
    const model = await createModel(ctx, config, { seed: 1 });
    const trainer = new Trainer(model, {}, { maxBatch: 2, maxSeqLen: 8 });
    const good = batchFromRows({ input_ids: [[1, 2, 3, 4]], labels: [[2, 3, 4, 5]] });
    const before = await trainer.forwardLoss(good);
    await expect(trainer.step([{ ...good, inputIds: Int32Array.from([1, 2, 99, 4]) }])).rejects.toThrow(/input id 99 at row 0, position 2 is outside the vocabulary \[0, 64\)/);
    await expect(trainer.forwardLoss({ ...good, labels: Int32Array.from([1, 2, 3, 64]) })).rejects.toThrow(/label 64 at row 0, position 3/);
    await expect(trainer.gradients({ ...good, inputIds: Int32Array.from([1, -2, 3, 4]) })).rejects.toThrow(/input id -2/);
    expect(() => batchFromRows({ input_ids: [[1, 2, 3], [1, 2]], labels: [[1, 2, 3], [1, 2]] })).toThrow(/row 1 has 2 tokens, row 0 of input_ids has 3/);
    await expect(trainer.step([{ ...good, batch: 2 }])).rejects.toThrow(/inputIds has 4 values, expected batch×seqLen = 2×4 = 8/);
    await expect(trainer.step([batchFromRows({ input_ids: [Array(9).fill(1)], labels: [Array(9).fill(1)] })])).rejects.toThrow(/seqLen 9 exceeds the workspace's maxSeqLen 8/);
    // nothing was trained by the rejected calls
    expect(trainer.stepCount).toBe(0);
    expect((await trainer.forwardLoss(good)).loss).toBe(before.loss);
    trainer.destroy();
    model.destroy();
  });

  it('rejects configs the engine does not support', async () => {
    await expect(createModel(ctx, { ...config, dModel: 30, headDim: 10, nHeads: 3, nKvHeads: 3 }, { seed: 1 })).rejects.toThrow(/dModel \(30\) must be a multiple of 4/);
    await expect(createModel(ctx, { ...config, nKvHeads: 3 }, { seed: 1 })).rejects.toThrow(/nHeads \(4\) must be a multiple of nKvHeads \(3\)/);
    await expect(createModel(ctx, config, new Map([['model.embed_tokens.weight', new Float32Array(10)]]))).rejects.toThrow(/has 10 values/);
    expect(() => new Trainer({} as never, { lr: -1 })).toThrow(/Invalid training hyperparameters: lr -1/);
  });

  it('reports a WGSL kernel that fails to compile by name', async () => {
    const res = gpuResources(ctx);
    await res.checkCompiled();
    res.pipeline({ name: 'deliberately_broken', uniforms: [], code: '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }' });
    await expect(res.checkCompiled()).rejects.toThrow(/WGSL kernel deliberately_broken failed to compile/);
    await expect(res.checkCompiled()).resolves.toBeUndefined();
  });

  it('rejects a model or workspace that does not fit the adapter limits', async () => {
    const max = ctx.limits.maxStorageBufferBindingSize;
    const vocab = Math.ceil(max / 4 / 256 / 4) * 4 + 4; // embedding alone exceeds one binding
    await expect(createModel(ctx, { ...config, vocabSize: vocab, dModel: 256, headDim: 64 }, { seed: 1 })).rejects.toThrow(/Model does not fit this GPU: .* parameters need .* above this adapter's limit/);
    expect(() => new Workspace(gpuResources(ctx), { maxBatch: 100_000, maxSeqLen: 32, configs: [config] })).toThrow(/Model does not fit this GPU: activation "\w+" needs .* per layer at batch 100000 × 32 tokens/);
  });
});
