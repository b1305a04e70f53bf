// KV-cache generation vs an independent CPU forward (reference.ts, full recomputation
// each step): batched ragged prompts, chunked prefill, stop tokens, live parameter buffer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel, type Model } from '../../../src/engine/model.ts';
import { createGenerator, type Generator } from '../../../src/engine/generate/generator.ts';
import { referenceGreedy, referenceLogits } from './reference.ts';
import { maxAbsDiff, randomWeights, tinyConfig } from './tiny-model.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const PROMPTS = [[1, 5, 9], [1], [1, 2, 3, 4, 5, 6, 7], [3, 3]];
const NEW = 10;

// The last two shapes are deliberately awkward: headDim ≠ dModel / nHeads (Qwen3-style),
// a single kv head (MQA), a head size that is no power of two, and vocabulary / hidden
// sizes that are not either (multiples of 4: the engine's kernels read vec4s).
const ODD = { vocabSize: 52, dModel: 24, nHeads: 4, nKvHeads: 1, headDim: 12, hiddenDim: 44 };
const CASES = [
  { tied: false, kernels: 'workgroup', shape: {}, label: 'GQA' },
  { tied: true, kernels: 'workgroup', shape: {}, label: 'GQA' },
  { tied: false, kernels: 'thread', shape: {}, label: 'GQA' },
  { tied: true, kernels: 'thread', shape: {}, label: 'GQA' },
  { tied: true, kernels: 'workgroup', shape: ODD, label: 'odd-shaped MQA' },
  { tied: false, kernels: 'thread', shape: ODD, label: 'odd-shaped MQA' },
] as const;

for (const { tied, kernels, shape, label } of CASES) {
  describe(`tiny ${tied ? 'tied' : 'untied'} ${label} model, ${kernels} kernels`, () => {
    const config = tinyConfig({ tiedEmbeddings: tied, ...shape });
    const weights = randomWeights(config, tied ? 11 : 12);
    let gen: Generator;
    let model: Model;
    beforeAll(async () => {
      model = await createModel(ctx, config, weights);
      gen = await createGenerator(model, { maxBatch: 4, maxSeq: 32, kernels });
    });
    afterAll(() => {
      gen?.destroy();
      model?.destroy();
    });

    it('greedy batched ragged prompts = each prompt alone = CPU reference', async () => {
      const batched = await gen.generate(PROMPTS, { maxNewTokens: NEW });
      for (let r = 0; r < PROMPTS.length; r++) {
        const [alone] = await gen.generate([PROMPTS[r]], { maxNewTokens: NEW });
        expect(batched[r], `row ${r}`).toEqual(alone);
        expect(alone, `row ${r} vs reference`).toEqual(referenceGreedy(config, weights, PROMPTS[r], NEW));
      }
      // the rows really differ, so the comparison is not vacuous
      expect(new Set(batched.map((t) => t.join(','))).size).toBe(PROMPTS.length);
    });

    it('logits at every decode step match a full forward recomputation within 1e-4', async () => {
      const { tokens, logits } = await gen.generateDetailed(PROMPTS, { maxNewTokens: 6, collectLogits: true });
      let worst = 0;
      for (let r = 0; r < PROMPTS.length; r++) {
        expect(logits![r].length).toBe(6);
        const seq = [...PROMPTS[r], ...tokens[r]];
        const ref = referenceLogits(config, weights, seq);
        for (let s = 0; s < 6; s++) {
          const want = ref[PROMPTS[r].length - 1 + s];
          const d = maxAbsDiff(logits![r][s], want);
          worst = Math.max(worst, d);
          expect(d, `row ${r} step ${s}`).toBeLessThan(1e-4);
        }
      }
      console.log(`tiny ${tied ? 'tied' : 'untied'} ${label} ${kernels}: worst |logit − reference| = ${worst.toExponential(2)}`);
    });

    it('a prefill split into small chunks gives the same result', async () => {
      const chunked = await createGenerator(model, { maxBatch: 4, maxSeq: 32, prefillChunk: 3, stepsPerSync: 3, kernels });
      const a = await gen.generateDetailed(PROMPTS, { maxNewTokens: 4, collectLogits: true });
      const b = await chunked.generateDetailed(PROMPTS, { maxNewTokens: 4, collectLogits: true });
      expect(b.tokens).toEqual(a.tokens);
      for (let r = 0; r < PROMPTS.length; r++) for (let s = 0; s < 4; s++) expect(maxAbsDiff(a.logits![r][s], b.logits![r][s])).toBeLessThan(1e-6);
      expect(await chunked.generate(PROMPTS, { maxNewTokens: NEW })).toEqual(await gen.generate(PROMPTS, { maxNewTokens: NEW }));
      chunked.destroy();
    });

    it('stop tokens end a row (token included); other rows go on', async () => {
      const free = await gen.generate(PROMPTS, { maxNewTokens: NEW });
      const stop = free[0][3];
      const stopped = await gen.generate(PROMPTS, { maxNewTokens: NEW, stopTokens: [stop] });
      free.forEach((row, r) => {
        const at = row.indexOf(stop);
        expect(stopped[r], `row ${r}`).toEqual(at >= 0 ? row.slice(0, at + 1) : row);
      });
      expect(stopped[0].length).toBeLessThanOrEqual(4);
      expect(stopped.some((row) => row.length === NEW)).toBe(true);
    });
  });
}

describe('the generator reads the live parameter buffer', () => {
  it('after new weights are written into the same buffer, generation follows them', async () => {
    const config = tinyConfig();
    const w1 = randomWeights(config, 21);
    const w2 = randomWeights(config, 22);
    const model = await createModel(ctx, config, w1);
    const gen = await createGenerator(model, { maxBatch: 1, maxSeq: 16 });
    const a = await gen.generate([[1, 7]], { maxNewTokens: 8 });
    expect(a[0]).toEqual(referenceGreedy(config, w1, [1, 7], 8));
    model.writeParams(w2);
    gen.reset(); // the cached K/V of [1, 7] were computed with w1
    const b = await gen.generate([[1, 7]], { maxNewTokens: 8 });
    expect(b[0]).toEqual(referenceGreedy(config, w2, [1, 7], 8));
    expect(b[0]).not.toEqual(a[0]);
    gen.destroy();
    model.destroy();
  });
});

describe('bad requests give clear errors', () => {
  const config = tinyConfig();
  let gen: Generator;
  let model: Model;
  beforeAll(async () => {
    model = await createModel(ctx, config, randomWeights(config, 1));
    gen = await createGenerator(model, { maxBatch: 2, maxSeq: 8 });
  });
  afterAll(() => {
    gen?.destroy();
    model?.destroy();
  });
  it('names the problem', async () => {
    await expect(gen.generate([[1, 2, 3]], { maxNewTokens: 6 })).rejects.toThrow(/prompt 0 has 3 tokens \+ 6 new > maxSeq 8/);
    await expect(gen.generate([[1], [1, 64]], { maxNewTokens: 2 })).rejects.toThrow(/prompt 1 token 1 is 64, outside the vocabulary \(0\.\.63\)/);
    await expect(gen.generate([[]], { maxNewTokens: 2 })).rejects.toThrow(/prompt 0 is empty/);
    await expect(gen.generate([[1], [1], [1]], { maxNewTokens: 2 })).rejects.toThrow(/3 prompts; this generator takes 1\.\.2/);
    await expect(gen.generate([[1]], { maxNewTokens: 2, temperature: -1 })).rejects.toThrow(/temperature must be ≥ 0/);
    await expect(gen.generate([[1]], { maxNewTokens: 2, stopTokens: [99] })).rejects.toThrow(/stop token 99 is outside the vocabulary/);
    // still usable after errors
    expect((await gen.generate([[1]], { maxNewTokens: 3 }))[0]).toHaveLength(3);
    expect(await gen.generate([[1]], { maxNewTokens: 0 })).toEqual([[]]);
  });
  it('refuses a cache longer than the model context, or a batch or cache of no length', async () => {
    await expect(createGenerator(model, { maxBatch: 1, maxSeq: 65 })).rejects.toThrow(/maxSeq 65 exceeds the model's context \(64\)/);
    const long = tinyConfig({ maxSeqLen: 16384 });
    const longModel = await createModel(ctx, long, randomWeights(long, 1));
    const limit = ctx.limits.maxComputeWorkgroupStorageSize;
    const tooLong = Math.floor(limit / 4) + 1;
    await expect(createGenerator(longModel, { maxBatch: 1, maxSeq: tooLong, kernels: 'workgroup' })).rejects.toThrow(/with 'workgroup' kernels, maxSeq \d+ needs \d+ bytes of workgroup memory .*use kernels: 'thread'/);
    const threadGen = await createGenerator(longModel, { maxBatch: 1, maxSeq: tooLong, kernels: 'thread' });
    expect((await threadGen.generate([[1]], { maxNewTokens: 2 }))[0]).toHaveLength(2);
    threadGen.destroy();
    longModel.destroy();
    await expect(createGenerator(model, { maxBatch: 0, maxSeq: 8 })).rejects.toThrow(/maxBatch must be a positive integer \(got 0\)/);
    await expect(createGenerator(model, { maxBatch: 1, maxSeq: 1 })).rejects.toThrow(/maxSeq must be an integer ≥ 2 \(got 1\)/);
  });
});
