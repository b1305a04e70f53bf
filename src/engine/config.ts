// Model configuration of a decoder-only Llama-family transformer (Llama, Mistral without a
// sliding window, Qwen2), and its conversion from / to a Hugging Face `config.json`.

/** Llama 3's RoPE frequency scaling (HF `rope_scaling` with `rope_type: "llama3"`): long
 *  wavelengths are divided by `factor`, short ones kept, the band between blended. */
export interface RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface LlamaConfig {
  vocabSize: number;
  /** d_model: width of the residual stream. */
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (grouped-query attention); nHeads must be a multiple of it. */
  nKvHeads: number;
  /** Per-head width; usually dModel / nHeads. */
  headDim: number;
  /** SwiGLU hidden width (HF: intermediate_size). */
  hiddenDim: number;
  /** Longest sequence the model is run on (positions 0 .. maxSeqLen-1). */
  maxSeqLen: number;
  ropeTheta: number;
  normEps: number;
  /** LM head shares the token embedding matrix. */
  tiedEmbeddings: boolean;
  /** Biases on the q, k and v projections (Qwen2); absent or false for Llama. */
  qkvBias?: boolean;
  ropeScaling?: RopeScaling;
  bosTokenId?: number;
  eosTokenId?: number;
}

export function validateConfig(c: LlamaConfig): void {
  const problems: string[] = [];
  for (const key of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'headDim', 'hiddenDim', 'maxSeqLen'] as const) {
    const v = c[key];
    if (!Number.isInteger(v) || v <= 0) problems.push(`${key} must be a positive integer (got ${v})`);
  }
  if (c.nHeads % c.nKvHeads !== 0) problems.push(`nHeads (${c.nHeads}) must be a multiple of nKvHeads (${c.nKvHeads})`);
  if (c.headDim % 2 !== 0) problems.push(`headDim (${c.headDim}) must be even for rotary embeddings`);
  if (!(c.ropeTheta > 0)) problems.push(`ropeTheta must be positive (got ${c.ropeTheta})`);
  if (!(c.normEps > 0)) problems.push(`normEps must be positive (got ${c.normEps})`);
  const rs = c.ropeScaling;
  if (rs) {
    if (!(rs.factor >= 1)) problems.push(`ropeScaling.factor must be ≥ 1 (got ${rs.factor})`);
    if (!(rs.highFreqFactor > rs.lowFreqFactor && rs.lowFreqFactor > 0)) problems.push(`ropeScaling needs 0 < lowFreqFactor < highFreqFactor (got ${rs.lowFreqFactor}, ${rs.highFreqFactor})`);
    if (!(rs.originalMaxPositions > 0)) problems.push(`ropeScaling.originalMaxPositions must be positive (got ${rs.originalMaxPositions})`);
  }
  if (problems.length) throw new Error(`Unsupported model config: ${problems.join('; ')}`);
}

/** HF model types the engine runs, and whether their q/k/v projections carry biases. */
const MODEL_TYPES: Record<string, { qkvBias: boolean }> = {
  llama: { qkvBias: false },
  mistral: { qkvBias: false },
  qwen2: { qkvBias: true },
};

const refuse = (what: string): never => {
  throw new Error(`Unsupported model config: ${what}`);
};

/** `rope_scaling` → RopeScaling; null, absent or type "default" mean none. */
function ropeScalingFromHf(v: unknown): RopeScaling | undefined {
  if (v == null) return undefined;
  if (typeof v !== 'object') return refuse(`rope_scaling ${JSON.stringify(v)} (expected an object)`);
  const o = v as Record<string, unknown>;
  const type = o.rope_type ?? o.type;
  if (type === 'default') return undefined;
  if (type !== 'llama3') return refuse(`rope_scaling.rope_type "${String(type)}" (the engine implements "llama3" and no scaling)`);
  const num = (k: string): number => (typeof o[k] === 'number' ? (o[k] as number) : refuse(`rope_scaling lacks "${k}" (needed for rope_type "llama3")`));
  return { type: 'llama3', factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'), originalMaxPositions: num('original_max_position_embeddings') };
}

/** Reads a Hugging Face `config.json` of a Llama, Mistral or Qwen2 model. Refuses, naming the
 *  field and its value, anything the engine does not implement — before any GPU work. */
export function configFromHf(json: Record<string, unknown>): LlamaConfig {
  const num = (k: string, fallback?: number): number => {
    const v = json[k];
    if (typeof v === 'number') return v;
    if (fallback !== undefined && v == null) return fallback;
    return refuse(v == null ? `config.json lacks "${k}"` : `${k} ${JSON.stringify(v)} (expected a number)`);
  };
  const modelType = json.model_type ?? 'llama';
  const family = typeof modelType === 'string' ? MODEL_TYPES[modelType] : undefined;
  if (!family) return refuse(`model_type "${String(modelType)}" (the engine runs ${Object.keys(MODEL_TYPES).join(', ')})`);
  if (json.attention_bias === true) refuse('attention_bias true (biases on every attention projection, o_proj included, are not implemented; Qwen2\'s q/k/v biases are)');
  if (json.mlp_bias === true) refuse('mlp_bias true (MLP biases are not implemented)');
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') refuse(`hidden_act "${String(json.hidden_act)}" (only silu)`);
  if (json.use_sliding_window === true) refuse('use_sliding_window true (sliding-window attention is not implemented)');
  const dModel = num('hidden_size');
  const nHeads = num('num_attention_heads');
  const ropeScaling = ropeScalingFromHf(json.rope_scaling);
  const cfg: LlamaConfig = {
    vocabSize: num('vocab_size'),
    dModel,
    nLayers: num('num_hidden_layers'),
    nHeads,
    nKvHeads: num('num_key_value_heads', nHeads),
    headDim: num('head_dim', dModel / nHeads),
    hiddenDim: num('intermediate_size'),
    maxSeqLen: num('max_position_embeddings'),
    ropeTheta: num('rope_theta', 10000),
    normEps: num('rms_norm_eps', 1e-6),
    tiedEmbeddings: json.tie_word_embeddings === true,
    ...(family.qkvBias ? { qkvBias: true } : {}),
    ...(ropeScaling ? { ropeScaling } : {}),
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosTokenId: typeof json.eos_token_id === 'number' ? json.eos_token_id : undefined,
  };
  validateConfig(cfg);
  return cfg;
}

export function configToHf(c: LlamaConfig): Record<string, unknown> {
  const rs = c.ropeScaling;
  return {
    ...(c.qkvBias ? { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', use_sliding_window: false } : { architectures: ['LlamaForCausalLM'], model_type: 'llama', attention_bias: false }),
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    head_dim: c.headDim,
    intermediate_size: c.hiddenDim,
    max_position_embeddings: c.maxSeqLen,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.normEps,
    tie_word_embeddings: c.tiedEmbeddings,
    hidden_act: 'silu',
    ...(rs ? { rope_scaling: { rope_type: rs.type, factor: rs.factor, low_freq_factor: rs.lowFreqFactor, high_freq_factor: rs.highFreqFactor, original_max_position_embeddings: rs.originalMaxPositions } } : {}),
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
    torch_dtype: 'float32',
  };
}

/** The vocabulary as the engine lays it out: rounded up to a multiple of 4 (its kernels read
 *  vec4s). The extra rows of the embedding and LM head stay zero and their logits are masked,
 *  so the model computes exactly what the true vocabulary does; files keep the true shape. */
export function paddedVocab(c: Pick<LlamaConfig, 'vocabSize'>): number {
  return Math.ceil(c.vocabSize / 4) * 4;
}

/** Rows of Vp logits (the engine's layout) → rows of the true V (a copy only when they differ). */
export function unpadLogits(padded: Float32Array, rows: number, V: number): Float32Array {
  const Vp = paddedVocab({ vocabSize: V });
  if (Vp === V) return padded.length === rows * V ? padded : padded.slice(0, rows * V);
  const out = new Float32Array(rows * V);
  for (let r = 0; r < rows; r++) out.set(padded.subarray(r * Vp, r * Vp + V), r * V);
  return out;
}
