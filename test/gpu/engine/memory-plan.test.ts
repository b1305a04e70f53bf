// The memory plan (src/engine/memory-plan.ts) against what the engine actually allocates:
// for small models of every kind the engine runs — tied/untied heads, Qwen2 biases, odd
// vocabularies, full training or LoRA over an f32/f16/bf16 base (one buffer or several),
// stored/recompute/auto attention, accumulation slots, the evaluation readback, a generator —
// the plan lists exactly the buffers that createModel + createAdapter + Trainer (+ forwardLoss,
// createGenerator) create, by label and size, in order, and its total equals the growth of the
// GpuResources tally minus the kernel uniforms the step plans create. A step allocates
// nothing else. Refusals carry the allocators' own messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { Workspace } from '../../../src/engine/workspace.ts';
import { createAdapter, LORA_TARGET_NAMES, type LoraSpec } from '../../../src/engine/lora.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import { buildParamLayout } from '../../../src/engine/params.ts';
import { gpuResources, UNIFORM_LABEL, type GpuResources } from '../../../src/engine/gpu/resources.ts';
import { memoryPlan, type MemoryPlanOptions } from '../../../src/engine/memory-plan.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import type { WeightFormat } from '../../../src/engine/half.ts';
import { Rng } from '../../../src/data/rng.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const cfg = (o: Partial<LlamaConfig>): LlamaConfig => ({ vocabSize: 64, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, hiddenDim: 84, maxSeqLen: 32, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: true, ...o });

function batchOf(seed: number, B: number, T: number, V: number): TokenBatch {
  const rng = new Rng(seed);
  const n = B * T;
  return { inputIds: Int32Array.from({ length: n }, () => rng.int(V)), labels: Int32Array.from({ length: n }, () => rng.int(V)), weights: new Float32Array(n).fill(1), batch: B, seqLen: T };
}

interface Case {
  name: string;
  config: LlamaConfig;
  batch: number;
  seq: number;
  lora?: LoraSpec;
  weights?: WeightFormat;
  attention: 'stored' | 'recompute' | 'auto';
  checkpoint?: 'none' | 'layers';
  accumSteps?: number;
  eval?: boolean;
  generation?: { maxBatch: number; maxSeq: number };
  /** Split the frozen base at this many bytes per buffer (ModelOptions.maxBufferBytes). */
  split?: boolean;
}

const CASES: Case[] = [
  { name: 'full training, tied head, GQA 4→2, stored attention', config: cfg({}), batch: 2, seq: 16, attention: 'stored' },
  { name: 'full training, untied head, vocabulary 301, recompute, 2 accumulation slots, evaluation', config: cfg({ vocabSize: 301, tiedEmbeddings: false }), batch: 3, seq: 7, attention: 'recompute', accumSteps: 2, eval: true },
  { name: 'Qwen2 biases, MQA, vocabulary 97, LoRA r8 on q,v over an f16 base, auto attention', config: cfg({ vocabSize: 97, qkvBias: true, nKvHeads: 1, ropeTheta: 1e6 }), batch: 2, seq: 8, lora: { rank: 8, alpha: 4, targets: ['q', 'v'] }, weights: 'f16', attention: 'auto' },
  { name: 'LoRA r4 on all seven over a bf16 base split into several buffers, untied, vocabulary 61, with a generator', config: cfg({ vocabSize: 61, tiedEmbeddings: false, nLayers: 3 }), batch: 2, seq: 12, lora: { rank: 4, alpha: 8, targets: [...LORA_TARGET_NAMES] }, weights: 'bf16', attention: 'recompute', split: true, generation: { maxBatch: 2, maxSeq: 12 } },
  { name: 'Qwen2 untied, LoRA r4 on gate,up,down over an f32 base, stored, T below the context, evaluation', config: cfg({ qkvBias: true, tiedEmbeddings: false, vocabSize: 53 }), batch: 1, seq: 5, lora: { rank: 4, alpha: 4, targets: ['gate', 'up', 'down'] }, attention: 'stored', eval: true },
  { name: 'full training, per-layer activation checkpointing, stored attention', config: cfg({ nLayers: 3 }), batch: 2, seq: 16, attention: 'stored', checkpoint: 'layers' },
  { name: 'LoRA r4 on q,k,v,o, per-layer activation checkpointing, recompute, vocabulary 301', config: cfg({ vocabSize: 301, nLayers: 3 }), batch: 2, seq: 8, lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o'] }, attention: 'recompute', checkpoint: 'layers' },
];

/** Buffers created since `before` (identity), uniforms apart. */
function created(res: GpuResources, before: Set<object>) {
  const added = res.liveBuffers().filter((b) => !before.has(b));
  return { made: added.filter((b) => b.label !== UNIFORM_LABEL), uniforms: added.filter((b) => b.label === UNIFORM_LABEL) };
}

describe('memory plan = bytes actually allocated', () => {
  for (const k of CASES) {
    it(k.name, async () => {
      const res = gpuResources(ctx);
      const limits = { maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize, maxBufferSize: ctx.limits.maxBufferSize };
      // the largest tensor's span: several buffers, each as small as allowed
      const maxBufferBytes = k.split ? Math.max(...buildParamLayout(k.config, k.weights).slots.map((s) => s.span * 4)) : undefined;
      const opts: MemoryPlanOptions = { batch: k.batch, seq: k.seq, lora: k.lora, weights: k.weights, attention: k.attention, checkpoint: k.checkpoint, limits, accumSteps: k.accumSteps, eval: k.eval, generation: k.generation, maxBufferBytes };
      const plan = memoryPlan(k.config, opts);
      expect(plan.fits).toBe(true);

      const before = new Set<object>(res.liveBuffers());
      const bytes0 = res.gpuBytes;
      const model = await createModel(ctx, k.config, { seed: 1 }, { frozen: !!k.lora, weights: k.weights, maxBufferBytes });
      if (k.split) expect(model.buffers.length).toBeGreaterThan(2);
      const adapter = k.lora ? createAdapter(model, k.lora, { seed: 2 }) : undefined;
      const trainer = new Trainer(model, { accumSteps: k.accumSteps ?? 1 }, { maxBatch: k.batch, maxSeqLen: k.seq, attention: k.attention, checkpoint: k.checkpoint, adapter });
      if (k.eval) await trainer.forwardLoss(batchOf(3, k.batch, k.seq, k.config.vocabSize));
      const gen = k.generation ? await createGenerator(model, { ...k.generation, adapter }) : undefined;

      const { made, uniforms } = created(res, before);
      // buffer by buffer, in allocation order
      expect(made.map((b) => [b.label, b.size])).toEqual(plan.buffers.map((b) => [b.label, b.bytes]));
      // the tally: the plan's total plus the kernel uniforms, exactly
      const uniformBytes = uniforms.reduce((a, b) => a + b.size, 0);
      expect(res.gpuBytes - bytes0).toBe(plan.total + uniformBytes);
      expect(plan.total).toBe(made.reduce((a, b) => a + b.size, 0));
      for (const u of uniforms) expect(u.size % 16 === 0 && u.size <= 256).toBe(true);
      // the plan's attention mode is the workspace's, its logits the workspace's logits buffer
      expect(plan.attention).toBe(trainer.workspace.attention);
      expect(plan.checkpoint).toBe(trainer.workspace.checkpoint);
      expect(plan.checkpoint).toBe(k.checkpoint ?? 'none');
      expect(plan.totals.logits).toBe(made.find((b) => b.label === 'workspace.logits')!.size);
      expect(plan.totals.activations + plan.totals.logits).toBe(trainer.workspace.bytes);
      expect(plan.trainableParams).toBe(trainer.trainable.layout.paramCount);
      if (k.generation) expect(plan.totals.kvCache).toBeGreaterThan(0);

      // a step (and an evaluation) allocates nothing but kernel uniforms
      await trainer.step(Array.from({ length: k.accumSteps ?? 1 }, (_, i) => batchOf(10 + i, k.batch, k.seq, k.config.vocabSize)));
      await trainer.flush();
      expect(created(res, before).made.map((b) => [b.label, b.size])).toEqual(made.map((b) => [b.label, b.size]));

      gen?.destroy();
      trainer.destroy();
      adapter?.destroy();
      model.destroy();
      expect(created(res, before).made).toEqual([]);
    });
  }
});

describe('refusals carry the allocators’ messages', () => {
  it('an activation region above maxStorageBufferBindingSize: the Workspace’s message', () => {
    const res = gpuResources(ctx);
    const config = cfg({ vocabSize: 301 });
    // logits [21 × 304] f32 = 25,536 bytes per binding; everything else ≤ 16 KiB
    const limits = { maxStorageBufferBindingSize: 16384, maxBufferSize: ctx.limits.maxBufferSize };
    const small = Object.create(res, { limits: { value: limits } }) as GpuResources;
    let thrown = '';
    try {
      new Workspace(small, { maxBatch: 3, maxSeqLen: 7, configs: [config], attention: 'recompute' });
    } catch (e) {
      thrown = (e as Error).message;
    }
    expect(thrown).toMatch(/activation "logits" needs 25\.0 KiB per layer at batch 3 × 7 tokens/);
    const plan = memoryPlan(config, { batch: 3, seq: 7, attention: 'recompute', limits, lora: { rank: 4, alpha: 8, targets: ['q'] }, weights: 'f16' });
    expect(plan.fits).toBe(false);
    expect(plan.problems).toContain(thrown);
    // the f16 base's embedding (304 × 32 / 2 words = 19 KiB) is refused by name too
    expect(plan.problems.some((p) => p.includes('model.embed_tokens.weight'))).toBe(true);
  });

  it('a KV cache layer above maxStorageBufferBindingSize: createGenerator’s message', async () => {
    const config = cfg({});
    const model = await createModel(ctx, config, { seed: 1 });
    // one layer's K slab [4, 2, 32, 8] f32 = 8192 bytes
    const limits = { maxStorageBufferBindingSize: 4096, maxBufferSize: ctx.limits.maxBufferSize };
    const small = { ...model, ctx: { ...ctx, limits: { ...limits, maxComputeWorkgroupStorageSize: ctx.limits.maxComputeWorkgroupStorageSize } as GPUSupportedLimits } };
    let thrown = '';
    try {
      await createGenerator(small, { maxBatch: 4, maxSeq: 32 });
    } catch (e) {
      thrown = (e as Error).message;
    }
    model.destroy();
    expect(thrown).toMatch(/one layer's KV cache \(8192 bytes\) exceeds maxStorageBufferBindingSize 4096/);
    const plan = memoryPlan(config, { batch: 1, seq: 8, attention: 'auto', limits, generation: { maxBatch: 4, maxSeq: 32 } });
    expect(plan.problems).toContain(thrown);
  });

  it('a tensor above the buffer limit of a frozen base: createModel’s message', async () => {
    const config = cfg({ vocabSize: 301, tiedEmbeddings: false });
    const maxBufferBytes = 8192; // the embedding [304 × 32] f32 needs 38,912 bytes
    let thrown = '';
    try {
      await createModel(ctx, config, { seed: 1 }, { frozen: true, maxBufferBytes });
    } catch (e) {
      thrown = (e as Error).message;
    }
    expect(thrown).toMatch(/tensor model\.embed_tokens\.weight \[301, 32\] needs 38912 bytes/);
    const limits = { maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize, maxBufferSize: ctx.limits.maxBufferSize };
    const plan = memoryPlan(config, { batch: 1, seq: 8, attention: 'auto', limits, lora: { rank: 4, alpha: 8, targets: ['q'] }, maxBufferBytes });
    expect(plan.fits).toBe(false);
    expect(plan.problems).toContain(thrown);
    expect(plan.message.startsWith(thrown)).toBe(true);
  });
});
