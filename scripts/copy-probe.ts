// Teacher-forced copying probe of base agents (src/experiment/copy-probe.ts; figures in
// docs/base-agent.md). Usage: npx tsx scripts/copy-probe.ts <model> [<model> …] [--episodes 12]
import { parseArgs } from 'node:util';
import { loadModelFromArg } from '../src/cli/model-arg.ts';
import { createGpuContext } from '../src/engine/device.ts';
import { createModel } from '../src/engine/model.ts';
import { Trainer } from '../src/engine/trainer.ts';
import { runCopyProbes } from '../src/experiment/copy-probe.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { episodes: { type: 'string', default: '12' } } });
const episodes = Number(values.episodes);
if (!positionals.length || !(episodes > 0)) throw new Error('usage: npx tsx scripts/copy-probe.ts <model> [<model> …] [--episodes 12]');
const ctx = await createGpuContext();
for (const arg of positionals) {
  const { model, tokenizer } = await loadModelFromArg(arg, 0);
  const gpuModel = await createModel(ctx, model.config, model.tensors!);
  const contextLength = model.config.maxSeqLen;
  const trainer = new Trainer(gpuModel, {}, { maxBatch: 1, maxSeqLen: contextLength });
  for (const r of await runCopyProbes(trainer, tokenizer, { episodes, contextLength })) console.log(`${arg}\t${r.label}\t${r.hits}/${r.total}`);
  trainer.destroy();
  gpuModel.destroy();
}
