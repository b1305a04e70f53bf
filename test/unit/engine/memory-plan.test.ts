// The memory plan (src/engine/memory-plan.ts) for the real shapes of issue 13 (SmolLM2-135M, Qwen2.5-0.5B, Llama-3.2-1B) — no GPU.
// Its totals are checked against a count written here from the published shapes (every
// SmolLM2-135M / Qwen2.5-0.5B / Llama-3.2-1B dimension is a multiple of 64 floats, so no slot padding), its
// buffers against SwiftShader's limits (1 GiB each, what createGpuContext gets there) and
// WebGPU's defaults; its refusals suggest changes that do make the plan fit.
// (test/gpu/engine/memory-plan.test.ts shows, on small models, that the plan equals what the
// engine allocates.)
import { describe, expect, it } from 'vitest';
import { memoryPlan, WEBGPU_DEFAULT_LIMITS, type MemoryPlanOptions } from '../../../src/engine/memory-plan.ts';
import { DEFAULT_LORA } from '../../../src/engine/lora.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import { REAL_MODEL_SHAPES } from '../../../models/presets.ts';

const GiB = 2 ** 30;
const SWIFTSHADER = { maxStorageBufferBindingSize: GiB, maxBufferSize: GiB };
const smol = REAL_MODEL_SHAPES['smollm2-135m'].config;
const qwen = REAL_MODEL_SHAPES['qwen2.5-0.5b'].config;
const llama = REAL_MODEL_SHAPES['llama3.2-1b'].config;
const R = 512; // batch 1 × 512

/** Bytes by category for LoRA rank 16 on all seven projections, recompute attention and
 *  per-layer activation checkpointing (the residual x kept for every layer, one region of every
 *  other per-layer kind), logits in chunks of `logitsRows` rows, counted from the shapes. */
function byHand(c: LlamaConfig, halfBase: boolean, logitsRows: number) {
  const { vocabSize: V, dModel: d, nLayers: L, nHeads: H, headDim: hd, hiddenDim: h } = c;
  const q = H * hd;
  const kv = c.nKvHeads * hd;
  const matrices = V * d + L * (q * d + 2 * kv * d + d * q + 3 * h * d);
  const vectors = L * (2 * d + (c.qkvBias ? q + 2 * kv : 0)) + d;
  const rope = c.maxSeqLen * hd * 4;
  const weights = matrices * (halfBase ? 2 : 4) + vectors * 4 + rope;
  const r = 16;
  const adapterParams = L * r * ((d + q) + (d + kv) * 2 + (q + d) + (d + h) * 2 + (h + d));
  const perLayer = 5 * R * d + 2 * R + R * (q + 2 * kv) + H * R + R * 2 * h + R * h + 7 * R * r; // x xn1 att xmid xn2, rstd1/2, qkv, lse, gu, hact, lora
  const scratch = R * d * 3 + R + R * q + R * (q + 2 * kv) + H * R + R * h + R * 2 * h + 2 * R + 64 + R * r; // xf dres dxn, rstdf, datt, dqkv, delta, dhact, dgu, ce wloss, partial, dlora
  const activations = ((L + 1) * R * d /* x: L + 1 regions */ + (perLayer - R * d) /* one re-run layer */ + scratch) * 4;
  const logits = logitsRows * V * 4;
  const inputs = 256 /* stats */ + 4 * R * 4 + Math.ceil(((V + 1) * 4) / 256) * 256 /* inputs.0 */ + 4 * 16; /* staging ring */
  const optimizer = 2 * adapterParams * 4 + (adapterParams / 64) * 4 + 32;
  return { weights, adapter: adapterParams * 4, gradients: adapterParams * 4, optimizer, activations, logits, inputs, adapterParams, total: weights + 2 * adapterParams * 4 + optimizer + activations + logits + inputs };
}

const plan = (c: LlamaConfig, o: Partial<MemoryPlanOptions> = {}) => memoryPlan(c, { batch: 1, seq: R, lora: DEFAULT_LORA, weights: 'f32', attention: 'auto', limits: SWIFTSHADER, ...o });

describe('issue 13 shapes at batch 1 × 512, LoRA rank 16 on all seven projections', () => {
  // Logits chunks within 32 MiB: SmolLM2's 49,152-word rows (192 KiB) → 128 rows (4 chunks of
  // 512); Qwen2.5's 151,936-word rows (593.5 KiB) → the 64-row minimum (8 chunks).
  for (const [name, c, half, logitsRows] of [['SmolLM2-135M, f32 base', smol, false, 128], ['SmolLM2-135M, f16 base', smol, true, 128], ['Qwen2.5-0.5B, f16 base', qwen, true, 64], ['Llama-3.2-1B, f16 base', llama, true, 64]] as const) {
    it(`${name}: totals equal the count from the shapes, every buffer within SwiftShader's limits`, () => {
      const p = plan(c, { weights: half ? 'f16' : 'f32' });
      const want = byHand(c, half, logitsRows);
      expect(p.attention).toBe('recompute'); // auto: (L + 1)·H·T²·4 is above 128 MiB for both
      expect(p.checkpoint).toBe('layers'); // auto: every layer's activations are above 256 MiB for both
      expect(p.trainableParams).toBe(want.adapterParams);
      const { weights, adapter, gradients, optimizer, activations, logits, inputs } = p.totals;
      expect({ weights, adapter, gradients, optimizer, activations, logits, inputs }).toEqual({ weights: want.weights, adapter: want.adapter, gradients: want.gradients, optimizer: want.optimizer, activations: want.activations, logits: want.logits, inputs: want.inputs });
      expect(p.total).toBe(want.total);
      expect(p.fits).toBe(true);
      for (const b of p.buffers) {
        expect(b.bytes, b.label).toBeLessThanOrEqual(GiB);
        expect(b.binding, b.label).toBeLessThanOrEqual(GiB);
      }
      console.log(`${name}: ${p.total} bytes = ${(p.total / GiB).toFixed(3)} GiB; largest ${p.largest.label} ${p.largest.bytes}`);
    });
  }

  it('the figures recorded in docs/engine.md', () => {
    expect(plan(smol).total).toBe(711534816);
    expect(plan(smol, { weights: 'f16' }).total).toBe(442575072);
    expect(plan(qwen, { weights: 'f16' }).total).toBe(1294938976);
  });

  it("issue 13's targets: ≤ 1 GiB (SmolLM2, f32 base), ≤ 0.6 GiB (SmolLM2, f16 base), ≤ 2 GiB (Qwen2.5-0.5B, f16 base)", () => {
    expect(plan(smol).total).toBeLessThanOrEqual(GiB);
    expect(plan(smol, { weights: 'f16' }).total).toBeLessThanOrEqual(0.6 * GiB);
    expect(plan(qwen, { weights: 'f16' }).total).toBeLessThanOrEqual(2 * GiB);
    // without checkpointing and chunking they were 1.175, 0.925 and 2.313 GiB
    expect(plan(smol, { checkpoint: 'none' }).total).toBeGreaterThan(GiB);
  });

  it('Llama-3.2-1B with an f16 base: 2.71 GiB, its base split over three buffers within 1 GiB each', () => {
    const p = plan(llama, { weights: 'f16' });
    expect(p.total).toBe(2905210720);
    expect(p.buffers.filter((b) => b.label.startsWith('params.')).map((b) => b.label)).toEqual(['params.0', 'params.1', 'params.2']);
  });

  it("WebGPU's default limits: SmolLM2 fits with an f16 base (split into three 128 MiB buffers); Qwen2.5's f16 embedding alone is above 128 MiB", () => {
    const s = plan(smol, { weights: 'f16', limits: WEBGPU_DEFAULT_LIMITS });
    expect(s.problems).toEqual([]);
    expect(s.buffers.filter((b) => b.category === 'weights' && b.label.startsWith('params.')).length).toBe(3);
    const q = plan(qwen, { weights: 'f16', limits: WEBGPU_DEFAULT_LIMITS });
    expect(q.fits).toBe(false);
    expect(q.problems.some((m) => /tensor model\.embed_tokens\.weight \[151936, 896\] needs 272269312 bytes/.test(m))).toBe(true);
    expect(q.message).toMatch(/^Model does not fit this GPU: /);
    expect(q.suggestions).toEqual([]); // no sequence, batch or format makes the embedding fit
    expect(q.message).toMatch(/Neither a shorter sequence, a smaller batch, recomputed attention, activation checkpointing, LoRA nor f16 base weights makes it fit/);
  });
});

describe('refusals name the largest buffer and what makes it fit', () => {
  it('over a budget: the longest sequence that fits does, one token more does not', () => {
    const budget = 1.15 * GiB;
    const p = plan(qwen, { weights: 'f16', maxTotalBytes: budget });
    expect(p.fits).toBe(false);
    expect(p.message).toMatch(/needs 1\.21 GiB in all, above 1\.15 GiB; the largest buffer is "params"/);
    const seq = Number(/sequence ≤ (\d+)/.exec(p.message)![1]);
    expect(plan(qwen, { weights: 'f16', maxTotalBytes: budget, seq }).fits).toBe(true);
    expect(plan(qwen, { weights: 'f16', maxTotalBytes: budget, seq: seq + 1 }).fits).toBe(false);
  });

  it('suggests f16 for an f32 base, LoRA for full training, a smaller batch, recompute for stored attention', () => {
    const f32 = plan(smol, { maxTotalBytes: 0.6 * GiB });
    expect(f32.suggestions).toContain('f16 base weights');
    expect(plan(smol, { maxTotalBytes: 0.6 * GiB, weights: 'f16' }).fits).toBe(true);

    const full = plan(smol, { lora: undefined, maxTotalBytes: 1.5 * GiB });
    expect(full.fits).toBe(false); // weights, gradients and AdamW's moments alone take 2 GiB
    expect(full.suggestions.some((s) => s.startsWith('LoRA (rank 16 on q,k,v,o,gate,up,down) over the f32 base'))).toBe(true);

    const batched = plan(smol, { batch: 4, weights: 'f16', maxTotalBytes: 0.5 * GiB });
    const b = Number(/batch ≤ (\d+)/.exec(batched.message)![1]);
    expect(plan(smol, { batch: b, weights: 'f16', maxTotalBytes: 0.5 * GiB }).fits).toBe(true);
    expect(plan(smol, { batch: b + 1, weights: 'f16', maxTotalBytes: 0.5 * GiB }).fits).toBe(false);

    // every layer kept, stored attention's P [1, 9, 512, 512] per layer: 288 MiB over 30 layers + dS
    const stored = plan(smol, { weights: 'f16', attention: 'stored', checkpoint: 'none', maxTotalBytes: GiB });
    expect(stored.attention).toBe('stored');
    expect(stored.suggestions).toContain("attention 'recompute'");
    expect(stored.suggestions).toContain('per-layer activation checkpointing');
  });

  it('a sequence longer than the context, and 16-bit weights without LoRA, are refused', () => {
    const p = plan(smol, { seq: 4096 });
    expect(p.fits).toBe(false);
    expect(p.problems[0]).toBe("sequence 4096 is longer than the model's context (2048 positions)");
    expect(() => plan(smol, { lora: undefined, weights: 'f16' })).toThrow(/f16 base weights need LoRA/);
  });
});
