// `atlas bench --quick-demo` drives the real page: it must click Start, follow the run to its
// end and report what it saw (steps per arm, phases, the final table). A short config link
// keeps this quick; the timing figures themselves are printed, never asserted.
import { describe, it, expect } from 'vitest';
import { benchQuickDemo, formatQuickDemoTiming } from '../../src/cli/quick-demo-bench.ts';

const SHORT = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:household+grid:4/1:s1:m0.15&labels=heuristic&steps=8&batch=1&seq=512&lr=0.005&warmup=1&evalEvery=4&rolloutEvery=0&rolloutEpisodes=1&rolloutMaxSteps=1&nextAction=2&turnTokens=8&time=none';

describe('atlas bench --quick-demo', () => {
  it('runs the page from Start to done and reports steps, phases and the results table', async () => {
    const t = await benchQuickDemo({ hash: SHORT });
    console.log(formatQuickDemoTiming(t));
    expect(t.finalStatus).toMatch(/^done · step 8 \/ 8/);
    expect(t.steps).toEqual({ critical: 8, full: 8 });
    expect(t.linkProblems).toEqual([]);
    expect(t.adapter).toMatch(/swiftshader/i);
    expect(t.firstPointsMs).toBeGreaterThan(0);
    expect(t.firstPointsMs).toBeLessThanOrEqual(t.totalMs);
    expect(t.phaseMs.training).toBeGreaterThan(0);
    expect(t.phaseMs.evaluating).toBeGreaterThan(0);
    // The phases cover the run from the click to the end (sampled every 100 ms).
    const covered = Object.values(t.phaseMs).reduce((a, b) => a + b, 0);
    expect(Math.abs(covered - t.totalMs)).toBeLessThan(1000);
    const rows = t.resultsTable.split('\n');
    expect(rows[0]).toMatch(/^arm\theld-in success %\theld-out success %/);
    expect(rows.slice(1).map((r) => r.split('\t')[0].trim())).toEqual(['critical', 'full', 'base (untuned start, same episodes and cap)', 'expert (same episodes and cap)']);
    // One rollout episode per environment and split, capped at one turn: no task is that short,
    // so every row — the expert's ceiling too — is 0.
    for (const r of rows.slice(1)) expect(r.split('\t').slice(1, 3)).toEqual(['0.0', '0.0']);
  }, 300_000);
});
