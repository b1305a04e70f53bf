// The dataset-scale path on a few hundred trajectories: the real CLI in a child process group,
// kill -9 once half are answered, the same command again (select-scale.ts; the 14,000-trajectory
// run is `npx tsx scripts/select-scale.ts`, figures in docs/selection.md).
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatReport, runScale } from './select-scale.ts';

describe('atlas select killed with SIGKILL halfway, then run again', () => {
  it('300 trajectories: all written once, in input order; nothing finished before the kill is asked again', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'atlas-select-kill-'));
    try {
      const concurrency = 8;
      const r = await runScale({ dir, trajectories: 300, concurrency, latencyMs: [20, 80], killAt: 0.5 });
      console.log(formatReport(r));
      expect(r.problems).toEqual([]);
      expect(r.runs.map((run) => run.signal ?? run.exitCode)).toEqual(['SIGKILL', 0]);
      // The kill came halfway, and what had been answered was on disk (bar one trajectory per lane, whose retry was in flight).
      expect(r.kill!.answered).toBeGreaterThanOrEqual(150);
      expect(r.kill!.answered).toBeLessThan(300);
      expect(r.kill!.finishedOnDisk).toBeGreaterThanOrEqual(r.kill!.answered - concurrency);
      expect(r.output).toMatchObject({ lines: 300, inOrder: true });
      expect(r.output.labelled + r.output.failed).toBe(300);
      expect(r.paidTwice).toBe(0);
      expect(r.askedAgain).toBeLessThanOrEqual(concurrency);
      // The rerun took over exactly what the killed run had recorded, and its request count is the endpoint's.
      const summary = r.runs[1].summary!;
      expect(summary).toMatchObject({ total: 300, resumed: r.kill!.finishedOnDisk, requests: r.requests.perRun[1] });
      expect((summary.labelled as number) + (summary.failed as unknown[]).length).toBe(300);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
