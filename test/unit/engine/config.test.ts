// Hugging Face configs of the families the engine runs (Llama, Mistral, Qwen2), the ones it
// refuses (naming the field and value), Llama 3 RoPE scaling and the padded vocabulary.
import { describe, expect, it } from 'vitest';
import { configFromHf, configToHf, paddedVocab, unpadLogits } from '../../../src/engine/config.ts';
import { ropeFrequency } from '../../../src/engine/kernels/rope.ts';
import { buildParamLayout } from '../../../src/engine/params.ts';

/** The shape of Qwen2.5-0.5B-Instruct's config.json (its published values). */
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864,
  num_attention_heads: 14, num_key_value_heads: 2, num_hidden_layers: 24, max_position_embeddings: 32768,
  rope_theta: 1000000.0, rms_norm_eps: 1e-6, tie_word_embeddings: true, vocab_size: 151936, hidden_act: 'silu',
  use_sliding_window: false, sliding_window: 32768, max_window_layers: 21, bos_token_id: 151643, eos_token_id: 151645,
};
/** Llama 3.2's rope_scaling block. */
const LLAMA32_SCALING = { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 };
const LLAMA = {
  model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2,
  num_hidden_layers: 2, max_position_embeddings: 256, vocab_size: 32001, rms_norm_eps: 1e-5, hidden_act: 'silu',
};

describe('model configs', () => {
  it('reads Qwen2 (q/k/v biases, θ = 1e6, head dim 64, tied) and writes it back as qwen2', () => {
    const c = configFromHf(QWEN25_05B);
    expect(c).toMatchObject({ qkvBias: true, headDim: 64, nHeads: 14, nKvHeads: 2, ropeTheta: 1e6, tiedEmbeddings: true, vocabSize: 151936 });
    const hf = configToHf(c);
    expect(hf).toMatchObject({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], use_sliding_window: false });
    expect(configFromHf(hf)).toEqual(c);
    const names = buildParamLayout(c).slots.map((s) => s.name);
    expect(names).toContain('model.layers.23.self_attn.q_proj.bias');
    expect(names).toContain('model.layers.0.self_attn.v_proj.bias');
    expect(names.filter((n) => n.endsWith('.bias'))).toHaveLength(3 * 24);
    expect(names).not.toContain('lm_head.weight');
  });

  it('reads Llama 3 rope_scaling and round-trips it', () => {
    const c = configFromHf({ ...LLAMA, rope_scaling: LLAMA32_SCALING, rope_theta: 500000 });
    expect(c.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
    expect(configFromHf(configToHf(c))).toEqual(c);
    expect(configFromHf({ ...LLAMA, rope_scaling: { rope_type: 'default' } }).ropeScaling).toBeUndefined();
    expect(configFromHf({ ...LLAMA, rope_scaling: null }).ropeScaling).toBeUndefined();
  });

  it('refuses what it does not implement, naming the field and value', () => {
    const refuse = (json: Record<string, unknown>, what: RegExp) => expect(() => configFromHf(json)).toThrow(what);
    refuse({ ...LLAMA, model_type: 'qwen3' }, /model_type "qwen3" \(the engine runs llama, mistral, qwen2\)/);
    refuse({ ...LLAMA, model_type: 'gpt2' }, /model_type "gpt2"/);
    refuse({ ...LLAMA, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling\.rope_type "yarn"/);
    refuse({ ...LLAMA, rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling\.rope_type "linear"/);
    refuse({ ...LLAMA, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling lacks "low_freq_factor"/);
    refuse({ ...LLAMA, attention_bias: true }, /attention_bias true/);
    refuse({ ...LLAMA, mlp_bias: true }, /mlp_bias true/);
    refuse({ ...LLAMA, hidden_act: 'gelu' }, /hidden_act "gelu"/);
    refuse({ ...QWEN25_05B, use_sliding_window: true }, /use_sliding_window true/);
    refuse({ ...LLAMA, vocab_size: '32001' }, /vocab_size "32001" \(expected a number\)/);
    const { hidden_size: _h, ...noWidth } = LLAMA;
    refuse(noWidth, /lacks "hidden_size"/);
  });

  it('pads any vocabulary to a multiple of 4 inside the engine, never in the shapes', () => {
    expect([301, 97, 32001, 50257, 151936, 4].map((v) => paddedVocab({ vocabSize: v }))).toEqual([304, 100, 32004, 50260, 151936, 4]);
    const c = configFromHf(LLAMA); // vocabulary 32001
    const emb = buildParamLayout(c).byName.get('model.embed_tokens.weight')!;
    expect(emb.shape).toEqual([32001, 64]);
    expect(emb.size).toBe(32001 * 64);
    expect(emb.span).toBe(32004 * 64);
    // rows of Vp = 8 logits → rows of V = 5
    const padded = Float32Array.from({ length: 16 }, (_, i) => i);
    expect(Array.from(unpadLogits(padded, 2, 5))).toEqual([0, 1, 2, 3, 4, 8, 9, 10, 11, 12]);
  });

  it('Llama 3 scaling keeps short wavelengths, stretches long ones and blends between', () => {
    const s = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } as const;
    // head dim 8, θ = 1e4: frequencies 1, 0.1, 0.01, 0.001 (wavelengths 6.28, 62.8, 628, 6283)
    expect(ropeFrequency(0, 8, 1e4, s)).toBeCloseTo(1, 12); // 6.28 < 64/4: kept
    expect(ropeFrequency(2, 8, 1e4, s)).toBeCloseTo(0.01 / 8, 12); // 628 > 64/1: stretched
    expect(ropeFrequency(3, 8, 1e4, s)).toBeCloseTo(0.001 / 8, 12);
    // 62.8 lies between 16 and 64: smooth = (64/62.83 − 1)/(4 − 1) = 0.006197; f = (1 − smooth)·0.1/8 + smooth·0.1
    const smooth = (64 / (2 * Math.PI * 10) - 1) / 3;
    expect(smooth).toBeCloseTo(0.0061972, 6);
    expect(ropeFrequency(1, 8, 1e4, s)).toBeCloseTo((1 - smooth) * 0.0125 + smooth * 0.1, 12);
    expect(ropeFrequency(1, 8, 1e4)).toBeCloseTo(0.1, 12);
  });
});
