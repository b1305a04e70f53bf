// Generate mode says when the prompt had to be cut to fit the model's context: in the repairs of
// a labelled answer, and at the end of a failure (a scripted model stands in for transformers.js).
import { describe, expect, it } from 'vitest';
import { LocalJudge, type JudgeModel } from '../../../src/select/judge.ts';
import { runSelection } from '../../../src/select/run.ts';
import { makeTrajectory } from './fixtures.ts';

function scripted(replies: string[], cut: boolean): JudgeModel {
  return {
    id: 'scripted',
    maxContext: 256,
    async generate(messages, maxNewTokens) {
      const promptTokens = messages.reduce((n, m) => n + m.content.length, 0);
      const budget = 256 - maxNewTokens;
      return cut ? { text: replies.shift() ?? '', promptTokens: budget, completionTokens: 5, truncatedFrom: promptTokens } : { text: replies.shift() ?? '', promptTokens, completionTokens: 5 };
    },
    async yesNoLogOdds() {
      throw new Error('not used');
    },
    countTokens: () => 0,
  };
}

describe('local judge generate mode: prompts cut to the context', () => {
  it('a labelled answer lists the cut first among its repairs', async () => {
    const lm = scripted(['{"plan": "p", "critical": [{"step": 2, "category": "action", "reason": "r"}]}'], true);
    const { trajectories } = await runSelection([makeTrajectory('cut', 6)], { selector: 'judge', model: new LocalJudge(lm, { mode: 'generate', maxNewTokens: 56 }) });
    const sel = trajectories[0].selections[0];
    expect(sel.status).toBe('labelled');
    expect(sel.critical).toEqual([{ step: 2, category: 'action', reason: 'r' }]);
    expect(sel.repairs?.[0]).toMatch(/^the prompt was cut to its end to fit the model's 256-token context minus 56 new tokens \(tokens \d+ → 200\)$/);
  });

  it('a failure ends with the cuts of both attempts', async () => {
    const lm = scripted(['Once upon a time', 'there was a dog'], true);
    const { trajectories, summary } = await runSelection([makeTrajectory('cut2', 6)], { selector: 'judge', model: new LocalJudge(lm, { mode: 'generate', maxNewTokens: 56 }) });
    expect(summary.failed).toHaveLength(1);
    expect(summary.failed[0].reason).toMatch(/^reply unusable twice: first no JSON object found in the reply; then no JSON object found in the reply \(the last reply began "there was a dog"\); the prompt was cut to its end to fit the model's 256-token context minus 56 new tokens \(tokens (\d+) → 200, (\d+) → 200\)$/);
    expect(trajectories[0].selections[0].failure).toBe(summary.failed[0].reason);
  });

  it('says nothing when the prompt fitted', async () => {
    const lm = scripted(['{"plan": "p", "critical": [{"step": 1, "category": "plan", "reason": "r"}]}'], false);
    const { trajectories } = await runSelection([makeTrajectory('fit', 6)], { selector: 'judge', model: new LocalJudge(lm, { mode: 'generate' }) });
    expect((trajectories[0].selections[0].repairs ?? []).some((r) => r.includes('cut'))).toBe(false);
  });
});
