// Model configuration of a decoder-only Llama-family transformer, and its conversion
// from / to a Hugging Face `config.json`.

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
  if (problems.length) throw new Error(`Unsupported model config: ${problems.join('; ')}`);
}

/** Reads a Hugging Face Llama `config.json`. Rejects features the engine does not implement. */
export function configFromHf(json: Record<string, unknown>): LlamaConfig {
  const num = (k: string, fallback?: number): number => {
    const v = json[k];
    if (typeof v === 'number') return v;
    if (fallback !== undefined) return fallback;
    throw new Error(`Unsupported model config: config.json lacks "${k}"`);
  };
  const modelType = json.model_type;
  if (modelType !== undefined && modelType !== 'llama' && modelType !== 'mistral' && modelType !== 'qwen2' && modelType !== 'qwen3') {
    throw new Error(`Unsupported model config: model_type "${String(modelType)}" (the engine runs Llama-family models)`);
  }
  if (json.rope_scaling != null) throw new Error('Unsupported model config: rope_scaling is not implemented');
  if (json.attention_bias === true || json.mlp_bias === true) throw new Error('Unsupported model config: attention/MLP biases are not implemented');
  if (json.hidden_act !== undefined && json.hidden_act !== 'silu') throw new Error(`Unsupported model config: hidden_act "${String(json.hidden_act)}" (only silu)`);
  const dModel = num('hidden_size');
  const nHeads = num('num_attention_heads');
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
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosTokenId: typeof json.eos_token_id === 'number' ? json.eos_token_id : undefined,
  };
  validateConfig(cfg);
  return cfg;
}

export function configToHf(c: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
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
    attention_bias: false,
    ...(c.bosTokenId !== undefined ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenId !== undefined ? { eos_token_id: c.eosTokenId } : {}),
    torch_dtype: 'float32',
  };
}
