// A trained model as an environment policy and as a next-action predictor, at token level:
// prompts are rendered with the training layout (prompt.ts), completions end at the
// end-of-turn token the model learned to write.
import type { Generator } from '../engine/generate/generator.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { Step } from '../data/trajectory.ts';
import type { Policy } from '../envs/policy.ts';
import { renderPromptIds } from './prompt-ids.ts';

/** Longest agent turn a model may write in evaluation: the built-in demonstrations' opening
 *  plans take up to ≈ 140 tokens of the default tokenizer (48, the old default, cut every
 *  household plan before its "Action:"). */
export const DEFAULT_TURN_TOKENS = 144;
/** Room kept free for the turn when a long history is cut to fit the context. Turns after the
 *  plan are short (a median of 17–31 tokens), so the prompt keeps as much history as training
 *  windows do; a turn that would overflow the context stops at its end instead. */
const TURN_RESERVE = 64;

export interface ModelTurnOptions {
  maxNewTokens: number;
  temperature?: number;
  seed?: number;
}

/** Generates one agent turn per (instruction, steps) history, batched by the generator's size.
 *  A prompt keeps the instruction and as much recent history as leaves TURN_RESERVE tokens; a
 *  turn may then grow to maxNewTokens or to the end of the context, whichever comes first. */
export async function generateTurns(gen: Generator, tok: TextTokenizer, histories: { instruction: string; steps: readonly Step[] }[], opts: ModelTurnOptions): Promise<string[]> {
  const reserve = Math.min(opts.maxNewTokens, TURN_RESERVE, gen.maxSeq - 2);
  const room = gen.maxSeq - reserve;
  const stops = [tok.chat.eotId, ...(tok.eosId !== undefined ? [tok.eosId] : [])];
  const prompts = histories.map((h) => renderPromptIds(tok, h.instruction, h.steps, room).ids);
  const out: string[] = [];
  for (let b = 0; b < prompts.length; b += gen.maxBatch) {
    const chunk = prompts.slice(b, b + gen.maxBatch);
    // Each row's own limit: what a prompt may write never depends on the rest of its batch.
    const rowMax = chunk.map((p) => Math.min(opts.maxNewTokens, gen.maxSeq - p.length));
    const rows = await gen.generate(chunk, { maxNewTokens: Math.max(...rowMax), rowMaxNewTokens: rowMax, temperature: opts.temperature ?? 0, seed: opts.seed, stopTokens: stops });
    for (const ids of rows) {
      const end = ids.findIndex((id) => stops.includes(id));
      out.push(tok.decode(end >= 0 ? ids.slice(0, end) : ids).trim());
    }
  }
  return out;
}

export function modelTurnPolicy(gen: Generator, tok: TextTokenizer, opts: ModelTurnOptions & { name?: string }): Policy {
  return {
    name: opts.name ?? 'model',
    act: (episodes) => generateTurns(gen, tok, episodes.map((e) => ({ instruction: e.instruction, steps: e.steps })), opts),
  };
}
