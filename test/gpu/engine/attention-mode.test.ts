// The two attention memory modes of the workspace: 'recompute' (log-sum-exp only, P rebuilt
// in the backward pass) against 'stored' over a longer context with sharp attention (many
// key blocks, online-softmax rescaling), the memory each keeps, and the 'auto' rule. Both
// modes are checked against PyTorch in grad-reference.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel, initParams } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { Workspace, resolveAttentionMode, storedAttentionBytes } from '../../../src/engine/workspace.ts';
import { gpuResources } from '../../../src/engine/gpu/resources.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import { Rng } from '../../../src/data/rng.ts';
import { PRESETS } from '../../../models/presets.ts';
import { relErr } from './fixtures.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

const config = PRESETS.test.config; // GQA: 4 query heads on 2 key/value heads, context 32

describe('recompute attention mode', () => {
  it('gives the stored mode’s loss and gradients at T 32 with sharp attention', async () => {
    // q/k weights × 12 make the scores span several units, so the forward's running maximum
    // changes along a row and the rescaling matters.
    const params = initParams(config, 4);
    for (const [name, w] of params) if (/\.(q|k)_proj\./.test(name)) for (let i = 0; i < w.length; i++) w[i] *= 12;
    const rng = new Rng(9);
    const B = 2;
    const T = 32;
    const batch: TokenBatch = {
      inputIds: Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)),
      labels: Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)),
      weights: Float32Array.from({ length: B * T }, () => (rng.next() < 0.3 ? 0 : 1)),
      batch: B,
      seqLen: T,
    };
    const results = [];
    for (const attention of ['stored', 'recompute'] as const) {
      const model = await createModel(ctx, config, params);
      const trainer = new Trainer(model, {}, { maxBatch: B, maxSeqLen: T, attention });
      expect(trainer.workspace.attention).toBe(attention);
      results.push(await trainer.gradients(batch));
      trainer.destroy();
      model.destroy();
    }
    const [stored, recompute] = results;
    expect(Math.abs(recompute.loss - stored.loss) / stored.loss).toBeLessThan(1e-5);
    let worst = 0;
    for (const [name, g] of stored.grads) {
      expect(g.some((x) => x !== 0), name).toBe(true);
      worst = Math.max(worst, relErr(recompute.grads.get(name)!, g));
    }
    console.log(`recompute vs stored at T ${T}: loss ${recompute.loss} vs ${stored.loss}; worst gradient rel err ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('keeps B·H·T floats per layer instead of B·H·T²', () => {
    const res = gpuResources(ctx);
    const B = 2;
    const T = 32;
    const stored = new Workspace(res, { maxBatch: B, maxSeqLen: T, configs: [config], attention: 'stored' });
    const recompute = new Workspace(res, { maxBatch: B, maxSeqLen: T, configs: [config], attention: 'recompute' });
    const rows = (config.nLayers + 1) * B * config.nHeads * T * 4; // lse per layer + delta
    expect(stored.bytes - recompute.bytes).toBe(storedAttentionBytes(config, B, T) - rows);
    expect(() => recompute.layer('P', 0)).toThrow(/no "P" region in attention mode 'recompute'/);
    expect(() => stored.scratch('delta')).toThrow(/no "delta" region in attention mode 'stored'/);
    stored.destroy();
    recompute.destroy();
  });

  it("'auto' keeps P while it fits the budget (the playground presets) and recomputes beyond", () => {
    const big = { maxBufferSize: 2 ** 32 };
    // 80 MiB at the default preset (4 layers + 1, batch 4, 4 heads, T 512) stays stored
    expect(storedAttentionBytes(PRESETS.default.config, 4, 512)).toBe(80 * 2 ** 20);
    expect(resolveAttentionMode('auto', [PRESETS.default.config], 4, 512, big)).toBe('stored');
    expect(resolveAttentionMode('auto', [PRESETS.tiny.config], 2, 512, big)).toBe('stored');
    // a 12-layer, 12-head model at T 1024 would need 2.4 GiB
    const hf: LlamaConfig = { ...PRESETS.default.config, nLayers: 12, nHeads: 12, nKvHeads: 12, maxSeqLen: 1024 };
    expect(resolveAttentionMode('auto', [hf], 4, 1024, big)).toBe('recompute');
    // several configs: the largest decides; the context is capped by each model's maxSeqLen
    expect(resolveAttentionMode('auto', [PRESETS.tiny.config, hf], 4, 1024, big)).toBe('recompute');
    expect(resolveAttentionMode('auto', [PRESETS.default.config], 4, 4096, big)).toBe('stored');
    // a device whose largest buffer is 128 MiB halves the budget to 64 MiB
    expect(resolveAttentionMode('auto', [PRESETS.default.config], 4, 512, { maxBufferSize: 128 * 2 ** 20 })).toBe('recompute');
    expect(resolveAttentionMode('stored', [hf], 4, 1024, big)).toBe('stored');
    const res = gpuResources(ctx);
    const ws = new Workspace(res, { maxBatch: 2, maxSeqLen: 16, configs: [config] });
    expect(ws.attention).toBe('stored');
    ws.destroy();
    expect(() => new Workspace(res, { maxBatch: 2, maxSeqLen: 16, configs: [config], attention: 'lazy' as 'auto' })).toThrow(/attention must be one of stored, recompute, auto \(got lazy\)/);
  });
});
