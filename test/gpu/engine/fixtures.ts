// Loads the PyTorch reference fixtures written by test/fixtures/engine/make_grad_fixtures.py.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { NamedTensors } from '../../../src/engine/params.ts';
import { batchFromRows, type TokenBatch } from '../../../src/engine/batch.ts';
import type { LoraSpec } from '../../../src/engine/lora.ts';

export const FIXTURE_DIR = resolve('test/fixtures/engine');
export const GRAD_CASES = ['gqa_tied_T7_B2', 'mha_untied_T5_B3', 'mqa_untied_T13_B1', 'qwen2_bias_V301_T9_B2', 'qwen2_untied_mqa_V97_T6_B3', 'llama3_rope_V7_T11_B1', 'long_mha_T300_B1', 'base_heads32_T512_B1'];

export interface GradFixture {
  config: LlamaConfig;
  batch: TokenBatch;
  params: NamedTensors;
  grads: NamedTensors;
  loss: number;
}

export function loadGradFixture(name: string): GradFixture {
  const meta = JSON.parse(readFileSync(resolve(FIXTURE_DIR, `${name}.json`), 'utf8'));
  const raw = readFileSync(resolve(FIXTURE_DIR, `${name}.bin`));
  const flat = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const params: NamedTensors = new Map();
  const grads: NamedTensors = new Map();
  const total = (meta.tensors as Array<{ shape: number[] }>).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  if (flat.length !== 2 * total) throw new Error(`${name}.bin has ${flat.length} floats, expected ${2 * total}`);
  let o = 0;
  for (const t of meta.tensors as Array<{ name: string; shape: number[] }>) {
    const n = t.shape.reduce((x, y) => x * y, 1);
    params.set(t.name, flat.slice(o, o + n));
    grads.set(t.name, flat.slice(total + o, total + o + n));
    o += n;
  }
  return { config: meta.config, batch: batchFromRows(meta.batch, name), params, grads, loss: meta.loss };
}

/** ‖a − b‖ / ‖b‖ (‖a‖ when b is all zeros). */
export function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export const LORA_CASES = ['lora_all_r4_gqa_T7_B2', 'lora_qv_r8_qwen2_V97_T6_B2'];

export interface LoraFixture {
  config: LlamaConfig;
  spec: LoraSpec;
  batch: TokenBatch;
  params: NamedTensors;
  adapter: NamedTensors;
  adapterGrads: NamedTensors;
  loss: number;
}

/** A LoRA case: base parameters, adapter parameters and the adapter's gradients (base frozen). */
export function loadLoraFixture(name: string): LoraFixture {
  const meta = JSON.parse(readFileSync(resolve(FIXTURE_DIR, `${name}.json`), 'utf8'));
  const raw = readFileSync(resolve(FIXTURE_DIR, `${name}.bin`));
  const flat = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let o = 0;
  const take = (list: Array<{ name: string; shape: number[] }>) => {
    const out: NamedTensors = new Map();
    for (const t of list) {
      const n = t.shape.reduce((x, y) => x * y, 1);
      out.set(t.name, flat.slice(o, o + n));
      o += n;
    }
    return out;
  };
  const params = take(meta.tensors);
  const adapter = take(meta.lora.tensors);
  const adapterGrads = take(meta.lora.tensors);
  if (o !== flat.length) throw new Error(`${name}.bin has ${flat.length} floats, the tensors listed take ${o}`);
  const { rank, alpha, targets } = meta.lora;
  return { config: meta.config, spec: { rank, alpha, targets }, batch: batchFromRows(meta.batch, name), params, adapter, adapterGrads, loss: meta.loss };
}
