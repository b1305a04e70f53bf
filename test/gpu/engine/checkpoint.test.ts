// Per-layer activation checkpointing (workspace.ts, layers.ts): the backward pass re-runs each
// block's forward from its kept input, so the gradients must be the very bits of a workspace
// that keeps every layer — full training and LoRA, in both attention modes — while the workspace
// keeps one region per per-layer kind instead of one per layer. The 'auto' rule checkpoints
// the real models' shapes at 512 tokens and leaves the playground's presets alone.
import { beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { createAdapter, initLora, type LoraSpec } from '../../../src/engine/lora.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { CHECKPOINT_BUDGET, Workspace, workspaceRegions } from '../../../src/engine/workspace.ts';
import { gpuResources } from '../../../src/engine/gpu/resources.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import { Rng } from '../../../src/data/rng.ts';
import { PRESETS, REAL_MODEL_SHAPES } from '../../../models/presets.ts';
import { maskedBatch } from '../generate/tiny-model.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

const config: LlamaConfig = { ...PRESETS.test.config, nLayers: 3, vocabSize: 301, qkvBias: true };

const batchOf = (seed: number, B: number, T: number): TokenBatch => maskedBatch(seed, B, T, config.vocabSize);

const LORA: LoraSpec = { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] };

/** A seeded adapter with non-zero B, so every A gets a gradient from the first step. */
function randomAdapter() {
  const t = initLora(config, LORA, 4);
  const rng = new Rng(5);
  for (const [name, w] of t) if (name.endsWith('lora_B.weight')) for (let i = 0; i < w.length; i++) w[i] = 0.1 * (2 * rng.next() - 1);
  return t;
}

type Run = { losses: number[]; grads: Map<string, Float32Array> };

/** Two AdamW steps, then the gradients of a third batch. */
async function run(checkpoint: 'none' | 'layers', attention: 'stored' | 'recompute', lora: boolean): Promise<Run> {
  const model = await createModel(ctx, config, { seed: 3 }, { frozen: lora });
  const adapter = lora ? createAdapter(model, LORA, randomAdapter()) : undefined;
  const trainer = new Trainer(model, { lr: 1e-2, warmupSteps: 0, totalSteps: 10 }, { maxBatch: 2, maxSeqLen: 16, attention, checkpoint, adapter });
  expect(trainer.workspace.checkpoint).toBe(checkpoint);
  const losses: number[] = [];
  for (let s = 0; s < 2; s++) losses.push((await trainer.step([batchOf(10 + s, 2, 16)])).loss);
  const g = await trainer.gradients(batchOf(20, 2, 16));
  losses.push(g.loss);
  trainer.destroy();
  adapter?.destroy();
  model.destroy();
  return { losses, grads: g.grads };
}

describe('per-layer activation checkpointing', () => {
  for (const [lora, attention] of [[false, 'stored'], [true, 'recompute']] as const) {
    it(`${lora ? 'LoRA over a frozen base' : 'full training'}, ${attention} attention: the same losses and gradients, bit for bit`, async () => {
      const kept = await run('none', attention, lora);
      const checkpointed = await run('layers', attention, lora);
      expect(checkpointed.losses).toEqual(kept.losses);
      expect([...checkpointed.grads.keys()]).toEqual([...kept.grads.keys()]);
      for (const [name, g] of kept.grads) {
        expect(g.some((x) => x !== 0), name).toBe(true);
        expect(checkpointed.grads.get(name), name).toEqual(g);
      }
    });
  }

  it('keeps the residual stream per layer and one region of every other per-layer kind', () => {
    const res = gpuResources(ctx);
    const opts = { maxBatch: 2, maxSeqLen: 16, configs: [config], attention: 'stored' as const, lora: [{ rank: 4, targets: 7 }] };
    const kept = new Workspace(res, { ...opts, checkpoint: 'none' });
    const checkpointed = new Workspace(res, { ...opts, checkpoint: 'layers' });
    const { regions } = workspaceRegions({ ...opts, checkpoint: 'none' }, ctx.limits);
    const perLayer = regions.filter((r) => r.count === config.nLayers).reduce((a, r) => a + r.stride, 0);
    expect(perLayer).toBeGreaterThan(0);
    expect(kept.bytes - checkpointed.bytes).toBe((config.nLayers - 1) * perLayer);
    // every layer's view of a per-layer kind is region 0; x keeps nLayers + 1 regions
    expect(checkpointed.layer('qkv', 2).offset).toBe(0);
    expect(checkpointed.lora(2, 1).offset).toBe(checkpointed.lora(0, 1).offset);
    expect(checkpointed.layer('x', 3).offset).toBe(kept.layer('x', 3).offset);
    kept.destroy();
    checkpointed.destroy();
  });

  it("'auto' checkpoints the real models' shapes at 512 tokens and not the playground's presets", () => {
    const limits = { maxBufferSize: 2 ** 32 };
    const mode = (c: LlamaConfig, B: number, T: number, lora?: { rank: number; targets: number }) => workspaceRegions({ maxBatch: B, maxSeqLen: T, configs: [c], lora: lora ? [lora] : undefined }, limits).checkpoint;
    expect(mode(REAL_MODEL_SHAPES['smollm2-135m'].config, 1, 512, { rank: 16, targets: 7 })).toBe('layers');
    expect(mode(REAL_MODEL_SHAPES['qwen2.5-0.5b'].config, 1, 512, { rank: 16, targets: 7 })).toBe('layers');
    for (const name of ['tiny', 'small', 'default']) expect(mode(PRESETS[name].config, 4, 512), name).toBe('none');
    expect(CHECKPOINT_BUDGET).toBe(256 * 2 ** 20);
    expect(() => workspaceRegions({ maxBatch: 1, maxSeqLen: 8, configs: [config], checkpoint: 'some' as 'auto' }, limits)).toThrow(/checkpoint must be one of none, layers, auto \(got some\)/);
  });
});
