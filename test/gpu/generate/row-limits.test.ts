// Per-row limits on new tokens: what a prompt may write is its own, whatever else is in its
// batch — a row capped at n gives the first n tokens it would give alone, and the other rows
// of the batch are unaffected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel, type Model } from '../../../src/engine/model.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import { randomWeights, tinyConfig } from './tiny-model.ts';

let ctx: GpuContext;
let model: Model;
const config = tinyConfig();
beforeAll(async () => {
  ctx = await createGpuContext();
  model = await createModel(ctx, config, randomWeights(config, 7, 0.3));
});
afterAll(() => {
  model?.destroy();
  ctx?.device.destroy();
});

describe('rowMaxNewTokens', () => {
  it('caps each row on its own; batched rows equal their runs alone', async () => {
    const gen = await createGenerator(model, { maxBatch: 3, maxSeq: config.maxSeqLen, reusePrefix: false });
    const prompts = [[1, 4, 2], [1], [1, 9, 9, 9]];
    const caps = [3, 9, 5];
    const batched = await gen.generate(prompts, { maxNewTokens: 9, rowMaxNewTokens: caps });
    expect(batched.map((r) => r.length)).toEqual(caps);
    for (let i = 0; i < prompts.length; i++) {
      const [alone] = await gen.generate([prompts[i]], { maxNewTokens: 9 });
      expect(batched[i]).toEqual(alone.slice(0, caps[i]));
    }
    await expect(gen.generate(prompts, { maxNewTokens: 4, rowMaxNewTokens: [1, 5, 1] })).rejects.toThrow(/rowMaxNewTokens\[1\] must be a whole number in 1\.\.maxNewTokens/);
    gen.destroy();
  });
});
