// Named model sizes. The SwiGLU hidden width h is chosen so the MLP's 3·d·h parameters
// match a GPT-2-style block's 4·d MLP (8·d² parameters): h ≈ 8d/3, rounded to a multiple
// of 4 (the kernels read vec4s). With 4·d² attention parameters every block then has
// ≈ 12·d² parameters, as in GPT-2.
import type { LlamaConfig } from '../src/engine/config.ts';

export interface ModelPreset {
  name: string;
  description: string;
  config: LlamaConfig;
  /** Sequences per step used by `atlas bench` and as a default batch. */
  batch: number;
  /** Pretrained weights shipped with the app: a Hugging Face folder under models/ (config,
   *  safetensors, tokenizer, provenance). Absent = seeded random weights. */
  weights?: string;
  /** Tokens per row `atlas bench` trains on (default: the whole context). */
  benchSeqLen?: number;
}

export function swigluHidden(dModel: number): number {
  return Math.round((8 * dModel) / 3 / 4) * 4;
}

function llama(vocabSize: number, dModel: number, nLayers: number, nHeads: number, maxSeqLen: number, nKvHeads = nHeads): LlamaConfig {
  return {
    vocabSize,
    dModel,
    nLayers,
    nHeads,
    nKvHeads,
    headDim: dModel / nHeads,
    hiddenDim: swigluHidden(dModel),
    maxSeqLen,
    ropeTheta: 10000,
    normEps: 1e-5,
    tiedEmbeddings: true,
  };
}

export const PRESETS: Record<string, ModelPreset> = {
  test: { name: 'test', description: 'tiny model for tests (≈ 27k parameters)', config: llama(64, 32, 2, 4, 32, 2), batch: 2 },
  S: { name: 'S', description: 'vocab 512, d_model 64, 2 layers, 4 heads, context 64', config: llama(512, 64, 2, 4, 64), batch: 4 },
  M: { name: 'M', description: 'vocab 512, d_model 128, 4 layers, 4 heads, context 128', config: llama(512, 128, 4, 4, 128), batch: 4 },
  // Context 512: the built-in environments' instructions alone take 220–340 tokens of the
  // default tokenizer, and a window must hold the instruction plus at least one agent turn.
  default: {
    name: 'default',
    description: 'playground default: vocab 1024, d_model 128, 4 layers, 4 heads, context 512 (≈ 0.92M parameters; trains in a laptop browser)',
    config: llama(1024, 128, 4, 4, 512),
    batch: 4,
  },
  // The base agent's shape: context 512 holds an instruction and a few turns; d_model 64 with
  // 2 heads of 32 keeps a training step of 4 × 512 tokens near 3 s on SwiftShader.
  small: {
    name: 'small',
    description: 'random weights in the base agent\'s shape: vocab 1024, d_model 64, 4 layers, 2 heads, context 512 (≈ 0.26M parameters)',
    config: llama(1024, 64, 4, 2, 512),
    batch: 4,
  },
  base: {
    name: 'base',
    description: 'the base agent: the small shape pretrained on an explorer\'s episodes in the built-in environments (models/base, docs/base-agent.md)',
    config: llama(1024, 64, 4, 2, 512),
    batch: 4,
    weights: 'base',
  },
  tiny: {
    name: 'tiny',
    description: 'smallest model for the built-in data: vocab 1024, d_model 32, 1 layer, 2 heads, context 512 (≈ 45k parameters; the Quick demo, e2e tests)',
    config: llama(1024, 32, 1, 2, 512),
    batch: 2,
  },
};

export function getPreset(name: string): ModelPreset {
  const p = PRESETS[name];
  if (!p) throw new Error(`Unknown model preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return p;
}

/** Real small models' shapes (their published config.json; random weights made at bench
 *  time, nothing downloaded), for `atlas bench --config NAME` and its memory plan. The
 *  context is cut to 2048 positions (the RoPE table's length; the published ones are 8192 and
 *  32768): only bench sequences up to that are planned. Not playground presets. */
export const REAL_MODEL_SHAPES: Record<string, ModelPreset> = {
  'smollm2-135m': {
    name: 'smollm2-135m',
    description: 'SmolLM2-135M shape (HuggingFaceTB/SmolLM2-135M): vocab 49152, d_model 576, 30 layers, 9 heads (3 kv) of 64, MLP 1536, tied',
    config: { vocabSize: 49152, dModel: 576, nLayers: 30, nHeads: 9, nKvHeads: 3, headDim: 64, hiddenDim: 1536, maxSeqLen: 2048, ropeTheta: 100000, normEps: 1e-5, tiedEmbeddings: true },
    batch: 1,
    benchSeqLen: 512,
  },
  'qwen2.5-0.5b': {
    name: 'qwen2.5-0.5b',
    description: 'Qwen2.5-0.5B shape (Qwen/Qwen2.5-0.5B): vocab 151936, d_model 896, 24 layers, 14 heads (2 kv) of 64, MLP 4864, q/k/v biases, tied',
    config: { vocabSize: 151936, dModel: 896, nLayers: 24, nHeads: 14, nKvHeads: 2, headDim: 64, hiddenDim: 4864, maxSeqLen: 2048, ropeTheta: 1e6, normEps: 1e-6, tiedEmbeddings: true, qkvBias: true },
    batch: 1,
    benchSeqLen: 512,
  },
  // The Llama-3.2-1B class: 1.24 B parameters, Llama 3's rope_scaling; context kept at 2048 like
  // the others (the published 131,072 only lengthens the RoPE table).
  'llama3.2-1b': {
    name: 'llama3.2-1b',
    description: 'Llama-3.2-1B shape (meta-llama/Llama-3.2-1B): vocab 128256, d_model 2048, 16 layers, 32 heads (8 kv) of 64, MLP 8192, llama3 rope scaling, tied',
    config: {
      vocabSize: 128256, dModel: 2048, nLayers: 16, nHeads: 32, nKvHeads: 8, headDim: 64, hiddenDim: 8192, maxSeqLen: 2048, ropeTheta: 500000, normEps: 1e-5, tiedEmbeddings: true,
      ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
    },
    batch: 1,
    benchSeqLen: 512,
  },
};

/** A preset or a real model's shape, for `atlas bench --config`. */
export function getBenchConfig(name: string): ModelPreset {
  const p = PRESETS[name] ?? REAL_MODEL_SHAPES[name];
  if (!p) throw new Error(`Unknown model config "${name}" (presets: ${Object.keys(PRESETS).join(', ')}; real model shapes: ${Object.keys(REAL_MODEL_SHAPES).join(', ')})`);
  return p;
}
