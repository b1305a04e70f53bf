// The text ↔ token adapter between model policies and a batched token generator (faked).
import { describe, expect, it } from 'vitest';
import { engineGenerateBatch, newAdapterStats, type TokenGenerator } from '../../../src/envs/engine-adapter.ts';
import type { PromptTokenizer } from '../../../src/data/prompt-text.ts';
import { modelPolicy } from '../../../src/envs/model-policy.ts';
import { runEpisodes } from '../../../src/envs/rollout.ts';
import { getEnv } from '../../../src/envs/registry.ts';

// Character-level tokenizer with BOS = 0 (decoded as "\0", so cutting the prompt's text off matters).
const tok: PromptTokenizer = {
  bosId: 0,
  encode: (t) => [...t].map((c) => c.charCodeAt(0)),
  decode: (ids) => String.fromCharCode(...ids),
};

/** Always continues with `reply` (as char codes), recording what it was given. */
function fakeGenerator(reply: string, maxBatch: number, maxSeq: number) {
  const seen: number[][][] = [];
  const gen: TokenGenerator = {
    maxBatch,
    maxSeq,
    async generate(prompts, opts) {
      seen.push(prompts);
      for (const p of prompts) expect(p.length + opts.maxNewTokens).toBeLessThanOrEqual(maxSeq);
      return prompts.map(() => [...reply].slice(0, opts.maxNewTokens).map((c) => c.charCodeAt(0)));
    },
  };
  return { gen, seen };
}

describe('engine adapter', () => {
  it('chunks by maxBatch, cuts at stop strings, keeps BOS when truncating from the left', async () => {
    const { gen, seen } = fakeGenerator('Thought: go.\nAction: look\nObservation: x', 2, 60);
    const stats = newAdapterStats();
    const batch = engineGenerateBatch(gen, tok, { stats });
    const outs = await batch(['short', 'a'.repeat(100), 'b'], { maxNewTokens: 45, stop: ['\nObservation:'], temperature: 0 });
    expect(outs).toEqual(['Thought: go.\nAction: look', 'Thought: go.\nAction: look', 'Thought: go.\nAction: look']);
    expect(seen.map((c) => c.length)).toEqual([2, 1]);
    const long = seen[0][1];
    expect(long[0]).toBe(0);
    expect(long).toHaveLength(15);
    expect(long.slice(1).every((c) => c === 'a'.charCodeAt(0))).toBe(true);
    expect(stats).toEqual({ calls: 1, prompts: 3, truncatedPrompts: 1, droppedTokens: 101 - 15 });
  });

  it('drives a rollout end to end as a model policy', async () => {
    const { gen } = fakeGenerator('Thought: I look.\nAction: look', 4, 6000);
    const results = await runEpisodes(getEnv('household'), [0, 1, 2], 'held-in', modelPolicy(engineGenerateBatch(gen, tok)), { batchSize: 3 });
    expect(results.every((r) => r.steps === 50 && r.invalidActions === 0)).toBe(true);
    expect(results[0].episode.steps[0].action).toBe('look');
  });
});
