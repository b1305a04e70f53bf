// `atlas generate --model <path> [--prompt TEXT] [--max-new-tokens N] [--temperature T] [--seed S]`
// Greedy by default; prints the generated text only.
import path from 'node:path';
import type { Command } from '../main.ts';
import { intOption, numberOption, parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { createGpuContext } from '../../engine/device.ts';
import { createGenerator } from '../../engine/generate/generator.ts';
import { createModel } from '../../engine/model.ts';
import { dirSource } from '../../engine/weights/file-source-node.ts';
import { loadModelFromPath } from '../../engine/weights/load-node.ts';
import { tokenizerFromFiles } from '../../experiment/model-source.ts';
import { decodeContinuation, encodePrompt } from '../../data/prompt-text.ts';

const HELP = `usage: atlas generate --model <path> [--prompt TEXT] [--max-new-tokens N]
                      [--temperature T] [--top-k K] [--seed S]

<path> is a llama2.c .bin (tokenizer tok<vocab>.bin or tokenizer.bin beside it) or a
Hugging Face folder (config.json, model.safetensors or shards, tokenizer.json).
Greedy (temperature 0) by default; without --prompt, generation starts from BOS.
Stops at an EOS token (eos_token_id of config.json / generation_config.json) or after N new tokens (default: up to the model's context).
Prints the generated text only.`;

export const command: Command = {
  summary: 'generate text from a llama2.c .bin or Hugging Face model folder',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('generate', argv, HELP, stringOptions('model', 'prompt', 'max-new-tokens', 'temperature', 'top-k', 'seed'));
    if (!parsed) return 0;
    const { values } = parsed;
    const modelPath = requireOption('generate', values.model, 'model');
    const temperature = numberOption('generate', values.temperature, 'temperature', 0);
    if (temperature < 0) throw new Error(`--temperature must be ≥ 0 (got ${temperature})`);
    const topK = intOption('generate', values['top-k'], 'top-k', 0);
    const seed = intOption('generate', values.seed, 'seed', 0);

    const model = await loadModelFromPath(modelPath);
    const cfg = model.config;
    const tokenizer = model.kind === 'hf'
      ? await tokenizerFromFiles(dirSource(model.path), cfg.vocabSize)
      : await tokenizerFromFiles(dirSource(path.dirname(model.path)), cfg.vocabSize, path.basename(model.path));
    // The model's own bos_token_id (config.json) wins over the tokenizer's.
    const bos = cfg.bosTokenId ?? tokenizer.bosId;
    const prompt = values.prompt !== undefined ? encodePrompt(tokenizer, values.prompt, bos) : [bos ?? 1];
    const room = cfg.maxSeqLen - prompt.length;
    if (room < 1) throw new Error(`the prompt has ${prompt.length} tokens; the model's context is ${cfg.maxSeqLen}`);
    const maxNew = intOption('generate', values['max-new-tokens'], 'max-new-tokens', room);
    if (maxNew < 1 || maxNew > room) throw new Error(`--max-new-tokens must be in 1..${room} (prompt ${prompt.length} tokens, context ${cfg.maxSeqLen})`);

    const ctx = await createGpuContext();
    const gpuModel = await createModel(ctx, cfg, model.tensors);
    const gen = await createGenerator(gpuModel, { maxBatch: 1, maxSeq: prompt.length + maxNew });
    const [ids] = await gen.generate([prompt], { maxNewTokens: maxNew, temperature, topK, seed, stopTokens: model.stopTokens });
    process.stdout.write(decodeContinuation(tokenizer, prompt, ids) + '\n');
    gen.destroy();
    gpuModel.destroy();
    ctx.device.destroy();
    return 0;
  },
};
