// The plain-language summary under the results table is generated from the numbers and says
// whether a difference is larger than the spread over seeds.
import { describe, expect, it } from 'vitest';
import { summarizeResults } from '../../../src/experiment/summary.ts';
import type { ResultsTable } from '../../../src/experiment/results.ts';

const spread = (values: number[]) => ({ mean: values.reduce((a, b) => a + b, 0) / values.length, min: Math.min(...values), max: Math.max(...values), n: values.length });

describe('summarizeResults', () => {
  const table = (critical: number[], full: number[]): ResultsTable => ({
    rows: [
      { arm: 'critical', seeds: critical.map((_, i) => i + 1), step: 60, cells: { successHeldIn: spread(critical) } },
      { arm: 'full', seeds: full.map((_, i) => i + 1), step: 60, cells: { successHeldIn: spread(full) } },
    ],
    base: { successHeldIn: 0.2 },
    expert: { successHeldIn: 0.9 },
  });

  it('names each arm, the base and the expert, and calls an overlap smaller than the spread', () => {
    const s = summarizeResults(table([0.3, 0.4, 0.35], [0.25, 0.45, 0.3]), { critical: 300, full: 1000 });
    expect(s[0]).toBe('Held-in success: critical 35.0 % (30.0 %–40.0 % over 3 seeds), full 33.3 % (25.0 %–45.0 % over 3 seeds); the untuned base 20.0 %; the expert 90.0 % on the same episodes.');
    expect(s[1]).toBe('On held-in success, critical is ahead of full by 1.7 points — smaller than the spread over seeds (their ranges overlap): this run cannot tell them apart.');
    expect(s[2]).toBe("Supervised tokens, as a share of the full arm's: critical 30 %.");
  });

  it('calls a gap with disjoint ranges larger than the spread, and one seed not judgeable', () => {
    expect(summarizeResults(table([0.5, 0.6], [0.2, 0.3]))[1]).toMatch(/critical is ahead of full by 30\.0 points — larger than the spread over seeds/);
    expect(summarizeResults(table([0.2], [0.5]))[1]).toMatch(/full is ahead of critical by 30\.0 points — one seed gives no spread/);
  });
});
