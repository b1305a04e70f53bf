// `atlas score` on data it cannot score says what is missing and which command makes it,
// instead of printing a table of dashes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { command as score } from '../../../src/cli/commands/score.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { makeTrajectory } from './fixtures.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'atlas-score-msg-'));
afterEach(() => vi.restoreAllMocks());

async function capture(argv: string[]) {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const code = await score.run(argv);
  vi.restoreAllMocks();
  return { code, out, last: JSON.parse(out[out.length - 1]) };
}

describe('atlas score: messages that point the right way', () => {
  it('--ground-truth on data with no selection names `atlas select`, with no table of dashes', async () => {
    const file = path.join(dir, 'demo.jsonl');
    writeFileSync(file, trajectoriesToJsonl([makeTrajectory('a', 6), makeTrajectory('b', 8)]));
    const r = await capture(['--in', file, '--ground-truth']);
    expect(r.code).toBe(1);
    expect(r.out[0]).toBe(`score: nothing to score: none of the 2 trajectories in ${file} has a selection to score: make one with \`atlas select --in ${file} --selector heuristic --out <labelled.jsonl>\` (or --selector oracle / judge), then score that file`);
    expect(r.out.some((l) => l.includes('   -  '))).toBe(false);
    expect(r.last.message).toMatch(/atlas select --in/);
    // A selector name that no trajectory has says so too.
    const named = await capture(['--in', file, '--selector', 'oracle']);
    expect(named.out[0]).toMatch(/has a selection by "oracle" to score: make one with `atlas select/);
    // Comparing two selectors that are not there.
    const ag = await capture(['--in', file, '--selector', 'heuristic', '--against-selector', 'random']);
    expect(ag.code).toBe(1);
    expect(ag.out[0]).toMatch(/^score: nothing to compare: none of the 2 trajectories in .* has a selection by "heuristic" to score: make one with `atlas select/);
  });

  it('data without ground truth points to the built-in demos and to --against', async () => {
    const file = path.join(dir, 'plain.jsonl');
    const t = { ...makeTrajectory('c', 6), groundTruth: undefined };
    writeFileSync(file, trajectoriesToJsonl([t]));
    const r = await capture(['--in', file, '--ground-truth']);
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^score: nothing to score: the one trajectory in .* has no ground-truth roles — only demonstrations from the built-in environments do \(`atlas env demo/);
  });
});
