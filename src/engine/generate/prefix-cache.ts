// Prefix reuse for the generator's KV cache: which cache row each prompt of a call runs in,
// and how many of its leading tokens already have valid K/V there. Pure logic, so the
// row choice is easy to test and the generator only has to apply the plan.
//
// A call with B prompts runs them in rows 0..B-1 (the head and sampler kernels cover those
// rows only). A prompt whose best cached prefix lies in another row (one ≥ B, or one that
// another prompt of the call keeps) gets that prefix copied into its own row first: a copy
// is far cheaper than recomputing it.

export interface RowPlan {
  /** Cache row of prompt i: a permutation of 0..B-1. */
  rows: number[];
  /** K/V of positions 0..starts[i]-1 of prompt i are already valid in its row (after the
   *  copies); prefill runs positions starts[i].. (always at least the last token). */
  starts: number[];
  /** Cached prefixes to copy (positions 0..length-1 of row `from` into row `to`) before
   *  the prefill. No row is both read and written. */
  copies: { from: number; to: number; length: number }[];
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Every prompt in row i from position 0: the plan without reuse. */
export function freshPlan(B: number): RowPlan {
  return { rows: Array.from({ length: B }, (_, i) => i), starts: new Array(B).fill(0), copies: [] };
}

/** Best cached row of one prompt: the longest usable prefix (capped at length − 1, as the
 *  last prompt token must run to give logits), lowest row on ties; row −1 if none helps. */
function bestSource(prompt: readonly number[], cached: readonly (readonly number[])[]): { row: number; use: number } {
  let best = { row: -1, use: 0 };
  cached.forEach((tokens, row) => {
    const use = Math.min(commonPrefixLength(prompt, tokens), prompt.length - 1);
    if (use > best.use) best = { row, use };
  });
  return best;
}

/** Deterministic plan: each prompt takes the cached row with its longest prefix; the first
 *  prompt (in call order) to want a row < B runs in it, the others (and prompts whose row is
 *  ≥ B) get a row < B that no prompt reads from, copied from their source row. */
export function planRows(prompts: readonly (readonly number[])[], cached: readonly (readonly number[])[]): RowPlan {
  const B = prompts.length;
  if (B > cached.length) throw new Error(`planRows: ${B} prompts for ${cached.length} cache rows`);
  const sources = prompts.map((p) => bestSource(p, cached));
  const rows = new Array<number>(B).fill(-1);
  const kept = new Set<number>();
  sources.forEach(({ row }, i) => {
    if (row >= 0 && row < B && !kept.has(row)) {
      rows[i] = row;
      kept.add(row);
    }
  });
  // Rows < B read by no prompt: every source row < B is kept, so these are exactly enough.
  const read = new Set(sources.map((s) => s.row));
  const free = Array.from({ length: B }, (_, r) => r).filter((r) => !read.has(r));
  const copies: RowPlan['copies'] = [];
  rows.forEach((row, i) => {
    if (row >= 0) return;
    rows[i] = free.shift()!;
    if (sources[i].row >= 0) copies.push({ from: sources[i].row, to: rows[i], length: sources[i].use });
  });
  return { rows, starts: sources.map((s) => s.use), copies };
}
