import { describe, expect, it } from 'vitest';
import { batchFromRows, effectiveWeights, tokenCsr, validateBatch } from '../../../src/engine/batch.ts';
import { PRESETS } from '../../../models/presets.ts';

const config = PRESETS.test.config;
const limits = { maxBatch: 4, maxSeqLen: 32 };

describe('token batches', () => {
  it('builds a flat batch from rows and rejects ragged rows, naming the row', () => {
    const b = batchFromRows({ input_ids: [[1, 2, 3], [4, 5, 6]], labels: [[2, 3, -100], [5, 6, 7]], weights: [[1, 0, 1], [0.5, 2, 1]] });
    expect([b.batch, b.seqLen]).toEqual([2, 3]);
    expect(Array.from(b.labels)).toEqual([2, 3, -100, 5, 6, 7]);
    expect(Array.from(effectiveWeights(b))).toEqual([1, 0, 0, 0.5, 2, 1]);
    expect(() => batchFromRows({ input_ids: [[1, 2, 3], [4, 5]], labels: [[1, 2, 3], [4, 5]] })).toThrow(/input_ids row 1 has 2 tokens.*ragged/);
    expect(() => batchFromRows({ input_ids: [[1, 2]], labels: [[1, 2]], weights: [[1]] })).toThrow(/weights row 0 has 1 tokens/);
    expect(() => batchFromRows({ input_ids: [[1, 2.5]], labels: [[1, 2]] })).toThrow(/input_ids\[0\]\[1\] = 2.5 is not an integer/);
  });
  it('rejects token ids and labels outside the vocabulary and bad weights, with their position', () => {
    const ok = batchFromRows({ input_ids: [[1, 2, 3]], labels: [[2, 3, 4]] });
    expect(() => validateBatch(ok, config, limits)).not.toThrow();
    const badId = batchFromRows({ input_ids: [[1, 64, 3]], labels: [[2, 3, 4]] });
    expect(() => validateBatch(badId, config, limits)).toThrow(/input id 64 at row 0, position 1 is outside the vocabulary \[0, 64\)/);
    const badLabel = batchFromRows({ input_ids: [[1, 2, 3]], labels: [[2, -1, 4]] });
    expect(() => validateBatch(badLabel, config, limits)).toThrow(/label -1 at row 0, position 1/);
    const badWeight = batchFromRows({ input_ids: [[1, 2, 3]], labels: [[2, 3, 4]], weights: [[1, -0.5, 1]] });
    expect(() => validateBatch(badWeight, config, limits)).toThrow(/weight -0.5 .* must be a finite number ≥ 0/);
    const tooLong = batchFromRows({ input_ids: [Array(33).fill(1)], labels: [Array(33).fill(1)] });
    expect(() => validateBatch(tooLong, config, limits)).toThrow(/seqLen 33 exceeds the model's context 32/);
  });
  it('groups positions by token (CSR) in ascending order', () => {
    const { offsets, positions } = tokenCsr(Int32Array.from([3, 1, 3, 0]), 5);
    expect(Array.from(offsets)).toEqual([0, 1, 2, 2, 4, 4]);
    expect(Array.from(positions)).toEqual([3, 1, 0, 2]);
  });
});
