// Token batches as the trainer takes them, their validation (every bad input named with
// its position), and the CPU-side preparation uploaded with them.
import type { LlamaConfig } from './config.ts';

/** B×T tokens, row-major. Position t predicts labels[b·T + t] (no shift inside the engine);
 *  label −100 = ignored (weight 0). weights ≥ 0 scale each position's loss. */
export interface TokenBatch {
  inputIds: Int32Array;
  labels: Int32Array;
  weights: Float32Array;
  batch: number;
  seqLen: number;
}

export const IGNORE_LABEL = -100;

export function validateBatch(b: TokenBatch, config: LlamaConfig, limits: { maxBatch: number; maxSeqLen: number }, where = 'batch'): void {
  const { batch: B, seqLen: T } = b;
  if (!Number.isInteger(B) || B < 1) throw new Error(`${where}: batch must be a positive integer (got ${B})`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`${where}: seqLen must be a positive integer (got ${T})`);
  if (T > config.maxSeqLen) throw new Error(`${where}: seqLen ${T} exceeds the model's context ${config.maxSeqLen}`);
  if (T > limits.maxSeqLen) throw new Error(`${where}: seqLen ${T} exceeds the workspace's maxSeqLen ${limits.maxSeqLen}`);
  if (B > limits.maxBatch) throw new Error(`${where}: batch ${B} exceeds the workspace's maxBatch ${limits.maxBatch}`);
  const n = B * T;
  for (const [name, arr] of [['inputIds', b.inputIds], ['labels', b.labels], ['weights', b.weights]] as const) {
    if (arr.length !== n) throw new Error(`${where}: ${name} has ${arr.length} values, expected batch×seqLen = ${B}×${T} = ${n}`);
  }
  const V = config.vocabSize;
  for (let i = 0; i < n; i++) {
    const id = b.inputIds[i];
    if (!(id >= 0 && id < V)) throw new Error(`${where}: input id ${id} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${V})`);
    const lab = b.labels[i];
    if (lab !== IGNORE_LABEL && !(lab >= 0 && lab < V)) throw new Error(`${where}: label ${lab} at row ${Math.floor(i / T)}, position ${i % T} is outside the vocabulary [0, ${V}) (use ${IGNORE_LABEL} to ignore a position)`);
    const w = b.weights[i];
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`${where}: weight ${w} at row ${Math.floor(i / T)}, position ${i % T} must be a finite number ≥ 0`);
  }
}

/** Weights with ignored labels forced to 0. */
export function effectiveWeights(b: TokenBatch): Float32Array {
  const w = Float32Array.from(b.weights);
  for (let i = 0; i < w.length; i++) if (b.labels[i] === IGNORE_LABEL) w[i] = 0;
  return w;
}

/** Positions grouped by token id (CSR), for the deterministic embedding backward. */
export function tokenCsr(ids: Int32Array, vocabSize: number): { offsets: Uint32Array; positions: Uint32Array } {
  const offsets = new Uint32Array(vocabSize + 1);
  for (const id of ids) offsets[id + 1]++;
  for (let v = 0; v < vocabSize; v++) offsets[v + 1] += offsets[v];
  const fill = offsets.slice(0, vocabSize);
  const positions = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) positions[fill[ids[i]]++] = i;
  return { offsets, positions };
}

/** Builds a batch from JSON-like rows, rejecting ragged or non-integer input with the
 *  offending row named. `labels` default to −100 nowhere: callers pass them explicitly. */
export function batchFromRows(rows: { input_ids: unknown; labels: unknown; weights?: unknown }, where = 'batch'): TokenBatch {
  const ids = matrix(rows.input_ids, `${where}.input_ids`, true);
  const labels = matrix(rows.labels, `${where}.labels`, true);
  const weights = rows.weights === undefined ? ids.map((r) => r.map(() => 1)) : matrix(rows.weights, `${where}.weights`, false);
  const B = ids.length;
  const T = ids[0].length;
  for (const [name, m] of [['input_ids', ids], ['labels', labels], ['weights', weights]] as const) {
    if (m.length !== B) throw new Error(`${where}.${name} has ${m.length} rows, input_ids has ${B}`);
    m.forEach((row, r) => {
      if (row.length !== T) throw new Error(`${where}.${name} row ${r} has ${row.length} tokens, row 0 of input_ids has ${T} (ragged rows are not allowed; pad and give the padding weight 0)`);
    });
  }
  return {
    inputIds: Int32Array.from(ids.flat()),
    labels: Int32Array.from(labels.flat()),
    weights: Float32Array.from(weights.flat()),
    batch: B,
    seqLen: T,
  };
}

function matrix(v: unknown, where: string, integers: boolean): number[][] {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${where} must be a non-empty array of rows`);
  return v.map((row, r) => {
    if (!Array.isArray(row) || row.length === 0) throw new Error(`${where} row ${r} must be a non-empty array`);
    return row.map((x, t) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || (integers && !Number.isInteger(x))) {
        throw new Error(`${where}[${r}][${t}] = ${JSON.stringify(x)} is not ${integers ? 'an integer' : 'a finite number'}`);
      }
      return x;
    });
  });
}
