// LoRA adapters (Hu et al., 2021): a frozen projection W gains a trainable low-rank update,
//   y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ,   A [r, in], B [out, r], s = alpha / r,
// on chosen projections of every layer. A starts uniform in ±1/√in (PEFT's default,
// Kaiming-uniform with a = √5), B at zero, so training starts from the base model exactly.
// Tensors carry PEFT's names, so an adapter saved here loads in PEFT and back.
import type { LlamaConfig } from './config.ts';
import { layerPrefix, layoutOf, type NamedTensors, type ParamLayout } from './params.ts';
import { createParamSet, type Model, type ParamSet } from './model.ts';
import { Rng } from '../data/rng.ts';

/** The projections LoRA can adapt: the option name, the HF module and its [out, in]. */
export const LORA_TARGETS = {
  q: { module: 'self_attn.q_proj', dims: (c: LlamaConfig) => [c.nHeads * c.headDim, c.dModel] },
  k: { module: 'self_attn.k_proj', dims: (c: LlamaConfig) => [c.nKvHeads * c.headDim, c.dModel] },
  v: { module: 'self_attn.v_proj', dims: (c: LlamaConfig) => [c.nKvHeads * c.headDim, c.dModel] },
  o: { module: 'self_attn.o_proj', dims: (c: LlamaConfig) => [c.dModel, c.nHeads * c.headDim] },
  gate: { module: 'mlp.gate_proj', dims: (c: LlamaConfig) => [c.hiddenDim, c.dModel] },
  up: { module: 'mlp.up_proj', dims: (c: LlamaConfig) => [c.hiddenDim, c.dModel] },
  down: { module: 'mlp.down_proj', dims: (c: LlamaConfig) => [c.dModel, c.hiddenDim] },
} as const satisfies Record<string, { module: string; dims: (c: LlamaConfig) => number[] }>;

export type LoraTarget = keyof typeof LORA_TARGETS;
export const LORA_TARGET_NAMES = Object.keys(LORA_TARGETS) as LoraTarget[];
/** PEFT's prefix for a causal LM's modules. */
export const PEFT_PREFIX = 'base_model.model.';

export interface LoraSpec {
  rank: number;
  alpha: number;
  targets: LoraTarget[];
}

/** Rank 16, alpha 32 on every projection: the usual choice for small instruct models. */
export const DEFAULT_LORA: LoraSpec = { rank: 16, alpha: 32, targets: [...LORA_TARGET_NAMES] };

export function validateLoraSpec(s: LoraSpec): void {
  const problems: string[] = [];
  if (!Number.isInteger(s.rank) || s.rank < 4 || s.rank % 4 !== 0) problems.push(`rank must be a positive multiple of 4 (got ${s.rank}; the kernels read vec4s)`);
  if (!(s.alpha > 0)) problems.push(`alpha must be positive (got ${s.alpha})`);
  if (!s.targets.length) problems.push('no target modules');
  const unknown = s.targets.filter((t) => !(t in LORA_TARGETS));
  if (unknown.length) problems.push(`unknown target ${unknown.map((t) => `"${t}"`).join(', ')} (choose from ${LORA_TARGET_NAMES.join(', ')})`);
  if (new Set(s.targets).size !== s.targets.length) problems.push(`a target is named twice (${s.targets.join(',')})`);
  if (problems.length) throw new Error(`Invalid LoRA settings: ${problems.join('; ')}`);
}

/** "q,k,v,o" → targets in the canonical order (the order PEFT lists them in does not matter). */
export function parseLoraTargets(text: string): LoraTarget[] {
  const names = text.split(',').map((t) => t.trim()).filter(Boolean);
  const spec = { rank: 4, alpha: 1, targets: names as LoraTarget[] };
  validateLoraSpec(spec);
  return LORA_TARGET_NAMES.filter((t) => names.includes(t));
}

export const loraScale = (s: LoraSpec): number => s.alpha / s.rank;

/** PEFT's tensor name of layer l's target t, matrix A or B. */
export function loraTensorName(l: number, t: LoraTarget, m: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${layerPrefix(l)}${LORA_TARGETS[t].module}.lora_${m}.weight`;
}

/** Every adapter tensor in buffer order: per layer, per target, A [r, in] then B [out, r]. */
export function loraShapes(c: LlamaConfig, s: LoraSpec): Array<{ name: string; shape: number[]; decay: boolean }> {
  const out: Array<{ name: string; shape: number[]; decay: boolean }> = [];
  for (let l = 0; l < c.nLayers; l++) {
    for (const t of s.targets) {
      const [o, i] = LORA_TARGETS[t].dims(c);
      out.push({ name: loraTensorName(l, t, 'A'), shape: [s.rank, i], decay: true });
      out.push({ name: loraTensorName(l, t, 'B'), shape: [o, s.rank], decay: true });
    }
  }
  return out;
}

export function loraLayout(c: LlamaConfig, s: LoraSpec): ParamLayout {
  return layoutOf(loraShapes(c, s));
}

/** Seeded start: A ~ U(−1/√in, 1/√in), B = 0. */
export function initLora(c: LlamaConfig, s: LoraSpec, seed: number): NamedTensors {
  const rng = new Rng(seed);
  const out: NamedTensors = new Map();
  for (const { name, shape } of loraShapes(c, s)) {
    const t = new Float32Array(shape[0] * shape[1]);
    if (name.endsWith('lora_A.weight')) {
      const bound = 1 / Math.sqrt(shape[1]);
      for (let i = 0; i < t.length; i++) t[i] = (2 * rng.next() - 1) * bound;
    }
    out.set(name, t);
  }
  return out;
}

/** One arm's adapter on the GPU: its own parameters and gradients (AdamW's moments live in
 *  the trainer), applied over a frozen model that several adapters may share. */
export interface Adapter extends ParamSet {
  readonly model: Model;
  readonly spec: LoraSpec;
  readonly scale: number;
}

export function createAdapter(model: Model, spec: LoraSpec, init: { seed: number } | NamedTensors): Adapter {
  validateLoraSpec(spec);
  const layout = loraLayout(model.config, spec);
  const tensors = init instanceof Map ? init : initLora(model.config, spec, init.seed);
  const set = createParamSet(model.res, 'lora', layout, tensors, true);
  return { ...set, model, spec: { ...spec, targets: LORA_TARGET_NAMES.filter((t) => spec.targets.includes(t)) }, scale: loraScale(spec) };
}

/** W + s·B·A for every adapted projection: the merged model a plain HF loader runs. */
export function mergeLora(c: LlamaConfig, base: NamedTensors, s: LoraSpec, adapter: NamedTensors): NamedTensors {
  const out: NamedTensors = new Map(base);
  const scale = loraScale(s);
  for (let l = 0; l < c.nLayers; l++) {
    for (const t of s.targets) {
      const [o, i] = LORA_TARGETS[t].dims(c);
      const name = `${layerPrefix(l)}${LORA_TARGETS[t].module}.weight`;
      const A = adapter.get(loraTensorName(l, t, 'A'))!;
      const B = adapter.get(loraTensorName(l, t, 'B'))!;
      const W = Float32Array.from(base.get(name)!);
      for (let row = 0; row < o; row++) {
        for (let col = 0; col < i; col++) {
          let acc = 0;
          for (let k = 0; k < s.rank; k++) acc += B[row * s.rank + k] * A[k * i + col];
          W[row * i + col] += scale * acc;
        }
      }
      out.set(name, W);
    }
  }
  return out;
}
