// Synthetic copying batches for the base's pretraining (`atlas pretrain --copy-mix F`,
// docs/base-agent.md). Each row is a run of random tokens followed by the same run again,
// with loss only where the repeat can be predicted: the classic task that makes a transformer
// grow attention heads that find an earlier occurrence and copy what followed it. The base
// needs exactly that to carry the task's object into its plan, and the explorer's corpus alone
// never taught it; `scripts/copy-task.ts` shows the base's shape learns this task in a few
// hundred steps on the engine.
import type { TokenBatch } from '../engine/batch.ts';
import { Rng } from '../data/rng.ts';
import type { TextTokenizer } from '../data/tokenize.ts';

/** Token ids a copying row may use: every id but the tokenizer's special ones. */
export function copyableIds(tokenizer: TextTokenizer): number[] {
  const special = new Set([...Object.values(tokenizer.specialTokens), tokenizer.padId]);
  return Array.from({ length: tokenizer.vocabSize }, (_, id) => id).filter((id) => !special.has(id));
}

/** B rows of T tokens: T/2 random ids, then the same ids again. Position p predicts p + 1;
 *  weight 1 from the second copy's first token on (its first token itself is unpredictable). */
export function copyBatch(ids: readonly number[], batch: number, seqLen: number, rng: Rng): TokenBatch {
  const half = Math.floor(seqLen / 2);
  const inputIds = new Int32Array(batch * seqLen);
  const labels = new Int32Array(batch * seqLen).fill(-100);
  const weights = new Float32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    const row = b * seqLen;
    for (let i = 0; i < half; i++) inputIds[row + i] = inputIds[row + half + i] = ids[rng.int(ids.length)];
    // An odd seqLen leaves one last position: a copy of the run's first token, to keep it simple.
    if (seqLen % 2) inputIds[row + seqLen - 1] = inputIds[row];
    for (let p = half; p < 2 * half - 1; p++) {
      labels[row + p] = inputIds[row + p + 1];
      weights[row + p] = 1;
    }
  }
  return { inputIds, labels, weights, batch, seqLen };
}

/** Whether the n-th batch of a stream (from 0) is a copying one when a fraction `mix` of
 *  them are: evenly spaced, so any stretch of steps has its share. */
export function isCopyBatch(n: number, mix: number): boolean {
  return mix > 0 && Math.floor((n + 1) * mix) > Math.floor(n * mix);
}
