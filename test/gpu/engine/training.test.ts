// Proofs 3–5 (each in both attention modes) and the optimizer: finite differences, weight-0
// label invariance, overfitting a small batch, AdamW + clipping against a CPU reference,
// gradient accumulation, and several arms sharing one workspace.
import { beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel, initParams } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { Workspace } from '../../../src/engine/workspace.ts';
import { gpuResources } from '../../../src/engine/gpu/resources.ts';
import { learningRate } from '../../../src/engine/schedule.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import type { NamedTensors } from '../../../src/engine/params.ts';
import { Rng } from '../../../src/data/rng.ts';
import { PRESETS } from '../../../models/presets.ts';
import { loadGradFixture } from './fixtures.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

function randomBatch(seed: number, B: number, T: number, V: number, zeroFraction = 0.3): TokenBatch {
  const rng = new Rng(seed);
  const n = B * T;
  const weights = Float32Array.from({ length: n }, () => (rng.next() < zeroFraction ? 0 : 0.25 + rng.next()));
  return { inputIds: Int32Array.from({ length: n }, () => rng.int(V)), labels: Int32Array.from({ length: n }, () => rng.int(V)), weights, batch: B, seqLen: T };
}

/** Proofs 3–5 run in both attention modes (stored P and log-sum-exp recompute). */
const ATTENTION_MODES = ['stored', 'recompute'] as const;

const clone = (t: NamedTensors): NamedTensors => new Map([...t].map(([k, v]) => [k, v.slice()]));

describe('finite differences (proof 3)', () => {
  for (const attention of ATTENTION_MODES) {
    it(`central differences of the GPU loss agree with the analytic gradient (${attention} attention)`, async () => {
      // Fixture weights (std 0.2) give gradients of order 1e-2..1e-1 on the largest entries.
      // In f32 the loss (≈ 4) carries ~1e-6 absolute rounding noise, so with h = 1e-2 the
      // central difference is accurate to ~1e-6 / 2e-2 = 5e-5 plus O(h²) truncation; we test
      // the 16 largest-gradient sampled entries with |fd − g| ≤ 2e-4 + 2 %·|g|.
      const fx = loadGradFixture('gqa_tied_T7_B2');
      const model = await createModel(ctx, fx.config, fx.params);
      const trainer = new Trainer(model, {}, { maxBatch: 2, maxSeqLen: 7, attention });
      const { grads } = await trainer.gradients(fx.batch);
      const rng = new Rng(5);
      const candidates: Array<{ name: string; i: number; g: number }> = [];
      for (const [name, g] of grads) for (let s = 0; s < 6; s++) { const i = rng.int(g.length); candidates.push({ name, i, g: g[i] }); }
      candidates.sort((a, b) => Math.abs(b.g) - Math.abs(a.g));
      const h = 1e-2;
      const checked: string[] = [];
      for (const { name, i, g } of candidates.slice(0, 16)) {
        const p = clone(fx.params);
        p.get(name)![i] += h;
        model.writeParams(p);
        const up = (await trainer.forwardLoss(fx.batch)).loss;
        p.get(name)![i] -= 2 * h;
        model.writeParams(p);
        const down = (await trainer.forwardLoss(fx.batch)).loss;
        const fd = (up - down) / (2 * h);
        checked.push(`${name}[${i}] fd ${fd.toExponential(3)} vs ${g.toExponential(3)}`);
        expect(Math.abs(fd - g), checked.at(-1)).toBeLessThanOrEqual(2e-4 + 0.02 * Math.abs(g));
      }
      expect(Math.abs(candidates[15].g)).toBeGreaterThan(1e-3); // the check is not vacuous
      trainer.destroy();
      model.destroy();
    });
  }
});

describe('masking (proof 4)', () => {
  for (const attention of ATTENTION_MODES) {
    it(`changing labels where the weight is 0 leaves loss and all gradients bitwise unchanged (${attention} attention)`, async () => {
      const fx = loadGradFixture('mha_untied_T5_B3');
      const model = await createModel(ctx, fx.config, fx.params);
      const trainer = new Trainer(model, {}, { maxBatch: 3, maxSeqLen: 5, attention });
      const a = await trainer.gradients(fx.batch);
      const labels = fx.batch.labels.slice();
      let changed = 0;
      for (let i = 0; i < labels.length; i++) {
        if (fx.batch.weights[i] === 0) {
          labels[i] = (labels[i] + 7) % fx.config.vocabSize;
          changed++;
        }
      }
      expect(changed).toBeGreaterThan(2);
      const b = await trainer.gradients({ ...fx.batch, labels });
      expect(b.loss).toBe(a.loss);
      for (const [name, g] of a.grads) expect(Array.from(b.grads.get(name)!), name).toEqual(Array.from(g));
      // and the mask matters: changing a weighted label does change the loss
      const labels2 = fx.batch.labels.slice();
      const k = fx.batch.weights.findIndex((w, i) => w > 0 && labels2[i] >= 0);
      labels2[k] = (labels2[k] + 7) % fx.config.vocabSize;
      expect((await trainer.gradients({ ...fx.batch, labels: labels2 })).loss).not.toBe(a.loss);
      trainer.destroy();
      model.destroy();
    });
  }

  it('Σw = 0 gives loss 0 and all-zero gradients, not NaN', async () => {
    const fx = loadGradFixture('gqa_tied_T7_B2');
    const model = await createModel(ctx, fx.config, fx.params);
    const trainer = new Trainer(model, {}, { maxBatch: 2, maxSeqLen: 7 });
    const r = await trainer.gradients({ ...fx.batch, weights: new Float32Array(14) });
    expect(r.loss).toBe(0);
    expect(r.weightSum).toBe(0);
    for (const g of r.grads.values()) expect(g.every((x) => x === 0)).toBe(true);
    const s = await trainer.step([{ ...fx.batch, weights: new Float32Array(14) }]);
    expect([s.loss, s.gradNorm]).toEqual([0, 0]);
    const after = await model.readParams();
    for (const name of fx.params.keys()) expect(after.get(name)!.every(Number.isFinite), name).toBe(true);
    trainer.destroy();
    model.destroy();
  });
});

describe('training', () => {
  for (const attention of ATTENTION_MODES) {
    it(`overfits a small weighted batch: loss falls by ≥ 90 % (proof 5, ${attention} attention)`, async () => {
      const config = PRESETS.test.config;
      const model = await createModel(ctx, config, { seed: 3 });
      const trainer = new Trainer(model, { lr: 1e-2, warmupSteps: 5, totalSteps: 80, weightDecay: 0, gradClip: 1 }, { maxBatch: 2, maxSeqLen: 16, attention });
      const batch = randomBatch(11, 2, 16, config.vocabSize);
      const losses: number[] = [];
      const pending = [];
      for (let i = 0; i < 80; i++) pending.push(trainer.step([batch]));
      for (const r of await Promise.all(pending)) losses.push(r.loss);
      expect(losses.map((_, i) => i + 1)).toEqual((await Promise.all(pending)).map((r) => r.step));
      const first = losses[0];
      const last = losses.at(-1)!;
      console.log(`overfit (${attention}): loss ${first.toFixed(4)} → ${last.toFixed(4)} (${(100 * (1 - last / first)).toFixed(1)} % lower)`);
      expect(first).toBeGreaterThan(3.5); // ≈ ln 64 at init
      expect(last).toBeLessThan(0.1 * first);
      trainer.destroy();
      model.destroy();
    });
  }

  it('AdamW with clipping and schedule matches a CPU reference for two steps', async () => {
    const fx = loadGradFixture('mqa_untied_T13_B1');
    const hyper = { lr: 0.05, warmupSteps: 1, totalSteps: 4, minLrRatio: 0.2, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 0.5, accumSteps: 1 };
    const model = await createModel(ctx, fx.config, fx.params);
    const trainer = new Trainer(model, hyper, { maxBatch: 1, maxSeqLen: 13 });
    const p = new Map([...fx.params].map(([k, v]) => [k, Float64Array.from(v)]));
    const m = new Map([...p].map(([k, v]) => [k, new Float64Array(v.length)]));
    const v = new Map([...p].map(([k, x]) => [k, new Float64Array(x.length)]));
    for (let t = 1; t <= 2; t++) {
      const { grads } = await trainer.gradients(fx.batch);
      let sq = 0;
      for (const g of grads.values()) for (const x of g) sq += x * x;
      const norm = Math.sqrt(sq);
      const clip = Math.min(1, hyper.gradClip / (norm + 1e-6));
      expect(clip).toBeLessThan(1); // clipping is exercised
      const lr = learningRate(t, hyper);
      for (const slot of model.layout.slots) {
        const [pp, mm, vv, g] = [p.get(slot.name)!, m.get(slot.name)!, v.get(slot.name)!, grads.get(slot.name)!];
        for (let i = 0; i < pp.length; i++) {
          const gi = g[i] * clip;
          if (slot.decay) pp[i] *= 1 - lr * hyper.weightDecay;
          mm[i] = hyper.beta1 * mm[i] + (1 - hyper.beta1) * gi;
          vv[i] = hyper.beta2 * vv[i] + (1 - hyper.beta2) * gi * gi;
          const denom = Math.sqrt(vv[i]) / Math.sqrt(1 - hyper.beta2 ** t) + hyper.eps;
          pp[i] -= (lr / (1 - hyper.beta1 ** t)) * (mm[i] / denom);
        }
      }
      const r = await trainer.step([fx.batch]);
      expect(r.lr).toBeCloseTo(lr, 12);
      expect(Math.abs(r.gradNorm - norm) / norm).toBeLessThan(1e-5);
      const got = await model.readParams();
      for (const [name, ref] of p) {
        const g = got.get(name)!;
        let maxDiff = 0;
        for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i] - ref[i]));
        // one update moves entries by ≈ lr = 0.05; f32 arithmetic agrees to ~1e-7 of that
        expect(maxDiff, `${name} after step ${t}`).toBeLessThan(2e-6);
      }
    }
    // norms are not decayed, matrices are: a tensor that changed at all
    const before = fx.params.get('model.norm.weight')!;
    expect(Array.from((await model.readParams()).get('model.norm.weight')!)).not.toEqual(Array.from(before));
    trainer.destroy();
    model.destroy();
  });

  it('two micro-batches accumulate to the same update as one concatenated batch', async () => {
    const config = PRESETS.test.config;
    const init = initParams(config, 9);
    const b1 = randomBatch(1, 1, 12, config.vocabSize);
    const b2 = randomBatch(2, 1, 12, config.vocabSize);
    const both: TokenBatch = {
      inputIds: Int32Array.from([...b1.inputIds, ...b2.inputIds]),
      labels: Int32Array.from([...b1.labels, ...b2.labels]),
      weights: Float32Array.from([...b1.weights, ...b2.weights]),
      batch: 2,
      seqLen: 12,
    };
    const hyper = { lr: 1e-2, warmupSteps: 0, totalSteps: 10, gradClip: 0 };
    const mA = await createModel(ctx, config, init);
    const tA = new Trainer(mA, { ...hyper, accumSteps: 2 }, { maxBatch: 1, maxSeqLen: 12 });
    const mB = await createModel(ctx, config, init);
    const tB = new Trainer(mB, hyper, { maxBatch: 2, maxSeqLen: 12 });
    const [rA, rB] = await Promise.all([tA.step([b1, b2]), tB.step([both])]);
    expect(Math.abs(rA.loss - rB.loss)).toBeLessThan(1e-6);
    expect(Math.abs(rA.gradNorm - rB.gradNorm) / rB.gradNorm).toBeLessThan(1e-5);
    const [pA, pB] = await Promise.all([mA.readParams(), mB.readParams()]);
    for (const [name, t] of pB) {
      const a = pA.get(name)!;
      let d = 0;
      for (let i = 0; i < t.length; i++) d = Math.max(d, Math.abs(a[i] - t[i]));
      expect(d, name).toBeLessThan(1e-6);
    }
    await expect(tB.step([b1, b2])).rejects.toThrow(/expected 1..1 micro-batches/);
    for (const x of [tA, tB, mA, mB]) x.destroy();
  });

  it('arms sharing one workspace, interleaved, train exactly as when trained alone', async () => {
    const small = PRESETS.test.config;
    const other = { ...small, nLayers: 1, hiddenDim: 64, tiedEmbeddings: false };
    const ws = new Workspace(gpuResources(ctx), { maxBatch: 2, maxSeqLen: 16, configs: [small, other] });
    const arms = await Promise.all([createModel(ctx, small, { seed: 1 }), createModel(ctx, other, { seed: 2 }), createModel(ctx, small, { seed: 3 })]);
    const trainers = arms.map((m) => new Trainer(m, { lr: 5e-3, warmupSteps: 0, totalSteps: 6 }, { workspace: ws }));
    const batches = [0, 1, 2].map((i) => randomBatch(20 + i, 2, 16, small.vocabSize));
    const shared: number[][] = [[], [], []];
    for (let s = 0; s < 3; s++) {
      const rs = await Promise.all(trainers.map((t, i) => t.step([batches[i]])));
      rs.forEach((r, i) => shared[i].push(r.loss));
    }
    for (let i = 0; i < 3; i++) {
      const m = await createModel(ctx, arms[i].config, { seed: i + 1 });
      const t = new Trainer(m, { lr: 5e-3, warmupSteps: 0, totalSteps: 6 }, { maxBatch: 2, maxSeqLen: 16 });
      const alone: number[] = [];
      for (let s = 0; s < 3; s++) alone.push((await t.step([batches[i]])).loss);
      expect(alone).toEqual(shared[i]);
      t.destroy();
      m.destroy();
    }
    expect(() => new Trainer(arms[0], {}, { workspace: new Workspace(gpuResources(ctx), { maxBatch: 1, maxSeqLen: 4, configs: [other] }) })).toThrow(/not sized for this model/);
    for (const x of [...trainers, ...arms]) x.destroy();
    ws.destroy();
  });
});
