// 16-bit frozen weights (issue 13 item 2): a frozen model whose matrices are stored as packed
// f16 (or bf16) pairs, unpacked in the kernels with WGSL's core unpack2x16float (SwiftShader
// has no shader-f16), computes what the same model computes with those rounded values stored
// as f32 — loss, LoRA gradients, generation — and stays within 1e-3 of the f32 original's
// loss; its parameter buffer is about half as large; a trainable model refuses it. A frozen
// model larger than a (lowered) buffer limit spans several buffers and computes bit for bit
// what the single-buffer model computes (with unfused projections: a cut inside q/k/v unfuses
// them, which changes the backward pass's summation order only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel, type Model } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { createAdapter, initLora, type LoraSpec } from '../../../src/engine/lora.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import { roundToHalf, type HalfFormat } from '../../../src/engine/half.ts';
import { buildParamLayout, type NamedTensors } from '../../../src/engine/params.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { MatmulVariant } from '../../../src/engine/kernels/matmul.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import { GpuMemoryError } from '../../../src/engine/gpu/resources.ts';
import { Rng } from '../../../src/data/rng.ts';
import { randomBatch, randomWeights, tinyConfig } from '../generate/tiny-model.ts';
import { relErr } from './fixtures.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const SPEC: LoraSpec = { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] };
/** Qwen2-shaped (q/k/v biases, tied head) with an odd vocabulary, and an untied Llama. */
const QWEN = tinyConfig({ vocabSize: 53, qkvBias: true, ropeTheta: 1e6, tiedEmbeddings: true });
const LLAMA = tinyConfig({ vocabSize: 61 });


/** The weights with every matrix rounded to `format` (norms and biases as they are): what a
 *  16-bit model holds, as f32. */
function rounded(c: LlamaConfig, w: NamedTensors, format: HalfFormat): NamedTensors {
  const layout = buildParamLayout(c, format);
  return new Map([...w].map(([n, t]) => [n, layout.byName.get(n)!.format === 'f32' ? t : roundToHalf(t, format)]));
}

/** An adapter with non-zero B (as after training), so every LoRA path carries signal. */
function trainedAdapter(c: LlamaConfig, seed: number): NamedTensors {
  const t = initLora(c, SPEC, seed);
  const rng = new Rng(seed + 100);
  for (const [n, v] of t) if (n.endsWith('lora_B.weight')) for (let i = 0; i < v.length; i++) v[i] = 0.2 * (2 * rng.next() - 1);
  return t;
}

/** Loss, per-token losses and adapter gradients of `model` under the adapter `lora`. */
async function lossAndGrads(model: Model, lora: NamedTensors, batch: TokenBatch, matmul?: MatmulVariant, fuseProjections?: boolean) {
  const adapter = createAdapter(model, SPEC, lora);
  const trainer = new Trainer(model, {}, { maxBatch: batch.batch, maxSeqLen: batch.seqLen, adapter, matmul, fuseProjections, attention: 'stored' });
  const ev = await trainer.forwardLoss(batch);
  const { grads } = await trainer.gradients(batch);
  trainer.destroy();
  adapter.destroy();
  return { loss: ev.loss, tokenLoss: ev.tokenLoss, grads };
}

const paramBytes = (m: Model) => m.buffers.reduce((a, b) => a + b.size, 0);

describe('16-bit base weights compute what their rounded values compute in f32', () => {
  const CASES: Array<{ label: string; config: LlamaConfig; format: HalfFormat; matmul?: MatmulVariant; fuse?: boolean }> = [
    { label: 'Qwen2-shaped, vocabulary 53, tied', config: QWEN, format: 'f16' },
    { label: 'Qwen2-shaped, vocabulary 53, tied', config: QWEN, format: 'f16', matmul: 'shared' },
    { label: 'Llama, vocabulary 61, untied', config: LLAMA, format: 'f16', matmul: 'register', fuse: false },
    { label: 'Llama, vocabulary 61, untied', config: LLAMA, format: 'bf16', matmul: 'shared' },
  ];
  for (const { label, config, format, matmul, fuse } of CASES) {
    it(`${label}: ${format}, ${matmul ?? 'default'} matmul${fuse === false ? ', unfused projections' : ''}`, async () => {
      const weights = randomWeights(config, 31, 0.3);
      const lora = trainedAdapter(config, 8);
      const batch = randomBatch(5, 2, 12, config.vocabSize);
      const half = await createModel(ctx, config, weights, { frozen: true, weights: format });
      expect(half.weightFormat).toBe(format);
      const asF32 = await createModel(ctx, config, rounded(config, weights, format), { frozen: true });
      const orig = await createModel(ctx, config, weights, { frozen: true });
      const [h, r, o] = [await lossAndGrads(half, lora, batch, matmul, fuse), await lossAndGrads(asF32, lora, batch, matmul, fuse), await lossAndGrads(orig, lora, batch, matmul, fuse)];

      // same values, same f32 arithmetic
      const sameMath = Math.abs(h.loss - r.loss) / r.loss;
      let tokenWorst = 0;
      for (let i = 0; i < h.tokenLoss.length; i++) tokenWorst = Math.max(tokenWorst, Math.abs(h.tokenLoss[i] - r.tokenLoss[i]));
      const gradWorst = Math.max(...[...r.grads].map(([n, g]) => relErr(h.grads.get(n)!, g)));
      // against the unrounded f32 weights
      const vsF32 = Math.abs(h.loss - o.loss) / o.loss;
      console.log(`${label} ${format} ${matmul ?? 'default'}: loss ${h.loss} (rounded f32 ${r.loss}, original f32 ${o.loss}); |Δ| vs rounded ${sameMath.toExponential(2)} (bit-identical: ${h.loss === r.loss}), per-token ${tokenWorst.toExponential(2)}, adapter grads ${gradWorst.toExponential(2)}; vs original ${vsF32.toExponential(2)}`);
      expect(sameMath).toBeLessThanOrEqual(1e-6);
      expect(tokenWorst).toBeLessThanOrEqual(1e-5);
      expect(gradWorst).toBeLessThanOrEqual(1e-5);
      expect(vsF32).toBeLessThanOrEqual(1e-3);
      // the weights really were rounded: the loss moved a little
      expect(vsF32).toBeGreaterThan(0);
      // readParams returns f32 tensors: the rounded matrices, the exact norms and biases
      const back = await half.readParams();
      for (const [n, t] of rounded(config, weights, format)) expect(bits(back.get(n)!), n).toEqual(bits(t));
      for (const m of [half, asF32, orig]) m.destroy();
    });
  }
});

describe('16-bit base weights in generation', () => {
  it('the generator’s logits over an f16 base with an adapter are the trainer’s forward pass’s', async () => {
    const config = QWEN;
    const base = await createModel(ctx, config, randomWeights(config, 41, 0.3), { frozen: true, weights: 'f16' });
    const adapter = createAdapter(base, SPEC, trainedAdapter(config, 9));
    const prompts = [[1, 5, 9], [1, 2, 3, 4, 5, 6], [7]];
    const T = 12;
    const gen = await createGenerator(base, { maxBatch: 3, maxSeq: T, adapter, prefillChunk: 4 });
    const rowMax = prompts.map((p) => T - p.length);
    const out = await gen.generateDetailed(prompts, { maxNewTokens: Math.max(...rowMax), rowMaxNewTokens: rowMax, collectLogits: true });
    const ids = Int32Array.from(prompts.flatMap((p, r) => [...p, ...out.tokens[r]]));
    const batch = { inputIds: ids, labels: new Int32Array(ids.length).fill(-100), weights: new Float32Array(ids.length), batch: 3, seqLen: T };
    const trainer = new Trainer(base, {}, { maxBatch: 3, maxSeqLen: T, attention: 'stored', adapter });
    const logits = await trainer.logits(batch);
    const V = config.vocabSize;
    let worst = 0;
    let compared = 0;
    prompts.forEach((p, r) => out.logits![r].forEach((l, s) => {
      const at = (r * T + p.length - 1 + s) * V;
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(l[v] - logits[at + v]));
      compared++;
    }));
    console.log(`f16 base: generator vs trainer logits, ${compared} positions, max |Δ| = ${worst}`);
    expect(compared).toBe(3 * T - 10);
    expect(worst).toBeLessThanOrEqual(1e-6);
    // the logits are the f16 model's, not the f32 one's
    const f32Base = await createModel(ctx, config, randomWeights(config, 41, 0.3), { frozen: true });
    const f32Adapter = createAdapter(f32Base, SPEC, trainedAdapter(config, 9));
    const f32Logits = await new Trainer(f32Base, {}, { maxBatch: 3, maxSeqLen: T, attention: 'stored', adapter: f32Adapter }).logits(batch);
    let apart = 0;
    for (let i = 0; i < logits.length; i++) apart = Math.max(apart, Math.abs(logits[i] - f32Logits[i]));
    expect(apart).toBeGreaterThan(1e-6);
    for (const x of [gen, trainer]) x.destroy();
    adapter.destroy();
    f32Adapter.destroy();
    base.destroy();
    f32Base.destroy();
  });
});

describe('memory and refusals', () => {
  it('the parameter buffer about halves; a trainable model refuses 16-bit weights', async () => {
    const config = tinyConfig({ vocabSize: 256, dModel: 64, hiddenDim: 128, nHeads: 4, headDim: 16 });
    const weights = randomWeights(config, 3);
    const full = await createModel(ctx, config, weights, { frozen: true });
    const f32Bytes = paramBytes(full);
    const held0 = full.res.gpuBytes;
    const half = await createModel(ctx, config, weights, { frozen: true, weights: 'f16' });
    const f16Bytes = paramBytes(half);
    const layout32 = buildParamLayout(config);
    const layout16 = buildParamLayout(config, 'f16');
    const matrixBytes = (l: typeof layout32) => l.slots.filter((s) => s.shape.length === 2).reduce((a, s) => a + s.span * 4, 0);
    console.log(`params: f32 ${f32Bytes} B, f16 ${f16Bytes} B (${(f16Bytes / f32Bytes).toFixed(3)}); matrices ${matrixBytes(layout32)} → ${matrixBytes(layout16)} B`);
    expect(f32Bytes).toBe(layout32.totalFloats * 4);
    expect(f16Bytes).toBe(layout16.totalFloats * 4);
    expect(matrixBytes(layout16)).toBe(matrixBytes(layout32) / 2);
    expect(f16Bytes / f32Bytes).toBeLessThan(0.52);
    // the device tally grows by the f16 model's buffers (and its RoPE table), not more
    expect(half.res.gpuBytes - held0).toBe(f16Bytes + half.rope.size);
    full.destroy();
    half.destroy();
    await expect(createModel(ctx, config, weights, { weights: 'f16' })).rejects.toThrow(/f16 weights are for a frozen model only.*frozen: true/);
    await expect(createModel(ctx, config, weights, { weights: 'bf16', frozen: false })).rejects.toThrow(/frozen model only/);
  });
});

describe('parameters over several buffers', () => {
  it('a frozen model above the buffer limit spans several buffers and computes bit for bit what one buffer computes', async () => {
    const config = QWEN;
    const weights = randomWeights(config, 51, 0.3);
    const lora = trainedAdapter(config, 4);
    const batch = randomBatch(6, 2, 10, config.vocabSize);
    for (const format of ['f16', 'f32'] as const) {
      const one = await createModel(ctx, config, weights, { frozen: true, weights: format });
      const layout = one.layout;
      // the smallest limit that holds the largest tensor: many cuts, some inside the q/k/v and gate/up groups
      const limit = Math.max(...layout.slots.map((s) => s.span)) * 4;
      const split = await createModel(ctx, config, weights, { frozen: true, weights: format, maxBufferBytes: limit });
      expect(one.buffers).toHaveLength(1);
      expect(split.buffers.length).toBeGreaterThan(2);
      for (const b of split.buffers) expect(b.size).toBeLessThanOrEqual(limit);
      expect(paramBytes(split)).toBe(paramBytes(one));
      const straddles = Array.from({ length: config.nLayers }, (_, l) => [`q_proj`, `k_proj`, `v_proj`].map((m) => split.slot(`model.layers.${l}.self_attn.${m}.weight`).buffer)).some((bufs) => new Set(bufs).size > 1);
      expect(straddles, 'a cut falls inside a q/k/v group (the unfused path)').toBe(true);
      // Where a cut separates q/k/v, the split model runs them as separate matmuls, so dX sums
      // in another order: bit for bit against one buffer with unfused projections too, and
      // to rounding against the fused single buffer.
      const [a, b] = [await lossAndGrads(one, lora, batch, undefined, false), await lossAndGrads(split, lora, batch, undefined, false)];
      console.log(`${format}: ${split.buffers.length} buffers of ≤ ${limit} B; loss ${b.loss} vs one buffer ${a.loss}`);
      expect(bits(b.tokenLoss)).toEqual(bits(a.tokenLoss));
      for (const [n, g] of a.grads) expect(bits(b.grads.get(n)!), n).toEqual(bits(g));
      const [fa, fb] = [await lossAndGrads(one, lora, batch), await lossAndGrads(split, lora, batch)];
      expect(bits(fb.tokenLoss)).toEqual(bits(fa.tokenLoss));
      const fusedWorst = Math.max(...[...fa.grads].map(([n, g]) => relErr(fb.grads.get(n)!, g)));
      console.log(`${format}: split vs one fused buffer, worst adapter gradient rel err ${fusedWorst.toExponential(2)}`);
      expect(fusedWorst).toBeLessThan(1e-6);
      const [pa, pb] = [await one.readParams(), await split.readParams()];
      for (const [n, t] of pa) expect(bits(pb.get(n)!), n).toEqual(bits(t));
      // generation reads the split buffers too
      const gens = await Promise.all([one, split].map((m) => createGenerator(m, { maxBatch: 2, maxSeq: 10 })));
      const outs = await Promise.all(gens.map((g) => g.generateDetailed([[1, 4, 2], [3]], { maxNewTokens: 5, collectLogits: true })));
      expect(outs[1].tokens).toEqual(outs[0].tokens);
      outs[0].logits!.forEach((row, r) => row.forEach((l, s) => expect(bits(outs[1].logits![r][s])).toEqual(bits(l))));
      gens.forEach((g) => g.destroy());
      one.destroy();
      split.destroy();
    }
  });

  it('a trainable model must fit one buffer; a tensor larger than the limit is refused by name', async () => {
    const config = tinyConfig();
    const layout = buildParamLayout(config);
    await expect(createModel(ctx, config, { seed: 1 }, { maxBufferBytes: layout.totalFloats * 2 })).rejects.toThrow(GpuMemoryError);
    await expect(createModel(ctx, config, { seed: 1 }, { maxBufferBytes: layout.totalFloats * 2 })).rejects.toThrow(/trainable parameters need .* in one buffer, above the requested buffer limit/);
    await expect(createModel(ctx, config, { seed: 1 }, { frozen: true, maxBufferBytes: 4096 })).rejects.toThrow(/tensor model\.embed_tokens\.weight/);
    // the single-buffer layout stays where it fits
    const m = await createModel(ctx, config, { seed: 1 }, { maxBufferBytes: layout.totalFloats * 4 });
    expect(m.buffers).toEqual([m.params]);
    m.destroy();
  });
});
