// LoRA on the engine: adapter gradients equal PyTorch's (base frozen, float64 reference in
// test/fixtures/engine/make_grad_fixtures.py) within 1e-4 per tensor; a fresh adapter (B = 0)
// computes exactly the base model; arms share one frozen base without touching it or each
// other; a small batch overfits; generation applies the adapter; the merged weights
// (W + s·B·A) compute what base + adapter computes; a PEFT folder round-trips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { Workspace } from '../../../src/engine/workspace.ts';
import { createAdapter, initLora, mergeLora, type LoraSpec } from '../../../src/engine/lora.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import { loadPeftAdapter, savePeftAdapter } from '../../../src/engine/weights/peft.ts';
import { memoryFolder } from '../../../src/engine/weights/file-source.ts';
import { Rng } from '../../../src/data/rng.ts';
import { LORA_CASES, loadLoraFixture, relErr } from './fixtures.ts';
import { randomBatch, randomWeights, tinyConfig } from '../generate/tiny-model.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));


describe('LoRA gradients match PyTorch (base frozen)', () => {
  for (const attention of ['stored', 'recompute'] as const) {
    for (const variant of ['register8x16', 'shared'] as const) {
      for (const name of LORA_CASES) {
        it(`${name} (${variant} matmul, ${attention} attention)`, async () => {
          const fx = loadLoraFixture(name);
          const model = await createModel(ctx, fx.config, fx.params, { frozen: true });
          expect(model.grads).toBeUndefined();
          const adapter = createAdapter(model, fx.spec, fx.adapter);
          const trainer = new Trainer(model, {}, { maxBatch: fx.batch.batch, maxSeqLen: fx.batch.seqLen, matmul: variant, attention, adapter });
          const { loss, grads } = await trainer.gradients(fx.batch);
          expect(Math.abs(loss - fx.loss) / fx.loss).toBeLessThan(1e-5);
          expect([...grads.keys()].sort()).toEqual([...fx.adapterGrads.keys()].sort());
          const worst = [...fx.adapterGrads].map(([t, ref]) => [t, relErr(grads.get(t)!, ref)] as const).sort((a, b) => b[1] - a[1]);
          console.log(`${name} ${variant} ${attention}: loss ${loss} vs ${fx.loss}; worst adapter rel err ${worst[0][1].toExponential(2)} (${worst[0][0]})`);
          expect(worst[0][1], `worst tensor ${worst[0][0]}`).toBeLessThan(1e-4);
          trainer.destroy();
          adapter.destroy();
          model.destroy();
        });
      }
    }
  }
});

describe('LoRA training', () => {
  const SPEC: LoraSpec = { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] };

  it('a fresh adapter (B = 0) computes the base model exactly; the base stays frozen while it trains', async () => {
    const config = tinyConfig({ qkvBias: true, vocabSize: 61 });
    const weights = randomWeights(config, 5, 0.2);
    const full = await createModel(ctx, config, weights);
    const base = await createModel(ctx, config, weights, { frozen: true });
    const batch = randomBatch(3, 2, 12, config.vocabSize);
    const plain = new Trainer(full, {}, { maxBatch: 2, maxSeqLen: 12 });
    const adapter = createAdapter(base, SPEC, { seed: 1 });
    const lora = new Trainer(base, { lr: 1e-2, warmupSteps: 0, totalSteps: 5 }, { maxBatch: 2, maxSeqLen: 12, adapter });
    const ref = await plain.forwardLoss(batch);
    const start = await lora.forwardLoss(batch);
    expect(bits(start.tokenLoss)).toEqual(bits(ref.tokenLoss));
    // the optimizer holds moments for the adapter only
    expect(lora.gpuBytes - plain.gpuBytes).toBeLessThan(0);
    const before = await base.readParams();
    for (let i = 0; i < 5; i++) await lora.step([batch]);
    const after = await base.readParams();
    for (const [n, t] of before) expect(bits(after.get(n)!), n).toEqual(bits(t));
    expect((await lora.forwardLoss(batch)).loss).toBeLessThan(start.loss);
    for (const x of [plain, lora]) x.destroy();
    adapter.destroy();
    full.destroy();
    base.destroy();
  });

  it('two arms share one frozen base and one workspace, and train exactly as when alone', async () => {
    const config = tinyConfig();
    const weights = randomWeights(config, 9, 0.2);
    const batches = [randomBatch(1, 2, 10, config.vocabSize), randomBatch(2, 2, 10, config.vocabSize)];
    const hyper = { lr: 5e-3, warmupSteps: 0, totalSteps: 6 };
    const run = async (shared: boolean) => {
      const base = await createModel(ctx, config, weights, { frozen: true });
      const ws = new Workspace(base.res, { maxBatch: 2, maxSeqLen: 10, configs: [config], lora: [{ rank: 4, targets: 7 }, { rank: 8, targets: 2 }] });
      const specs: LoraSpec[] = [SPEC, { rank: 8, alpha: 8, targets: ['q', 'v'] }];
      const adapters = specs.map((s, i) => createAdapter(base, s, { seed: 10 + i }));
      const trainers = adapters.map((adapter) => new Trainer(base, hyper, { workspace: ws, adapter }));
      const losses: number[][] = [[], []];
      for (let step = 0; step < 6; step++) {
        // shared: both arms interleaved; alone: arm 0 first, then arm 1
        if (shared) for (const a of [0, 1]) losses[a].push((await trainers[a].step([batches[a]])).loss);
      }
      if (!shared) for (const a of [0, 1]) for (let step = 0; step < 6; step++) losses[a].push((await trainers[a].step([batches[a]])).loss);
      const out = await Promise.all(adapters.map((a) => a.readParams()));
      trainers.forEach((t) => t.destroy());
      adapters.forEach((a) => a.destroy());
      ws.destroy();
      base.destroy();
      return { losses, out };
    };
    const together = await run(true);
    const alone = await run(false);
    expect(together.losses).toEqual(alone.losses);
    for (const a of [0, 1]) for (const [n, t] of alone.out[a]) expect(bits(together.out[a].get(n)!), n).toEqual(bits(t));
    expect(together.losses[0].at(-1)!).toBeLessThan(together.losses[0][0]);
  });

  it('overfits a small batch with rank 4 on every projection: loss falls by ≥ 80 %', async () => {
    const config = tinyConfig({ vocabSize: 37 });
    const base = await createModel(ctx, config, randomWeights(config, 4, 0.2), { frozen: true });
    const adapter = createAdapter(base, SPEC, { seed: 2 });
    const trainer = new Trainer(base, { lr: 3e-2, warmupSteps: 5, totalSteps: 120, weightDecay: 0 }, { maxBatch: 2, maxSeqLen: 16, adapter });
    const batch = randomBatch(7, 2, 16, config.vocabSize);
    const losses: number[] = [];
    for (let i = 0; i < 120; i++) losses.push((await trainer.step([batch])).loss);
    console.log(`LoRA overfit: loss ${losses[0].toFixed(4)} → ${losses.at(-1)!.toFixed(4)}`);
    expect(losses.at(-1)!).toBeLessThan(0.2 * losses[0]);
    trainer.destroy();
    adapter.destroy();
    base.destroy();
  });
});

describe('LoRA in generation and export', () => {
  const SPEC: LoraSpec = { rank: 8, alpha: 16, targets: ['q', 'v', 'o', 'down'] };

  /** An adapter with non-zero B (as after training). */
  function trainedAdapter(config: ReturnType<typeof tinyConfig>, seed: number) {
    const t = initLora(config, SPEC, seed);
    const rng = new Rng(seed + 100);
    for (const [n, v] of t) if (n.endsWith('lora_B.weight')) for (let i = 0; i < v.length; i++) v[i] = 0.3 * (2 * rng.next() - 1);
    return t;
  }

  it('the generator applies the adapter: its logits are the adapted forward pass’s; the merged model computes the same', async () => {
    const config = tinyConfig({ vocabSize: 53, qkvBias: true });
    const weights = randomWeights(config, 21, 0.3);
    const base = await createModel(ctx, config, weights, { frozen: true });
    const adapterTensors = trainedAdapter(config, 3);
    const adapter = createAdapter(base, SPEC, adapterTensors);
    const prompts = [[1, 5, 9], [1, 2, 3, 4, 5, 6]];
    const T = 12;
    const gen = await createGenerator(base, { maxBatch: 2, maxSeq: T, adapter, prefillChunk: 4 });
    const rowMax = prompts.map((p) => T - p.length);
    const out = await gen.generateDetailed(prompts, { maxNewTokens: Math.max(...rowMax), rowMaxNewTokens: rowMax, collectLogits: true });
    const seqs = prompts.map((p, r) => [...p, ...out.tokens[r]]);
    const ids = Int32Array.from(seqs.flat());
    const batch = { inputIds: ids, labels: new Int32Array(ids.length).fill(-100), weights: new Float32Array(ids.length), batch: 2, seqLen: T };
    const adapted = new Trainer(base, {}, { maxBatch: 2, maxSeqLen: T, attention: 'stored', adapter });
    const logits = await adapted.logits(batch);
    const V = config.vocabSize;
    let worst = 0;
    prompts.forEach((p, r) => out.logits![r].forEach((l, s) => {
      const at = (r * T + p.length - 1 + s) * V;
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(l[v] - logits[at + v]));
    }));
    expect(worst).toBeLessThanOrEqual(1e-6);
    // the adapter changes the model's output (so the comparison above tests something)
    const plainGen = await createGenerator(base, { maxBatch: 2, maxSeq: T, prefillChunk: 4 });
    const plain = await plainGen.generateDetailed(prompts, { maxNewTokens: 1, collectLogits: true });
    expect(Math.abs(plain.logits![0][0][0] - out.logits![0][0][0])).toBeGreaterThan(1e-3);
    // merged weights W + (alpha/r)·B·A, as a plain model
    const merged = await createModel(ctx, config, mergeLora(config, weights, SPEC, adapterTensors));
    const mergedLogits = await new Trainer(merged, {}, { maxBatch: 2, maxSeqLen: T, attention: 'stored' }).logits(batch);
    let mergedWorst = 0;
    for (let i = 0; i < logits.length; i++) mergedWorst = Math.max(mergedWorst, Math.abs(mergedLogits[i] - logits[i]));
    console.log(`LoRA: generator vs adapted forward ${worst}; merged vs adapted ${mergedWorst}`);
    expect(mergedWorst).toBeLessThan(1e-4);
    for (const x of [gen, plainGen, adapted]) x.destroy();
    adapter.destroy();
    merged.destroy();
    base.destroy();
  });

  it('a PEFT folder round-trips bit for bit and loads to continue training', async () => {
    const config = tinyConfig();
    const tensors = trainedAdapter(config, 5);
    const folder = memoryFolder('adapter');
    await savePeftAdapter(folder, config, SPEC, tensors, 'HuggingFaceTB/SmolLM2-135M-Instruct');
    const cfg = JSON.parse(new TextDecoder().decode(folder.files.get('adapter_config.json')!));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj', 'o_proj', 'down_proj'], bias: 'none', base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M-Instruct' });
    const back = await loadPeftAdapter(folder, config);
    expect(back.spec).toEqual(SPEC);
    for (const [n, t] of tensors) expect(bits(back.tensors.get(n)!), n).toEqual(bits(t));
    const base = await createModel(ctx, config, randomWeights(config, 2, 0.2), { frozen: true });
    const adapter = createAdapter(base, back.spec, back.tensors);
    for (const [n, t] of await adapter.readParams()) expect(bits(t), n).toEqual(bits(tensors.get(n)!));
    adapter.destroy();
    base.destroy();
  });

  it('refuses a frozen model without an adapter and an adapter of another model', async () => {
    const config = tinyConfig();
    const base = await createModel(ctx, config, { seed: 1 }, { frozen: true });
    const other = await createModel(ctx, config, { seed: 1 }, { frozen: true });
    expect(() => new Trainer(base, {}, { maxBatch: 1, maxSeqLen: 8 })).toThrow(/frozen/);
    const adapter = createAdapter(other, SPEC, { seed: 1 });
    expect(() => new Trainer(base, {}, { maxBatch: 1, maxSeqLen: 8, adapter })).toThrow(/another model/);
    expect(() => createAdapter(base, { rank: 6, alpha: 8, targets: ['q'] }, { seed: 1 })).toThrow(/rank must be a positive multiple of 4 \(got 6/);
    expect(() => createAdapter(base, { rank: 8, alpha: 8, targets: ['qkv' as never] }, { seed: 1 })).toThrow(/unknown target "qkv"/);
    adapter.destroy();
    base.destroy();
    other.destroy();
  });
});
