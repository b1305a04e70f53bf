// Proof 2: loss and every parameter gradient equal the PyTorch reference
// (test/fixtures/engine/make_grad_fixtures.py) within relative error ‖a−b‖/‖b‖ ≤ 1e-4 per
// tensor, for GQA/MHA/MQA, tied and untied heads, odd T, batch > 1 and weight masks —
// with every matmul variant, and in both attention modes (stored probabilities and
// log-sum-exp recompute).
import { describe, expect, it, beforeAll } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { GRAD_CASES, loadGradFixture, relErr } from './fixtures.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

describe('gradients match PyTorch', () => {
  const setups = [
    { variant: 'register8x8', fuse: true },
    { variant: 'register8x16', fuse: true },
    { variant: 'register', fuse: true },
    { variant: 'shared', fuse: true },
    { variant: 'register8x8', fuse: false }, // one matmul per projection weight (column blocks)
  ] as const;
  for (const attention of ['stored', 'recompute'] as const) {
    for (const { variant, fuse } of setups) {
      for (const name of GRAD_CASES) {
        it(`${name} (${variant} matmul${fuse ? '' : ', unfused projections'}, ${attention} attention)`, async () => {
          const fx = loadGradFixture(name);
          const model = await createModel(ctx, fx.config, fx.params);
          const trainer = new Trainer(model, {}, { maxBatch: fx.batch.batch, maxSeqLen: fx.batch.seqLen, matmul: variant, fuseProjections: fuse, attention });
          expect(trainer.workspace.attention).toBe(attention);
          const { loss, grads } = await trainer.gradients(fx.batch);
          expect(Math.abs(loss - fx.loss) / fx.loss).toBeLessThan(1e-5);
          const worst: Array<[string, number]> = [];
          for (const [tensor, ref] of fx.grads) {
            const got = grads.get(tensor)!;
            expect(got.length).toBe(ref.length);
            worst.push([tensor, relErr(got, ref)]);
          }
          worst.sort((a, b) => b[1] - a[1]);
          expect(worst.length).toBe(fx.grads.size);
          console.log(`${name} ${variant} ${attention}: loss ${loss} vs ${fx.loss}; worst rel err ${worst[0][1].toExponential(2)} (${worst[0][0]})`);
          expect(worst[0][1], `worst tensor ${worst[0][0]}`).toBeLessThan(1e-4);
          trainer.destroy();
          model.destroy();
        });
      }
    }
  }
});
