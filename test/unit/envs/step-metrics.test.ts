// Step-level metrics on expert trajectories with injected predictors / loss functions.
import { describe, expect, it } from 'vitest';
import { getEnv } from '../../../src/envs/registry.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import { nextActionMatch, stepLossMetrics, stepQueries } from '../../../src/envs/step-metrics.ts';

const ts = generateDemos(getEnv('household'), 8, 0, 'held-out', { mistakeRate: 0 });

describe('step metrics', () => {
  it('an oracle predictor (knows the true next action) matches every step', async () => {
    const byPrompt = new Map(stepQueries(ts).map((q) => [q.prompt, q.trajectory.steps[q.step].agent]));
    const m = await nextActionMatch(ts, async (prompts) => prompts.map((p) => byPrompt.get(p)!), 5);
    expect(m.steps).toBe(ts.reduce((a, t) => a + t.steps.length, 0));
    expect(m.exactMatch).toBe(1);
    expect(m.criticalSteps).toBe(ts.reduce((a, t) => a + t.groundTruth!.filter((r) => r !== 'routine').length, 0));
    expect(m.criticalExactMatch).toBe(1);
  });

  it('a predictor that always says "look" matches nothing; unparseable output never matches', async () => {
    expect((await nextActionMatch(ts, async (p) => p.map(() => 'Thought: x\nAction: look'))).matches).toBe(0);
    expect((await nextActionMatch(ts, async (p) => p.map(() => 'go to cabinet 1'))).matches).toBe(0);
  });

  it('a predictor right only on routine steps scores 0 on critical steps', async () => {
    const qs = stepQueries(ts);
    const byPrompt = new Map(qs.map((q) => [q.prompt, q]));
    const m = await nextActionMatch(ts, async (prompts) => prompts.map((p) => {
      const q = byPrompt.get(p)!;
      return q.trajectory.groundTruth![q.step] === 'routine' ? q.trajectory.steps[q.step].agent : 'Action: look';
    }));
    expect(m.criticalExactMatch).toBe(0);
    expect(m.exactMatch).toBeCloseTo((m.steps - m.criticalSteps) / m.steps, 10);
  });

  it('loss bookkeeping separates critical turns from all turns', async () => {
    // Loss 1 on critical steps, 0 on routine ones.
    const m = await stepLossMetrics(ts, async (t) => t.groundTruth!.map((r) => (r === 'routine' ? 0 : 1)));
    expect(m.criticalTurns).toBe(1);
    expect(m.allTurns).toBeCloseTo(m.critical / m.turns, 10);
    await expect(stepLossMetrics(ts, async () => [1])).rejects.toThrow(/has 1 values for \d+ steps/);
  });
});
