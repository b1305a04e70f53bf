// Prefix reuse of the KV cache: multi-turn conversations (each prompt = the previous prompt
// + the generated turn + an observation) give exactly the tokens and logits of a generator
// that prefills everything, through rows finishing early on stop tokens, a batch that
// shrinks and reorders, shared and diverging prefixes, and sampling; after the weights
// change, reset() makes the output that of the new weights; the prefill counter shows the
// skipped work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel, type Model } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { createGenerator, type GenerateOptions, type Generator } from '../../../src/engine/generate/generator.ts';
import { Rng } from '../../../src/data/rng.ts';
import { referenceGreedy } from './reference.ts';
import { maxAbsDiff, randomWeights, tinyConfig } from './tiny-model.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const config = tinyConfig();
const NEW = 6;
const rng = new Rng(77);
const randomTokens = (n: number) => Array.from({ length: n }, () => 3 + rng.int(config.vocabSize - 3));
const START = [4, 2, 6, 3].map((n) => [1, ...randomTokens(n)]);

/** Runs the same call on both generators; asserts identical tokens and (with collect)
 *  bit-identical logits. */
async function same(reuse: Generator, fresh: Generator, prompts: number[][], opts: GenerateOptions, collect: boolean): Promise<number[][]> {
  if (!collect) {
    const a = await reuse.generate(prompts, opts);
    expect(a).toEqual(await fresh.generate(prompts, opts));
    return a;
  }
  const a = await reuse.generateDetailed(prompts, { ...opts, collectLogits: true });
  const b = await fresh.generateDetailed(prompts, { ...opts, collectLogits: true });
  expect(a.tokens).toEqual(b.tokens);
  let worst = 0;
  a.logits!.forEach((row, i) => row.forEach((l, s) => (worst = Math.max(worst, maxAbsDiff(l, b.logits![i][s])))));
  expect(worst, 'largest |logit difference|').toBe(0);
  return a.tokens;
}

/** Prefill slots the reuse generator should run for prompts that extend (prev prompt + new
 *  tokens) rows of a call with `decodeSteps` decode steps: every fed token is cached. */
function expectedPrefill(prev: number[][], out: number[][], next: number[][], decodeSteps: number): number {
  return next.reduce((n, p, i) => n + p.length - Math.min(prev[i].length + Math.min(out[i].length, decodeSteps), p.length - 1), 0);
}

for (const kernels of ['thread', 'workgroup'] as const) {
  for (const collect of [true, false]) {
    describe(`a multi-turn conversation, ${kernels} kernels, ${collect ? 'collecting logits' : 'tokens only'}`, () => {
      let model: Model;
      let reuse: Generator;
      let fresh: Generator;
      beforeAll(async () => {
        model = await createModel(ctx, config, randomWeights(config, 41));
        // different prefill chunking too: results must not depend on how slots are grouped
        reuse = await createGenerator(model, { maxBatch: 4, maxSeq: 64, kernels, prefillChunk: 5 });
        fresh = await createGenerator(model, { maxBatch: 4, maxSeq: 64, kernels, reusePrefix: false });
      });
      afterAll(() => {
        reuse?.destroy();
        fresh?.destroy();
        model?.destroy();
      });

      it('gives what a full prefill gives, turn after turn, with less prefill', async () => {
        // Stop tokens that end some rows early (chosen from a free run).
        const free = await fresh.generate(START, { maxNewTokens: NEW });
        const opts: GenerateOptions = { maxNewTokens: NEW, stopTokens: [...new Set([free[0][1], free[2][3]])] };
        const ep = START.map((p) => p.slice());

        // Turn 1: nothing cached.
        let out = await same(reuse, fresh, ep, opts, collect);
        const lengths = new Set(out.map((o) => o.length));
        expect(lengths.size, 'rows finish at different times').toBeGreaterThan(1);
        expect(reuse.stats.reusedTokens).toBe(0);

        // Turn 2: every episode extends its own prompt.
        let prev = ep.map((p) => p.slice());
        ep.forEach((p, i) => p.push(...out[i], ...randomTokens(2 + i)));
        let before = reuse.stats.prefilledTokens;
        const maxCount = Math.max(...out.map((o) => o.length));
        const out2 = await same(reuse, fresh, ep, opts, collect);
        // Decode steps run: with logits, one per token until every row is done; without,
        // all NEW − 1 in one submit (stepsPerSync 8 ≥ NEW).
        const steps = collect ? maxCount - 1 : NEW - 1;
        expect(reuse.stats.prefilledTokens - before).toBe(expectedPrefill(prev, out, ep, steps));
        expect(reuse.stats.prefilledTokens - before).toBeLessThan(ep.reduce((n, p) => n + p.length, 0) / 2);
        out = out2;

        // Turn 3: two episodes are done; the others come in reverse order (episode 3's cache
        // row is outside the new batch's rows 0..1 and is copied in).
        prev = ep.map((p) => p.slice());
        ep.forEach((p, i) => p.push(...out[i], ...randomTokens(3)));
        const copiesBefore = reuse.stats.prefixCopies;
        before = reuse.stats.prefilledTokens;
        const out3 = await same(reuse, fresh, [ep[3], ep[1]], opts, collect);
        expect(reuse.stats.prefixCopies - copiesBefore).toBeGreaterThanOrEqual(1);
        expect(reuse.stats.prefilledTokens - before).toBeLessThanOrEqual(2 * 4);

        // Turn 4: episode 1 continues twice with different observations (one cached prefix,
        // two rows), episode 3 diverges halfway through its history, and a new prompt starts.
        const e1 = [...ep[1], ...out3[1]];
        const diverged = [...ep[3].slice(0, Math.floor(ep[3].length / 2)), ...randomTokens(4)];
        const turn4 = [[...e1, 5, 6], [...e1, 7], diverged, [1, 9, 9]];
        before = reuse.stats.prefilledTokens;
        await same(reuse, fresh, turn4, opts, collect);
        const full = turn4.reduce((n, p) => n + p.length, 0);
        expect(reuse.stats.prefilledTokens - before).toBeLessThan(full - e1.length);

        // Turn 5: sampling, two prompts again and one longer, in rows 2, 1, 0 (turn 4 ran
        // them in rows 1, 2, 0): the seeded random numbers follow the prompts, not the rows.
        const sample = { ...opts, temperature: 1, seed: 5 };
        const turn5 = [turn4[1], [...turn4[0], 8], turn4[2]];
        await same(reuse, fresh, turn5, sample, collect);
        expect(reuse.stats.reusedTokens).toBeGreaterThan(fresh.stats.prefilledTokens / 2);
        expect(fresh.stats.reusedTokens).toBe(0);
      });
    });
  }
}

describe('after the weights change, reset() drops the stale cache', () => {
  const history = (gen: Generator, prompts: number[][]) =>
    gen.generate(prompts, { maxNewTokens: NEW }).then((out) => prompts.map((p, i) => [...p, ...out[i], 3, 4]));

  it('new weights written into the parameter buffer', async () => {
    const w1 = randomWeights(config, 51);
    const w2 = randomWeights(config, 52);
    const model = await createModel(ctx, config, w1);
    const gen = await createGenerator(model, { maxBatch: 2, maxSeq: 64 });
    const stale = await createGenerator(model, { maxBatch: 2, maxSeq: 64 });
    const prompts = await history(gen, START.slice(0, 2));
    await history(stale, START.slice(0, 2));
    await gen.generate(prompts, { maxNewTokens: NEW }); // the cache now holds these prompts
    await stale.generate(prompts, { maxNewTokens: NEW });
    model.writeParams(w2);
    gen.reset();
    const next = prompts.map((p) => [...p, 9]);
    const before = gen.stats.prefilledTokens;
    const out = await gen.generateDetailed(next, { maxNewTokens: NEW, collectLogits: true });
    expect(gen.stats.prefilledTokens - before, 'everything prefilled again').toBe(next[0].length + next[1].length);
    next.forEach((p, i) => expect(out.tokens[i], `row ${i}`).toEqual(referenceGreedy(config, w2, p, NEW)));
    // Without reset() the old weights' K/V would be used: the test is not vacuous.
    const old = await stale.generateDetailed(next, { maxNewTokens: NEW, collectLogits: true });
    expect(maxAbsDiff(old.logits![0][0], out.logits![0][0])).toBeGreaterThan(1e-3);
    gen.destroy();
    stale.destroy();
    model.destroy();
  });

  it('a training step on the model the generator reads (as the experiment runner does)', async () => {
    const model = await createModel(ctx, config, randomWeights(config, 61, 0.2));
    const gen = await createGenerator(model, { maxBatch: 2, maxSeq: 64 });
    const prompts = await history(gen, START.slice(1, 3));
    const seq = [1, 10, 11, 12, 13, 14, 15, 16];
    const T = seq.length - 1;
    const trainer = new Trainer(model, { lr: 3e-2, warmupSteps: 0, totalSteps: 2, weightDecay: 0 }, { maxBatch: 1, maxSeqLen: T });
    const batch = { inputIds: Int32Array.from(seq.slice(0, T)), labels: Int32Array.from(seq.slice(1)), weights: new Float32Array(T).fill(1), batch: 1, seqLen: T };
    await trainer.step([batch]);
    await trainer.flush();
    gen.reset();
    const fresh = await createGenerator(model, { maxBatch: 2, maxSeq: 64 });
    const opts = { maxNewTokens: NEW, collectLogits: true };
    const a = await gen.generateDetailed(prompts, opts);
    const b = await fresh.generateDetailed(prompts, opts);
    expect(a.tokens).toEqual(b.tokens);
    a.logits!.forEach((row, i) => row.forEach((l, s) => expect(maxAbsDiff(l, b.logits![i][s])).toBe(0)));
    const trained = await model.readParams();
    prompts.forEach((p, i) => expect(a.tokens[i]).toEqual(referenceGreedy(config, trained, p, NEW)));
    trainer.destroy();
    fresh.destroy();
    gen.destroy();
    model.destroy();
  });
});
