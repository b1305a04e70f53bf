// A model's weights as a batched environment policy on a GPU context: the parameters uploaded
// once, the KV-cache generator at the model's context, turns prompted exactly as evaluation
// prompts them (modelTurnPolicy). Shared by the CLI (atlas eval, atlas score --restart) and the
// page's restart worker, so both run the same model the same way.
import type { GpuContext } from '../engine/device.ts';
import { createGenerator } from '../engine/generate/generator.ts';
import { createModel, initParams } from '../engine/model.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { Policy } from '../envs/policy.ts';
import { DEFAULT_TURN_TOKENS, modelTurnPolicy } from './model-turns.ts';
import type { ResolvedModel } from './runner.ts';

export interface GeneratorPolicyOptions {
  /** Episodes generated together (default 16). */
  batchSize?: number;
  /** Longest agent turn (default DEFAULT_TURN_TOKENS). */
  maxTurnTokens?: number;
  /** Seed of the random init when the model has no weights (a preset), as the runner uses it. */
  seed?: number;
  name: string;
}

export async function generatorPolicy(ctx: GpuContext, model: ResolvedModel, tokenizer: TextTokenizer, opts: GeneratorPolicyOptions): Promise<{ policy: Policy; destroy(): void }> {
  const gpuModel = await createModel(ctx, model.config, model.tensors ?? initParams(model.config, opts.seed ?? 0));
  const gen = await createGenerator(gpuModel, { maxBatch: opts.batchSize ?? 16, maxSeq: model.config.maxSeqLen });
  return {
    policy: modelTurnPolicy(gen, tokenizer, { maxNewTokens: opts.maxTurnTokens ?? DEFAULT_TURN_TOKENS, name: opts.name }),
    destroy() {
      gen.destroy();
      gpuModel.destroy();
    },
  };
}
