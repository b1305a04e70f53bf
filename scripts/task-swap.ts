// Does a base read the task's object at all? For household episodes (the copying probe's),
// swap the object's token in the task line for other objects' and see whether the model's
// prediction at the plan's object slot ("find and take a …") moves with it. Figures in
// docs/base-agent.md. Usage: npx tsx scripts/task-swap.ts <model> [<model> …] [--episodes 12]
import { parseArgs } from 'node:util';
import { loadModelFromArg } from '../src/cli/model-arg.ts';
import { buildTrainingExamples } from '../src/data/masks.ts';
import { tokenTexts } from '../src/data/render.ts';
import { createGpuContext } from '../src/engine/device.ts';
import { createModel } from '../src/engine/model.ts';
import { Trainer } from '../src/engine/trainer.ts';
import { generateDemo } from '../src/envs/demo.ts';
import { getEnv } from '../src/envs/registry.ts';
import { COPY_PROBES, COPY_PROBE_SEED_BASE, copyTargets } from '../src/experiment/copy-probe.ts';
import { EXPLORER_MISTAKE_RATE, taskNames } from '../src/experiment/pretrain-corpus.ts';

const SWAPS = ['apple', 'egg', 'potato', 'plate', 'cup', 'mug', 'bread', 'book', 'watch', 'vase'];
const { values, positionals } = parseArgs({ allowPositionals: true, options: { episodes: { type: 'string', default: '12' } } });
const episodes = Number(values.episodes);
if (!positionals.length || !(episodes > 0)) throw new Error('usage: npx tsx scripts/task-swap.ts <model> [<model> …] [--episodes 12]');
const plan = COPY_PROBES.find((p) => p.env === 'household' && /find and take/.test(p.label))!;
const ctx = await createGpuContext();
for (const arg of positionals) {
  const { model, tokenizer } = await loadModelFromArg(arg, 0);
  const V = model.config.vocabSize;
  const gpuModel = await createModel(ctx, model.config, model.tensors!);
  const trainer = new Trainer(gpuModel, {}, { maxBatch: 1, maxSeqLen: model.config.maxSeqLen });
  const swapIds = SWAPS.map((w) => tokenizer.encode(` ${w}`)).filter((ids) => ids.length === 1).map(([id]) => id);
  let swaps = 0, follows = 0, maxShift = 0, shiftSum = 0;
  for (let i = 0; i < episodes; i++) {
    const t = generateDemo(getEnv('household'), COPY_PROBE_SEED_BASE + i, 'held-in', { style: 'explorer', mistakeRate: EXPLORER_MISTAKE_RATE });
    const [e] = buildTrainingExamples([t], { arm: 'full', tokenizer, contextLength: model.config.maxSeqLen }).examples;
    const [k] = copyTargets(e.tokens, tokenizer, plan.before(tokenizer.chat));
    const objectIds = tokenizer.encode(` ${taskNames(t.instruction)[0]}`);
    if (k === undefined || objectIds.length !== 1) continue; // the swap replaces one token
    const at = Array.from(e.inputIds).lastIndexOf(objectIds[0], k - 2); // the object in the task line
    if (at < 0 || !/task is to/.test(tokenTexts(e.tokens.slice(Math.max(0, at - 12), at), tokenizer).join(''))) continue;
    const rowOf = async (ids: Int32Array) => (await trainer.logits({ inputIds: ids, labels: e.labels, weights: e.weights, batch: 1, seqLen: ids.length })).slice((k - 1) * V, k * V);
    const original = await rowOf(e.inputIds);
    for (const id of swapIds) {
      if (id === objectIds[0]) continue;
      const ids = Int32Array.from(e.inputIds);
      ids[at] = id;
      const row = await rowOf(ids);
      let shift = 0, best = 0;
      for (let v = 0; v < V; v++) {
        shift = Math.max(shift, Math.abs(row[v] - original[v]));
        if (row[v] > row[best]) best = v;
      }
      swaps++;
      if (best === id) follows++;
      shiftSum += shift;
      maxShift = Math.max(maxShift, shift);
    }
  }
  console.log(`${arg}\tswaps ${swaps}\tprediction follows the swapped object ${follows}/${swaps}\tlargest logit change mean ${(shiftSum / swaps).toFixed(3)}, max ${maxShift.toFixed(3)}`);
  trainer.destroy();
  gpuModel.destroy();
}
