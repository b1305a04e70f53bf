// Small random-weights Hugging Face folders, made at test time, in the shapes the hub picker
// downloads: a Llama (SmolLM2's family: untied head, GQA, one model.safetensors) and a Qwen2
// (q/k/v biases, tied head, rope_theta 1e6, weights in two shards with an index). The
// tokenizer is the bundled default one (1,024 ids). Files as bytes, by name.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configToHf, type LlamaConfig } from '../../../src/engine/config.ts';
import { initParams } from '../../../src/engine/model.ts';
import { paramShapes } from '../../../src/engine/params.ts';
import { hfFolderFiles } from '../../../src/engine/weights/hf.ts';
import { writeSafetensors, type TensorToWrite } from '../../../src/engine/weights/safetensors.ts';

export type HubFiles = Map<string, Uint8Array>;

const tokenizerDir = fileURLToPath(new URL('../../../models/default-tokenizer/', import.meta.url));
const enc = (text: string) => new TextEncoder().encode(text);

export const TINY_LLAMA: LlamaConfig = {
  vocabSize: 1024, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 8, hiddenDim: 64,
  maxSeqLen: 128, ropeTheta: 10000, normEps: 1e-5, tiedEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
};

export const TINY_QWEN2: LlamaConfig = { ...TINY_LLAMA, qkvBias: true, tiedEmbeddings: true, ropeTheta: 1e6 };

function withTokenizer(files: HubFiles, config: LlamaConfig): HubFiles {
  files.set('tokenizer.json', readFileSync(tokenizerDir + 'tokenizer.json'));
  files.set('tokenizer_config.json', readFileSync(tokenizerDir + 'tokenizer_config.json'));
  files.set('generation_config.json', enc(JSON.stringify({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId }) + '\n'));
  return files;
}

/** config.json, model.safetensors and the tokenizer files of a random model. */
export function tinyHubModel(config: LlamaConfig = TINY_LLAMA, seed = 7): HubFiles {
  const files: HubFiles = new Map();
  for (const [name, data] of hfFolderFiles(config, initParams(config, seed))) files.set(name, typeof data === 'string' ? enc(data) : data);
  return withTokenizer(files, config);
}

/** The same with the weights in two shards and model.safetensors.index.json. */
export function tinyShardedHubModel(config: LlamaConfig = TINY_QWEN2, seed = 7): HubFiles {
  const tensors = initParams(config, seed);
  const shapes = paramShapes(config);
  const half = Math.ceil(shapes.length / 2);
  const files: HubFiles = new Map([['config.json', enc(JSON.stringify(configToHf(config), null, 2) + '\n')]]);
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const [k, part] of [shapes.slice(0, half), shapes.slice(half)].entries()) {
    const name = `model-0000${k + 1}-of-00002.safetensors`;
    const ordered = new Map<string, TensorToWrite>();
    for (const { name: t, shape } of part) {
      ordered.set(t, { shape, data: tensors.get(t)! });
      weightMap[t] = name;
      total += tensors.get(t)!.length * 4;
    }
    files.set(name, writeSafetensors(ordered, { format: 'pt' }));
  }
  files.set('model.safetensors.index.json', enc(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 1) + '\n'));
  return withTokenizer(files, config);
}
