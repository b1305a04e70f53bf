import { describe, expect, it } from 'vitest';
import { extractJson, validateReply, normaliseCategory } from '../../../src/select/validate.ts';
import { buildSelectorMessages, buildRepairMessages, PROMPT_VERSION } from '../../../src/select/selector-prompt.ts';
import { makeTrajectory } from './fixtures.ts';

describe('extractJson', () => {
  it('reads plain JSON without a repair', () => {
    expect(extractJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 }, repairs: [] });
  });
  it('finds an object inside prose and code fences, ignoring braces in strings', () => {
    const r = extractJson('Thinking {not json}. Result:\n```json\n{"plan": "use {x}", "critical": []}\n```\nDone.');
    expect(r).toEqual({ ok: true, value: { plan: 'use {x}', critical: [] }, repairs: ['extracted the JSON object from text around it'] });
  });
  it('reports malformed and missing JSON', () => {
    expect(extractJson('{"plan": "x", "critical": [')).toMatchObject({ ok: false, error: expect.stringMatching(/^malformed JSON/) });
    expect(extractJson('no braces at all')).toEqual({ ok: false, error: 'no JSON object found in the reply' });
    expect(extractJson('   ')).toEqual({ ok: false, error: 'the reply was empty' });
  });
});

describe('validateReply', () => {
  it('accepts a clean reply unchanged', () => {
    const r = validateReply('{"plan":"p","critical":[{"step":4,"category":"action","reason":"r"},{"step":0,"category":"plan","reason":"q"}]}', 10, 0.3);
    expect(r).toEqual({ ok: true, plan: 'p', critical: [{ step: 4, category: 'action', reason: 'r' }, { step: 0, category: 'plan', reason: 'q' }], repairs: [] });
  });
  it('repairs categories, string indices, multi-line reasons and list plans, recording each', () => {
    const r = validateReply(
      JSON.stringify({ plan: ['a', 'b'], critical: [{ step: '2', category: 'Self Correction', reason: 'x\n y' }, { step: 3, category: 'vibes' }, { step: 5, category: 7 }] }),
      6,
      0.5,
    );
    expect(r).toEqual({
      ok: true,
      plan: 'a\nb',
      critical: [{ step: 2, category: 'self-correction', reason: 'x y' }, { step: 3 }, { step: 5 }],
      repairs: [
        'plan was a list of strings; joined with newlines',
        'entry 0: step "2" was a string; read as 2',
        'entry 0: category "Self Correction" read as "self-correction"',
        'entry 1: step 3: removed unknown category "vibes"',
        'entry 2: step 5: removed category 7: not a string',
      ],
    });
  });
  it('keeps the first k in the selector order when over budget (k from budgetCount)', () => {
    const r = validateReply(JSON.stringify({ plan: 'p', critical: [6, 1, 5, 3].map((step) => ({ step, category: 'action', reason: 'r' })) }), 7, 0.3);
    expect(r.ok && r.critical.map((c) => c.step)).toEqual([6, 1]); // floor(0.3 × 7) = 2
    expect(r.ok && r.repairs).toEqual(['budget: kept the first 2 of 4 steps, dropped 5, 3']);
    const small = validateReply('{"plan":"p","critical":[{"step":2},{"step":0}]}', 3, 0.3);
    expect(small.ok && small.critical).toEqual([{ step: 2 }]); // at least one step on a short trajectory
  });
  it('errors when nothing usable is left', () => {
    expect(validateReply('{"plan":"p","critical":[]}', 5, 0.3)).toEqual({ ok: false, error: 'the reply listed no critical step (steps are numbered 0..4)' });
    expect(validateReply('{"plan":"p","critical":[{"step":9},{"step":"x"}]}', 5, 0.3)).toEqual({ ok: false, error: 'none of the 2 listed steps was usable (steps are numbered 0..4)' });
    expect(validateReply('{"plan":"p"}', 5, 0.3)).toEqual({ ok: false, error: '"critical" is missing' });
    expect(validateReply('{"critical":{"step":1}}', 5, 0.3)).toMatchObject({ ok: false, error: expect.stringMatching(/^"critical" is not a list/) });
  });
  it('normalises category spellings', () => {
    expect(normaliseCategory('Plan Creation')).toBe('plan');
    expect(normaliseCategory('critical_observation')).toBe('observation');
    expect(normaliseCategory('SELF-CORRECTION')).toBe('self-correction');
    expect(normaliseCategory('other')).toBeUndefined();
  });
});

describe('prompt', () => {
  it('is versioned and shows the categories, the numbered steps and the budget', () => {
    const t = makeTrajectory('pr', 10);
    const [system, user] = buildSelectorMessages(t, 0.3);
    expect(PROMPT_VERSION).toBe('atlas-select/1');
    expect(system.role).toBe('system');
    for (const c of ['"plan"', '"observation"', '"action"', '"self-correction"']) expect(user.content).toContain(c);
    expect(user.content).toContain('Choose at most 3 of the 10 steps');
    expect(user.content).toContain(`Task:\n${t.instruction}`);
    for (let i = 0; i < 10; i++) expect(user.content).toContain(`Step ${i}\nAgent: ${t.steps[i].agent}\nEnvironment: ${t.steps[i].observation}`);
    expect(user.content).not.toContain('Step 10');
    expect(user.content).toContain('{"plan": "<sub-goals');
    const again = buildRepairMessages([system, user], 'oops', 'malformed JSON (x)');
    expect(again.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(again[3].content).toContain('Your reply could not be used: malformed JSON (x).');
  });
});
