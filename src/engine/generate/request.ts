// One generate() call's request: its options, checked against the generator (every
// problem named with its row and token), and the token slots its prefill runs.
import type { Generator } from './generator.ts';
import type { RowPlan } from './prefix-cache.ts';

export const MAX_STOP_TOKENS = 64;

export interface GenerateOptions {
  maxNewTokens: number;
  /** Per prompt, fewer new tokens than maxNewTokens (each ≥ 1): a row's own limit, so what a
   *  prompt may write does not depend on the other prompts of its batch. */
  rowMaxNewTokens?: number[];
  /** 0 (default) = greedy argmax. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties at the k-th logit kept); 0 = all. topK 1 = greedy. */
  topK?: number;
  /** Seed of the sampling random numbers (default 0). */
  seed?: number;
  /** A row stops after producing one of these (the stop token is included in its output). */
  stopTokens?: number[];
}

/** A call's options after checking. */
export interface Call {
  prompts: number[][];
  maxNew: number;
  rowMax: number[];
  temperature: number;
  topK: number;
  seed: number;
  stops: number[];
  collect: boolean;
}

/** Checks a call; throws naming the first problem. */
export function checkCall(gen: Pick<Generator, 'config' | 'maxBatch' | 'maxSeq'>, prompts: number[][], o: GenerateOptions & { collectLogits?: boolean }): Call {
  const c = gen.config;
  const B = prompts.length;
  if (B < 1 || B > gen.maxBatch) throw new Error(`generate: ${B} prompts; this generator takes 1..${gen.maxBatch}`);
  const maxNew = o.maxNewTokens;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer (got ${maxNew})`);
  const temperature = o.temperature ?? 0;
  const topK = o.topK ?? 0;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be ≥ 0 (got ${temperature})`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`generate: topK must be a non-negative integer (got ${topK})`);
  const stops = o.stopTokens ?? [];
  if (stops.length > MAX_STOP_TOKENS) throw new Error(`generate: at most ${MAX_STOP_TOKENS} stop tokens (got ${stops.length})`);
  const rowMax = o.rowMaxNewTokens ?? prompts.map(() => maxNew);
  if (rowMax.length !== B) throw new Error(`generate: rowMaxNewTokens has ${rowMax.length} entries for ${B} prompts`);
  prompts.forEach((p, r) => {
    if (p.length === 0) throw new Error(`generate: prompt ${r} is empty (start it with the BOS token)`);
    if (o.rowMaxNewTokens && (!Number.isInteger(rowMax[r]) || rowMax[r] < 1 || rowMax[r] > maxNew)) throw new Error(`generate: rowMaxNewTokens[${r}] must be a whole number in 1..maxNewTokens (got ${rowMax[r]})`);
    if (p.length + rowMax[r] > gen.maxSeq) throw new Error(`generate: prompt ${r} has ${p.length} tokens + ${rowMax[r]} new > maxSeq ${gen.maxSeq}`);
    p.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`generate: prompt ${r} token ${t} is ${id}, outside the vocabulary (0..${c.vocabSize - 1})`);
    });
  });
  for (const s of stops) if (!Number.isInteger(s) || s < 0 || s >= c.vocabSize) throw new Error(`generate: stop token ${s} is outside the vocabulary`);
  return { prompts, maxNew, rowMax, temperature, topK, seed: o.seed ?? 0, stops, collect: o.collectLogits === true };
}

/** Prefill slots (id, row, pos, isLast) of every prompt's uncached tokens, prompt by prompt. */
export function prefillSlots(prompts: number[][], plan: RowPlan): number[] {
  const slots: number[] = [];
  prompts.forEach((p, i) => {
    for (let pos = plan.starts[i]; pos < p.length; pos++) slots.push(p[pos], plan.rows[i], pos, pos === p.length - 1 ? 1 : 0);
  });
  return slots;
}

/** How many of a row's `count` new tokens went back through the model, so their K/V are in
 *  the cache, after `decodeSteps` decode steps. Decode step s feeds every row's token s−1;
 *  a finished row's slot keeps its last token at the same position, so later steps rewrite
 *  that token's K/V with the same values. Only a row's last token may be missing: it is fed
 *  iff a decode step ran after it was sampled. */
export function fedTokens(count: number, decodeSteps: number): number {
  return Math.min(count, decodeSteps);
}
