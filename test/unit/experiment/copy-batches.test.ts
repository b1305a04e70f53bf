// Synthetic copying batches (`atlas pretrain --copy-mix F`, `--copy-warmup N`): the repeat
// equals the run, loss only where the repeat is predictable, no special token, an even share of
// the stream, a warm-up of copying rows before any episode, and a stream stopped anywhere resumes
// with the same batches.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { copyableIds, copyBatch, isCopyBatch } from '../../../src/experiment/copy-batches.ts';
import { CorpusStream } from '../../../src/experiment/pretrain-corpus.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';

const tok = defaultTokenizer();
const key = (b: TokenBatch) => Array.from(b.inputIds).join();
/** A copying row of 256: its first half repeated. */
const isCopy = (b: TokenBatch) => Array.from(b.inputIds.subarray(0, 128)).join() === Array.from(b.inputIds.subarray(128, 256)).join();

describe('copyBatch', () => {
  it('repeats a run of random ordinary tokens and weighs only the predictable repeat', () => {
    const ids = copyableIds(tok);
    expect(ids).not.toContain(tok.padId);
    for (const special of Object.values(tok.specialTokens)) expect(ids).not.toContain(special);
    expect(ids.length).toBeGreaterThan(tok.vocabSize - 20);
    const b = copyBatch(ids, 3, 10, new Rng(4));
    expect([b.batch, b.seqLen, b.inputIds.length]).toEqual([3, 10, 30]);
    for (let r = 0; r < 3; r++) {
      const row = Array.from(b.inputIds.subarray(r * 10, r * 10 + 10));
      expect(row.slice(5)).toEqual(row.slice(0, 5));
      const w = Array.from(b.weights.subarray(r * 10, r * 10 + 10));
      // Positions 5..8 predict tokens 6..9 (the repeat's 2nd to 5th); nothing else carries loss.
      expect(w).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
      for (let p = 5; p < 9; p++) expect(b.labels[r * 10 + p]).toBe(row[p + 1]);
      expect(b.labels[r * 10 + 9]).toBe(-100);
    }
    // Rows differ from each other, and a seed gives the same batch.
    expect(Array.from(b.inputIds.subarray(0, 5))).not.toEqual(Array.from(b.inputIds.subarray(10, 15)));
    expect(copyBatch(ids, 3, 10, new Rng(4))).toEqual(b);
  });

  it('takes an even share of the stream', () => {
    const share = (mix: number, n: number) => Array.from({ length: n }, (_, i) => isCopyBatch(i, mix)).filter(Boolean).length;
    expect(share(0, 100)).toBe(0);
    expect(share(0.5, 100)).toBe(50);
    expect(share(0.25, 100)).toBe(25);
    // Evenly spaced: every 4 consecutive batches hold one copying batch at 0.25.
    for (let i = 0; i < 96; i += 4) expect(share(0.25, i + 4) - share(0.25, i)).toBe(1);
  });

  it('in the corpus stream: the share asked for, and a stream resumed from any position serves the same batches', () => {
    const opts = { seed: 3, tokenizer: tok, batchSize: 2, seqLen: 256, copyMix: 0.5 };
    const whole = new CorpusStream(opts);
    const served = Array.from({ length: 12 }, () => whole.next());
    expect(served.filter(isCopy)).toHaveLength(6);
    const first = new CorpusStream(opts);
    for (let i = 0; i < 5; i++) first.next();
    const resumed = new CorpusStream(opts, { ...first.position });
    expect(Array.from({ length: 7 }, () => key(resumed.next()))).toEqual(served.slice(5).map(key));
    // Without the mix, the episodes come in the same order, just without the copying rows.
    const plain = new CorpusStream({ ...opts, copyMix: 0 });
    expect(Array.from({ length: 6 }, () => key(plain.next()))).toEqual(served.filter((b) => !isCopy(b)).map(key));
  });

  it('a warm-up serves copying rows only, then the episodes and the mix as without it, resumable inside and after it', () => {
    const opts = { seed: 3, tokenizer: tok, batchSize: 2, seqLen: 256, copyMix: 0.5 };
    const warm = new CorpusStream({ ...opts, copyWarmup: 3 });
    const served = Array.from({ length: 11 }, () => warm.next());
    expect(served.map(isCopy)).toEqual([true, true, true, false, true, false, true, false, true, false, true]);
    // The episodes are the stream's first ones: the warm-up does not move the corpus.
    const plain = new CorpusStream({ ...opts, copyMix: 0 });
    expect(Array.from({ length: 4 }, () => key(plain.next()))).toEqual(served.filter((b) => !isCopy(b)).map(key));
    // Every warm-up row is a fresh draw.
    expect(new Set(served.slice(0, 3).map(key)).size).toBe(3);
    for (const stop of [2, 5]) {
      const first = new CorpusStream({ ...opts, copyWarmup: 3 });
      for (let i = 0; i < stop; i++) first.next();
      const resumed = new CorpusStream({ ...opts, copyWarmup: 3 }, { ...first.position });
      expect(Array.from({ length: 11 - stop }, () => key(resumed.next()))).toEqual(served.slice(stop).map(key));
    }
  });
});
