// Can a shape learn to copy on this engine? Trains it from seeded random weights on synthetic
// copying rows only (src/experiment/copy-batches.ts: random tokens, then the same again; loss
// on the repeat) and prints the loss on the repeat every 25 steps. Chance is ln(vocabulary) ≈
// 6.9; a model that copies gets near 0. Figures in docs/base-agent.md.
// Usage: npx tsx scripts/copy-task.ts [--model preset:small] [--steps 400] [--lr 0.003] [--seq 256] [--batch 4]
import { parseArgs } from 'node:util';
import { getPreset } from '../models/presets.ts';
import { defaultTokenizer } from '../src/data/defaultTokenizer.ts';
import { Rng } from '../src/data/rng.ts';
import { createGpuContext } from '../src/engine/device.ts';
import { createModel, initParams } from '../src/engine/model.ts';
import { Trainer } from '../src/engine/trainer.ts';
import { copyableIds, copyBatch } from '../src/experiment/copy-batches.ts';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'preset:small' }, steps: { type: 'string', default: '400' }, lr: { type: 'string', default: '0.003' }, seq: { type: 'string', default: '256' }, batch: { type: 'string', default: '4' } } });
const config = getPreset(values.model!.replace(/^preset:/, '')).config;
const [steps, lr, seqLen, batch] = [values.steps, values.lr, values.seq, values.batch].map(Number);
const ctx = await createGpuContext();
const model = await createModel(ctx, config, initParams(config, 0));
const trainer = new Trainer(model, { lr, warmupSteps: 50, totalSteps: steps, minLrRatio: 0.1, weightDecay: 0.1, gradClip: 1 }, { maxBatch: batch, maxSeqLen: seqLen });
const ids = copyableIds(defaultTokenizer());
const rng = new Rng(1);
console.log(`${values.model} on ${ctx.description}: ${steps} steps of ${batch} rows of ${seqLen / 2} tokens and their repeat`);
const t0 = performance.now();
let sum = 0, n = 0;
for (let step = 1; step <= steps; step++) {
  sum += (await trainer.step([copyBatch(ids, batch, seqLen, rng)])).loss;
  n++;
  if (step % 25 === 0) {
    console.log(`step ${step}\tloss on the repeat ${(sum / n).toFixed(3)}\t${((performance.now() - t0) / 1000).toFixed(0)} s`);
    sum = n = 0;
  }
}
trainer.destroy();
model.destroy();
