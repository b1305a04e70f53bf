// Small random Llama models for the generation tests (seeded, so every run is the same).
import type { LlamaConfig } from '../../../src/engine/config.ts';
import { buildParamLayout, type NamedTensors } from '../../../src/engine/params.ts';
import { Rng } from '../../../src/data/rng.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';

export function tinyConfig(over: Partial<LlamaConfig> = {}): LlamaConfig {
  return {
    vocabSize: 64, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, hiddenDim: 40,
    maxSeqLen: 64, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
    ...over,
  };
}

/** Weights and biases ~ N(0, scale²) (norm weights 1 + N(0, 0.1²)): large enough that logits spread out. */
export function randomWeights(c: LlamaConfig, seed: number, scale = 0.35): NamedTensors {
  const rng = new Rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rng.next(), 1e-12))) * Math.cos(2 * Math.PI * rng.next());
  const out: NamedTensors = new Map();
  for (const s of buildParamLayout(c).slots) {
    const isNorm = s.name.endsWith('norm.weight');
    out.set(s.name, Float32Array.from({ length: s.size }, () => (isNorm ? 1 + 0.1 * normal() : scale * normal())));
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A seeded batch of random ids and labels, about 30 % of positions at weight 0. */
export function randomBatch(seed: number, B: number, T: number, V: number): TokenBatch {
  const rng = new Rng(seed);
  const n = B * T;
  return {
    inputIds: Int32Array.from({ length: n }, () => rng.int(V)),
    labels: Int32Array.from({ length: n }, () => rng.int(V)),
    weights: Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : 0.5 + rng.next())),
    batch: B,
    seqLen: T,
  };
}

/** A seeded batch with masked positions of both kinds: ≈ 20 % of labels −100, ≈ 30 % of
 *  weights 0, the rest weight 1. */
export function maskedBatch(seed: number, B: number, T: number, V: number): TokenBatch {
  const rng = new Rng(seed);
  return {
    inputIds: Int32Array.from({ length: B * T }, () => rng.int(V)),
    labels: Int32Array.from({ length: B * T }, () => (rng.next() < 0.2 ? -100 : rng.int(V))),
    weights: Float32Array.from({ length: B * T }, () => (rng.next() < 0.3 ? 0 : 1)),
    batch: B,
    seqLen: T,
  };
}
