// Evaluation prompts are rendered exactly like training windows: the whole history when it
// fits; otherwise the instruction, the omitted-steps marker and the latest whole steps — the
// same tokens a training window of that turn holds.
import { describe, expect, it } from 'vitest';
import { renderPromptIds } from '../../../src/experiment/prompt-ids.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { buildTrainingExamples } from '../../../src/data/masks.ts';
import { generateDemo } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';

const tok = defaultTokenizer();

describe('renderPromptIds', () => {
  const t = generateDemo(getEnv('grid'), 3, 'held-out', { mistakeRate: 0 });

  it('keeps the whole history when it fits, with no marker', () => {
    const p = renderPromptIds(tok, t.instruction, t.steps.slice(0, 1), 4096);
    expect(p.cutTokens).toBe(0);
    expect(tok.decode(p.ids)).not.toContain('(earlier steps left out)');
  });

  it('cuts whole early steps and marks the cut, matching the training window of the same turn', () => {
    const k = t.steps.length - 1;
    const T = 512;
    const { examples } = buildTrainingExamples([t], { arm: 'full', tokenizer: tok, contextLength: T });
    const window = examples.find((e) => e.supervisedSteps.includes(k))!;
    expect(window.cutTokens).toBeGreaterThan(0);
    // The prompt for turn k with the room the window left before turn k's agent text.
    const before = window.labelSteps.indexOf(k) + 1;
    const p = renderPromptIds(tok, t.instruction, t.steps.slice(0, k), before);
    expect(p.cutTokens).toBeGreaterThan(0);
    expect(tok.decode(p.ids)).toContain('(earlier steps left out)');
    expect(p.ids).toEqual(Array.from(window.tokens.slice(0, before)));
  });
});
