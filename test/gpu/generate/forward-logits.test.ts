// Generation runs the training forward pass: the logits a generator samples from — after a
// prefill (ragged rows, several chunks) and at every decode step — equal the logits
// Trainer.logits computes for the same sequences in one batched forward pass, on the same
// Model. They agree bit for bit on this machine's adapter; the assertion leaves 1e-6 of room
// for compilers that fuse the two attention kernels' multiply-adds differently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import type { MatmulVariant } from '../../../src/engine/kernels/matmul.ts';
import { randomWeights, tinyConfig } from './tiny-model.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const T = 14;
const PROMPTS = [[1, 5, 9], [1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 3, 17, 4, 4, 4]];
const LLAMA3_ROPE = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 16 } as const;
const ODD = { vocabSize: 52, dModel: 24, nHeads: 4, nKvHeads: 1, headDim: 12, hiddenDim: 44 };
const CASES: Array<{ label: string; shape: object; tied: boolean; kernels: 'thread' | 'workgroup'; matmul?: MatmulVariant }> = [
  { label: 'GQA, untied', shape: {}, tied: false, kernels: 'thread' },
  { label: 'GQA, tied', shape: {}, tied: true, kernels: 'workgroup' },
  { label: 'odd-shaped MQA', shape: ODD, tied: true, kernels: 'thread', matmul: 'shared' },
  { label: 'odd-shaped MQA', shape: ODD, tied: false, kernels: 'workgroup', matmul: 'register8x8' },
  // Qwen2's q/k/v biases and vocabularies that are not a multiple of 4 (the engine pads them)
  { label: 'Qwen2-shaped, vocabulary 53', shape: { vocabSize: 53, qkvBias: true, ropeTheta: 1e6 }, tied: true, kernels: 'thread' },
  { label: 'Llama 3 RoPE scaling, vocabulary 50', shape: { vocabSize: 50, ropeScaling: LLAMA3_ROPE }, tied: false, kernels: 'workgroup', matmul: 'shared' },
];

describe('a generator’s logits are the training forward pass’s logits', () => {
  for (const { label, shape, tied, kernels, matmul } of CASES) {
    it(`${label}, ${kernels} attention, ${matmul ?? 'default'} matmul`, async () => {
      const config = tinyConfig({ ...shape, tiedEmbeddings: tied });
      const model = await createModel(ctx, config, randomWeights(config, tied ? 71 : 72, 0.3));
      // prefill in chunks of 5 slots: rows' tokens are split across submits
      const gen = await createGenerator(model, { maxBatch: 4, maxSeq: T, kernels, matmul, prefillChunk: 5 });
      const rowMax = PROMPTS.map((p) => T - p.length);
      const out = await gen.generateDetailed(PROMPTS, { maxNewTokens: Math.max(...rowMax), rowMaxNewTokens: rowMax, collectLogits: true });
      const seqs = PROMPTS.map((p, r) => [...p, ...out.tokens[r]]);
      for (const s of seqs) expect(s).toHaveLength(T);
      for (const s of seqs) expect(Math.max(...s)).toBeLessThan(config.vocabSize);

      const trainer = new Trainer(model, {}, { maxBatch: PROMPTS.length, maxSeqLen: T, attention: 'stored', matmul });
      const ids = Int32Array.from(seqs.flat());
      const batch = { inputIds: ids, labels: new Int32Array(ids.length).fill(-100), weights: new Float32Array(ids.length), batch: PROMPTS.length, seqLen: T };
      const logits = await trainer.logits(batch);
      const V = config.vocabSize;
      let worst = 0;
      let compared = 0;
      PROMPTS.forEach((p, r) => {
        expect(out.logits![r]).toHaveLength(rowMax[r]);
        out.logits![r].forEach((l, s) => {
          const at = (r * T + p.length - 1 + s) * V;
          for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(l[v] - logits[at + v]));
          compared++;
        });
      });
      console.log(`${label}, ${kernels}, ${matmul ?? 'default'}: ${compared} positions, max |generator − trainer| = ${worst}`);
      expect(compared).toBe(PROMPTS.length * T - PROMPTS.reduce((n, p) => n + p.length, 0));
      expect(worst).toBeLessThanOrEqual(1e-6);
      trainer.destroy();
      gen.destroy();
      model.destroy();
    });
  }
});
