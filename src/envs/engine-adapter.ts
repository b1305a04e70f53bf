// Adapts a token-level batched generator (the engine's KV-cache Generator) and a text
// tokenizer (the data layer's TextTokenizer, prompted through src/data/prompt-text.ts) into
// the text-level GenerateBatch a model policy needs. Typed structurally so this module needs
// neither WebGPU nor the engine: tests drive it with fakes.
import type { GenerateBatch } from './model-policy.ts';
import { decodeContinuation, encodePrompt, type PromptTokenizer } from '../data/prompt-text.ts';

/** The parts of src/engine/generate/generator.ts's Generator used here. */
export interface TokenGenerator {
  readonly maxBatch: number;
  /** Prompt + new tokens per row. */
  readonly maxSeq: number;
  generate(prompts: number[][], opts: { maxNewTokens: number; temperature?: number; seed?: number; stopTokens?: number[] }): Promise<number[][]>;
}

export interface AdapterStats {
  calls: number;
  prompts: number;
  /** Prompts longer than the generator's context that lost their oldest tokens. */
  truncatedPrompts: number;
  /** Tokens dropped from the front of those prompts in total. */
  droppedTokens: number;
}

export interface AdapterOptions {
  /** End-of-sequence token(s) that end a row early. */
  stopTokens?: number[];
  seed?: number;
  /** Filled in as prompts are generated (so callers can report truncation). */
  stats?: AdapterStats;
}

export function newAdapterStats(): AdapterStats {
  return { calls: 0, prompts: 0, truncatedPrompts: 0, droppedTokens: 0 };
}

/** Text prompts → token prompts (left-truncated to fit `maxSeq − maxNewTokens`, keeping BOS),
 *  generated in chunks of `maxBatch`, decoded, and cut at the first stop string. */
export function engineGenerateBatch(gen: TokenGenerator, tok: PromptTokenizer, opts: AdapterOptions = {}): GenerateBatch {
  const stats = opts.stats ?? newAdapterStats();
  return async (texts, g) => {
    const maxNew = Math.min(g.maxNewTokens, gen.maxSeq - 2);
    if (maxNew < 1) throw new Error(`the generator's context (${gen.maxSeq} tokens) leaves no room for new tokens`);
    const room = gen.maxSeq - maxNew;
    stats.calls++;
    stats.prompts += texts.length;
    const prompts = texts.map((t) => {
      const ids = encodePrompt(tok, t);
      if (ids.length <= room) return ids;
      stats.truncatedPrompts++;
      stats.droppedTokens += ids.length - room;
      const keepBos = tok.bosId !== undefined && ids[0] === tok.bosId;
      return keepBos ? [ids[0], ...ids.slice(ids.length - room + 1)] : ids.slice(ids.length - room);
    });
    const out: string[] = [];
    for (let b = 0; b < prompts.length; b += gen.maxBatch) {
      const chunk = prompts.slice(b, b + gen.maxBatch);
      const ids = await gen.generate(chunk, { maxNewTokens: maxNew, temperature: g.temperature, seed: opts.seed, stopTokens: opts.stopTokens });
      if (ids.length !== chunk.length) throw new Error(`generator returned ${ids.length} rows for ${chunk.length} prompts`);
      chunk.forEach((p, i) => {
        const text = decodeContinuation(tok, p, ids[i]);
        const cut = g.stop.reduce((acc, s) => (acc.includes(s) ? acc.slice(0, acc.indexOf(s)) : acc), text);
        out.push(cut);
      });
    }
    return out;
  };
}
