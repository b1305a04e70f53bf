// `atlas score --restart --model preset:tiny`: the restart test with a real model on WebGPU
// (random weights: this checks the plumbing — replay, batched generation, the report — not
// success). Two trajectories, one restart per category, two model turns.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { applySelector } from '../../../src/experiment/data.ts';

async function atlas(argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), out };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('atlas score --restart with a model', () => {
  it('runs every category on 2 trajectories with preset:tiny and reports counts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'atlas-restart-gpu-'));
    const ts = generateDemos(getEnv('grid'), 2, 100001, 'held-in');
    applySelector(ts, 'heuristic', 0.3);
    const file = path.join(dir, 'heur.jsonl');
    writeFileSync(file, trajectoriesToJsonl(ts));
    const { code, out } = await atlas(['score', '--in', file, '--restart', '--model', 'preset:tiny', '--episodes', '2', '--per-trajectory', '1', '--max-steps', '2', '--json']);
    expect(code).toBe(0);
    const { restart } = JSON.parse(out[out.length - 1]);
    expect(restart).toMatchObject({ model: 'preset:tiny', selection: 'active', trajectories: 2, perTrajectory: 1, maxSteps: 2, skipped: [] });
    const byCategory = Object.fromEntries(restart.categories.map((c: { category: string }) => [c.category, c]));
    expect(Object.keys(byCategory)).toEqual(['start', 'selected', 'random', 'rejected']);
    for (const c of ['start', 'selected', 'random', 'rejected']) {
      const x = byCategory[c];
      expect(x.restarts).toBe(2);
      expect(x.successes).toBeGreaterThanOrEqual(x.doneByReplay);
      expect(x.successes).toBeLessThanOrEqual(2);
      // Two model turns at most, none when the replay already finished the task.
      expect(x.meanModelTurns).toBeLessThanOrEqual(2);
    }
    expect(byCategory.start.meanReplayed).toBe(0);
    expect(byCategory.start.meanModelTurns).toBeGreaterThan(0);
    expect(restart.comparisons.map((c: { second: string }) => c.second)).toEqual(['start', 'random', 'rejected']);
  });
});
