import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { loadJudge, LocalJudge, fitScoreMessages, buildScoreMessages, type JudgeModel } from '../../../src/select/judge.ts';
import { runSelection } from '../../../src/select/run.ts';
import { budgetCount } from '../../../src/data/arms.ts';
import { makeTrajectory } from './fixtures.ts';

const MODELS = path.resolve('../shared/models/stories260K');
const haveModel = existsSync(path.join(MODELS, 'hf/onnx/model.onnx'));
if (!haveModel) console.warn(`judge tests skipped: ${MODELS}/hf is absent`);

describe.skipIf(!haveModel)('local judge on the real stories260K ONNX model, offline', () => {
  it('score mode: loads offline, scores differ by step, picks the top of the budget', async () => {
    const judge = await loadJudge({ model: 'hf', localModelPath: MODELS, mode: 'score', maxStepChars: 60 });
    expect(judge.lm.maxContext).toBe(512);
    const ts = [makeTrajectory('s1', 5), makeTrajectory('s2', 6, { object: 'mug', place: 'shelf' }), makeTrajectory('s3', 7, { withMistake: true })];
    const { trajectories, summary } = await runSelection(ts, { selector: 'judge', model: judge, budget: 0.3 });
    expect(summary).toMatchObject({ selector: 'judge:hf', labelled: 3, failed: [] });
    expect(summary.requests).toBe(5 + 6 + 7); // one forward pass per step
    for (const t of trajectories) {
      const sel = t.selections[0];
      expect(sel).toMatchObject({ status: 'labelled', promptVersion: 'atlas-judge-score/1', model: 'hf' });
      const { scores } = await judge.scoreSteps(t);
      expect(scores).toHaveLength(t.steps.length);
      expect(scores.every((p) => p > 0 && p < 1)).toBe(true);
      expect(new Set(scores.map((p) => p.toFixed(6))).size).toBeGreaterThan(1);
      const k = budgetCount(t.steps.length, 0.3);
      const top = scores.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map((x) => x[1]);
      expect(sel.critical.map((c) => c.step)).toEqual(top);
      expect(sel.critical[0].reason).toBe(`P(yes) = ${scores[top[0]].toFixed(4)}`);
    }
  }, 60_000);

  it('generate mode: runs the model on the oracle prompt; a story model gives no JSON, so it fails with the reason', async () => {
    const judge = await loadJudge({ model: 'hf', localModelPath: MODELS, mode: 'generate', maxNewTokens: 24 });
    const { trajectories, summary } = await runSelection([makeTrajectory('g1', 5)], { selector: 'judge', model: judge });
    expect(summary.labelled).toBe(0);
    expect(summary.requests).toBe(2); // the first reply and the one retry with the error
    expect(summary.tokens.completion).toBeGreaterThan(0);
    expect(summary.tokens.completion).toBeLessThanOrEqual(48);
    const sel = trajectories[0].selections[0];
    expect(sel).toMatchObject({ status: 'failed', selector: 'judge:hf', promptVersion: 'atlas-select/1' });
    expect(sel.failure).toMatch(/^reply unusable twice: first no JSON object found in the reply; then .*the last reply began "/);
  }, 60_000);

  it('refuses a hub id when offline, with a clear error', async () => {
    await expect(loadJudge({ model: 'someone/not-here', localModelPath: MODELS, mode: 'score' })).rejects.toThrow(/cannot load the judge model from folder "someone\/not-here"/);
  });

  it('runs on onnxruntime-web (wasm) in Node too, with the same scores', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve('test/unit/select/judge-wasm-child.ts'), MODELS], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out.web).toBe(true);
    const native = await loadJudge({ model: 'hf', localModelPath: MODELS, mode: 'score', maxStepChars: 60 });
    const { scores } = await native.scoreSteps(makeTrajectory('wasm', 5));
    expect(out.scores).toHaveLength(5);
    out.scores.forEach((p: number, i: number) => expect(p).toBeCloseTo(scores[i], 4));
  }, 60_000);
});

describe('local judge generate mode, parsing path', () => {
  it('validates a generated JSON reply like the oracle does', async () => {
    const replies = ['Here you go: {"plan": "p", "critical": [{"step": 3, "category": "Critical Action", "reason": "puts it"}, 3, {"step": 0, "category": "plan", "reason": "plans"}]}'];
    const lm: JudgeModel = {
      id: 'scripted',
      maxContext: 4096,
      async generate() {
        return { text: replies.shift() ?? '', promptTokens: 10, completionTokens: 5 };
      },
      async yesNoLogOdds() {
        throw new Error('not used');
      },
      countTokens: () => 0,
    };
    const { trajectories } = await runSelection([makeTrajectory('gen', 8)], { selector: 'judge', model: new LocalJudge(lm, { mode: 'generate' }) });
    const sel = trajectories[0].selections[0];
    expect(sel.status).toBe('labelled');
    expect(sel.critical).toEqual([
      { step: 3, category: 'action', reason: 'puts it' },
      { step: 0, category: 'plan', reason: 'plans' },
    ]);
    expect(sel.repairs).toEqual([
      'extracted the JSON object from text around it',
      'entry 0: category "Critical Action" read as "action"',
      'entry 1: bare step 3 without category or reason',
      'entry 1: dropped duplicate step 3',
    ]);
  });
});

describe('score-mode question fitting', () => {
  const count = (m: { content: string }[]) => Math.ceil(m.reduce((n, x) => n + x.content.length, 0) / 4);
  const t = makeTrajectory('fit', 20);

  it('shows the whole episode when it fits', () => {
    const fit = fitScoreMessages(t, 7, 300, 100_000, count);
    expect(fit.window).toBeUndefined();
    expect(fit.messages).toEqual(buildScoreMessages(t, 7, 300));
  });

  it('narrows to the steps around the asked one, naming what it left out', () => {
    const limit = 500;
    const fit = fitScoreMessages(t, 10, 300, limit, count);
    expect(fit.window).toBeDefined();
    expect(count(fit.messages)).toBeLessThanOrEqual(limit);
    const text = fit.messages[0].content;
    expect(text).toContain('Step 10\n');
    expect(text).toMatch(/\(steps 0-\d+ omitted\)/);
    expect(text).toMatch(/\(steps \d+-19 omitted\)/);
    expect(text).toContain('Question: is step 10 ');
    // The widest window that fits: one step wider would not.
    expect(count(buildScoreMessages(t, 10, 300, fit.window! + 1))).toBeGreaterThan(limit);
  });
});

describe('judge answers in the cache', () => {
  it('reuses a score-mode answer only with the same settings', async () => {
    const { MemoryCacheStore } = await import('../../../src/select/cache.ts');
    let calls = 0;
    const lm: JudgeModel = {
      id: 'scripted',
      maxContext: 100_000,
      async generate() {
        throw new Error('not used');
      },
      async yesNoLogOdds(messages) {
        calls++;
        return { logOdds: Number(/is step (\d+)/.exec(messages[0].content)![1]), promptTokens: 10 };
      },
      countTokens: () => 10,
    };
    const cache = new MemoryCacheStore();
    const ts = [makeTrajectory('c1', 7)];
    const first = await runSelection(ts, { selector: 'judge', model: new LocalJudge(lm, { mode: 'score' }), cache });
    expect(first.trajectories[0].selections[0].critical.map((c) => c.step)).toEqual([6, 5]); // highest log-odds first
    expect(calls).toBe(7);
    const again = await runSelection(ts, { selector: 'judge', model: new LocalJudge(lm, { mode: 'score' }), cache });
    expect(again.summary.cacheHits).toBe(1);
    expect(calls).toBe(7);
    const other = await runSelection(ts, { selector: 'judge', model: new LocalJudge(lm, { mode: 'score', maxStepChars: 50 }), cache });
    expect(other.summary.cacheHits).toBe(0);
    expect(calls).toBe(14);
  });
});
