// TEST HELPER: a policy backed by a fake language model at text level, for the rollout and
// restart tests. `generateBatch(prompts, opts) → completions` is injected; prompts are the
// environment's text prompts (src/envs/episode-prompt.ts renderEpisodePrompt). Models in the
// app act through src/experiment/model-turns.ts (modelTurnPolicy), at token level.
import type { Policy } from '../../../src/envs/policy.ts';
import { renderEpisodePrompt } from '../../../src/envs/episode-prompt.ts';

export interface GenerateOptions {
  /** Upper bound on new tokens per completion. */
  maxNewTokens: number;
  /** Generation stops at the first of these strings (not included in the completion). */
  stop: string[];
  /** 0 = greedy. */
  temperature: number;
}

export type GenerateBatch = (promptTexts: string[], opts: GenerateOptions) => Promise<string[]>;

export interface ModelPolicyOptions extends Partial<GenerateOptions> {
  name?: string;
  /** Builds the prompt text for an episode (default: renderEpisodePrompt). */
  render?: (instruction: string, steps: Parameters<typeof renderEpisodePrompt>[1]) => string;
}

export const DEFAULT_GENERATE: GenerateOptions = { maxNewTokens: 96, stop: ['\n\nHuman:', '\nObservation:'], temperature: 0 };

export function modelPolicy(generateBatch: GenerateBatch, opts: ModelPolicyOptions = {}): Policy {
  const gen: GenerateOptions = {
    maxNewTokens: opts.maxNewTokens ?? DEFAULT_GENERATE.maxNewTokens,
    stop: opts.stop ?? DEFAULT_GENERATE.stop,
    temperature: opts.temperature ?? DEFAULT_GENERATE.temperature,
  };
  const render = opts.render ?? renderEpisodePrompt;
  return {
    name: opts.name ?? 'model',
    async act(episodes) {
      const prompts = episodes.map((e) => render(e.instruction, e.steps));
      const outs = await generateBatch(prompts, gen);
      if (outs.length !== prompts.length) throw new Error(`generateBatch returned ${outs.length} completions for ${prompts.length} prompts`);
      // Cut at a stop string in case the generator did not (the rollout parses the rest).
      return outs.map((o) => gen.stop.reduce((text, s) => (text.includes(s) ? text.slice(0, text.indexOf(s)) : text), o));
    },
  };
}
