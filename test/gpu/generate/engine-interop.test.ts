// The generator runs on the training engine's own parameter buffer (model.params), with no
// copy: it generates from a model loaded into the engine, and follows the weights while
// the trainer updates them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import { parseLlama2c } from '../../../src/engine/weights/llama2c.ts';
import { Llama2cTokenizer } from '../../../src/data/tokenizer/llama2c.ts';
import { referenceGreedy } from './reference.ts';
import { randomWeights, tinyConfig } from './tiny-model.ts';
import { STORIES_DIR, haveStories, storiesGolden } from './stories.ts';

const DIR = STORIES_DIR;
const have = haveStories;
if (!have) console.warn(`SKIPPED stories260K engine-interop test: ${DIR} not found (../shared absent)`);

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

describe('generation from the training engine’s parameter buffer', () => {
  it.skipIf(!have)('stories260K loaded with createModel generates the golden text', async () => {
    const { config, tensors } = parseLlama2c(readFileSync(path.join(DIR, 'stories260K.bin')));
    const model = await createModel(ctx, config, tensors);
    const gen = await createGenerator(model, { maxBatch: 1, maxSeq: 64 });
    const [ids] = await gen.generate([[1]], { maxNewTokens: 60 });
    const tok = Llama2cTokenizer.fromBytes(readFileSync(path.join(DIR, 'tok512.bin')), 512);
    expect(tok.decode(ids, 1)).toBe(storiesGolden());
    gen.destroy();
    model.destroy();
  });

  it('follows the weights while the trainer updates them (no copy)', async () => {
    const config = tinyConfig();
    const model = await createModel(ctx, config, randomWeights(config, 31, 0.2));
    const gen = await createGenerator(model, { maxBatch: 2, maxSeq: 24 });
    const prompts = [[1, 10, 11], [1, 20]];
    const before = await gen.generate(prompts, { maxNewTokens: 8 });
    // Teach it one sequence: 1 10 11 12 … 19.
    const seq = [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const T = seq.length - 1;
    const trainer = new Trainer(model, { lr: 1e-2, warmupSteps: 0, totalSteps: 40, weightDecay: 0 }, { maxBatch: 1, maxSeqLen: T });
    const batch = { inputIds: Int32Array.from(seq.slice(0, T)), labels: Int32Array.from(seq.slice(1)), weights: new Float32Array(T).fill(1), batch: 1, seqLen: T };
    for (let s = 0; s < 40; s++) await trainer.step([batch]);
    await trainer.flush();
    gen.reset(); // the weights changed: drop the K/V cached from `before`
    const after = await gen.generate(prompts, { maxNewTokens: 8 });
    const trained = await model.readParams();
    for (let r = 0; r < prompts.length; r++) expect(after[r], `row ${r}`).toEqual(referenceGreedy(config, trained, prompts[r], 8));
    expect(after).not.toEqual(before);
    expect(after[0]).toEqual(seq.slice(3));
    trainer.destroy();
    gen.destroy();
    model.destroy();
  });
});
