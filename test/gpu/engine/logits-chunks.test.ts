// The chunked cross-entropy (workspace.ts logitsChunkRows, layers.ts encodeForward): when a
// micro-batch's [rows × vocab] logits would exceed LOGITS_BUDGET, the head, cross-entropy and
// head backward run 64·k rows at a time through one [chunk × vocab] region. Forced here to 64
// rows (150 rows → chunks of 64, 64, 22), every observable must match a workspace that holds
// all rows at once: per-position losses and logits to the bit (each row's arithmetic is the
// same), gradients to float rounding (the head's weight gradient sums the chunks in turn).
import { beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { logitsChunkRows, Workspace } from '../../../src/engine/workspace.ts';
import { gpuResources } from '../../../src/engine/gpu/resources.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import { maskedBatch } from '../generate/tiny-model.ts';
import { PRESETS } from '../../../models/presets.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

const B = 3;
const T = 50;

const batchOf = (c: LlamaConfig, seed: number): TokenBatch => maskedBatch(seed, B, T, c.vocabSize);

type Observed = { losses: number[]; tokenLoss: Float32Array; logits: Float32Array; grads: Map<string, Float32Array> };

async function observe(c: LlamaConfig, logitsRows: number | undefined): Promise<Observed> {
  const model = await createModel(ctx, c, { seed: 7 });
  const workspace = new Workspace(gpuResources(ctx), { maxBatch: B, maxSeqLen: 64, configs: [c], logitsRows });
  expect(workspace.logitsRows(c)).toBe(logitsRows ?? B * 64);
  const trainer = new Trainer(model, { lr: 1e-2, warmupSteps: 0, totalSteps: 10 }, { workspace });
  // the same weights first (the bit-for-bit checks), then two AdamW steps
  const { tokenLoss } = await trainer.forwardLoss(batchOf(c, 20));
  const logits = await trainer.logits(batchOf(c, 21));
  const { grads } = await trainer.gradients(batchOf(c, 22));
  const losses: number[] = [];
  for (let s = 0; s < 2; s++) losses.push((await trainer.step([batchOf(c, 10 + s)])).loss);
  trainer.destroy();
  workspace.destroy();
  model.destroy();
  return { losses, tokenLoss, logits, grads };
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('cross-entropy over chunks of rows', () => {
  for (const tied of [true, false]) {
    it(`${tied ? 'tied' : 'untied'} head, vocabulary 301: chunks of 64 rows give the losses, logits and gradients of one chunk`, async () => {
      const c: LlamaConfig = { ...PRESETS.test.config, nLayers: 2, vocabSize: 301, maxSeqLen: 64, tiedEmbeddings: tied };
      const whole = await observe(c, undefined);
      const chunked = await observe(c, 64);
      expect(chunked.tokenLoss).toEqual(whole.tokenLoss);
      expect(chunked.logits).toEqual(whole.logits);
      expect(chunked.logits.length).toBe(B * T * 301);
      for (let s = 0; s < 2; s++) expect(Math.abs(chunked.losses[s] - whole.losses[s]) / whole.losses[s]).toBeLessThan(1e-6);
      expect([...chunked.grads.keys()]).toEqual([...whole.grads.keys()]);
      for (const [name, g] of whole.grads) expect(maxRelError(chunked.grads.get(name)!, g), name).toBeLessThan(1e-5);
    });
  }

  it('logitsChunkRows: all rows within 32 MiB, else the largest multiple of 64 that fits (at least 64)', () => {
    const c = (vocabSize: number) => ({ ...PRESETS.test.config, vocabSize });
    expect(logitsChunkRows(c(1024), 2048)).toBe(2048); // 8 MiB
    expect(logitsChunkRows(c(49152), 512)).toBe(128); // 192 KiB rows
    expect(logitsChunkRows(c(151936), 512)).toBe(64); // 593.5 KiB rows: 38 MiB at the minimum
    expect(logitsChunkRows(c(301), 150, 64)).toBe(64);
    expect(() => logitsChunkRows(c(301), 150, 100)).toThrow(/logitsRows must be a positive multiple of 64 \(got 100\)/);
  });
});
