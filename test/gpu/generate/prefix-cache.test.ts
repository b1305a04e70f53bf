// The row plan of prefix reuse (pure logic; no GPU): longest usable prefix per prompt,
// rows 0..B-1 only, copies for prefixes held elsewhere, deterministic.
import { describe, expect, it } from 'vitest';
import { commonPrefixLength, freshPlan, planRows } from '../../../src/engine/generate/prefix-cache.ts';

describe('planRows', () => {
  it('keeps each extended prompt in its row and skips its cached prefix', () => {
    const cached = [[1, 2, 3], [1, 5], [], []];
    const plan = planRows([[1, 2, 3, 4], [1, 5, 6]], cached);
    expect(plan).toEqual({ rows: [0, 1], starts: [3, 2], copies: [] });
  });

  it('always leaves the last prompt token to run, even for an identical prompt', () => {
    expect(planRows([[1, 2, 3]], [[1, 2, 3, 9]]).starts).toEqual([2]);
    expect(planRows([[1]], [[1, 2]]).starts).toEqual([0]);
  });

  it('finds prefixes in any order and copies rows ≥ B into free rows < B', () => {
    // episode in row 3 comes first, episode in row 1 second; B = 2
    const cached = [[7, 7], [1, 2, 3], [9], [1, 4, 4]];
    const plan = planRows([[1, 4, 4, 5], [1, 2, 3, 6]], cached);
    expect(plan.rows).toEqual([0, 1]);
    expect(plan.starts).toEqual([3, 3]);
    expect(plan.copies).toEqual([{ from: 3, to: 0, length: 3 }]);
  });

  it('shares one cached prefix between prompts by copying it; a diverging prompt reuses only the common part', () => {
    const cached = [[1, 2, 3, 4], [], []];
    const plan = planRows([[1, 2, 3, 4, 5], [1, 2, 3, 4, 6], [1, 2, 9]], cached);
    expect(plan.rows).toEqual([0, 1, 2]);
    expect(plan.starts).toEqual([4, 4, 2]);
    expect(plan.copies).toEqual([{ from: 0, to: 1, length: 4 }, { from: 0, to: 2, length: 2 }]);
  });

  it('never writes a row another prompt reads from', () => {
    // prompt 1 keeps row 0, which prompt 0 must not take; prompt 0's prefix comes from row 2
    const cached = [[1, 2, 3], [4, 4], [1, 8, 8]];
    const plan = planRows([[1, 8, 8, 1], [1, 2, 3, 5]], cached);
    expect(plan).toEqual({ rows: [1, 0], starts: [3, 3], copies: [{ from: 2, to: 1, length: 3 }] });
    const written = new Set(plan.copies.map((c) => c.to));
    for (const c of plan.copies) expect(written.has(c.from)).toBe(false);
  });

  it('without a cache it is the fresh plan', () => {
    expect(planRows([[1], [2, 3]], [[], [], []])).toEqual(freshPlan(2));
    expect(commonPrefixLength([1, 2, 3], [1, 2, 4, 5])).toBe(2);
  });
});
