// A trained model as an environment policy and as a next-action predictor, at token level:
// prompts are rendered with the training layout (prompt.ts), completions end at the
// end-of-turn token the model learned to write.
import type { Generator } from '../engine/generate/generator.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { Step } from '../data/trajectory.ts';
import type { Policy } from '../envs/policy.ts';
import { renderPromptIds } from './prompt.ts';

export interface ModelTurnOptions {
  maxNewTokens: number;
  temperature?: number;
  seed?: number;
}

/** Generates one agent turn per (instruction, steps) history, batched by the generator's size. */
export async function generateTurns(gen: Generator, tok: TextTokenizer, histories: { instruction: string; steps: readonly Step[] }[], opts: ModelTurnOptions): Promise<string[]> {
  const maxNew = Math.min(opts.maxNewTokens, gen.maxSeq - 2);
  const room = gen.maxSeq - maxNew;
  const stops = [tok.chat.eotId, ...(tok.eosId !== undefined ? [tok.eosId] : [])];
  const prompts = histories.map((h) => renderPromptIds(tok, h.instruction, h.steps, room).ids);
  const out: string[] = [];
  for (let b = 0; b < prompts.length; b += gen.maxBatch) {
    const rows = await gen.generate(prompts.slice(b, b + gen.maxBatch), { maxNewTokens: maxNew, temperature: opts.temperature ?? 0, seed: opts.seed, stopTokens: stops });
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
