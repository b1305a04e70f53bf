// `atlas grad --model <hf-folder> --batch <batch.json> --out <grads.safetensors> [--adapter <peft-folder>]`:
// one forward + backward, no update. Prints {"loss": …}; writes every parameter's gradient
// under its HF name (lm_head.weight only when the head is untied) — or, with --adapter, the
// base frozen and the gradient of every LoRA matrix under PEFT's names.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from '../main.ts';
import { parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { createGpuContext } from '../../engine/device.ts';
import { createModel } from '../../engine/model.ts';
import { Trainer } from '../../engine/trainer.ts';
import { batchFromRows } from '../../engine/batch.ts';
import { loadModelFromPath } from '../../engine/weights/load-node.ts';
import { writeSafetensors, type TensorToWrite } from '../../engine/weights/safetensors.ts';
import { loadPeftAdapter } from '../../engine/weights/peft.ts';
import { dirSource } from '../../engine/weights/file-source-node.ts';
import { createAdapter } from '../../engine/lora.ts';

const HELP = 'usage: atlas grad --model <hf-folder> --batch <batch.json> --out <grads.safetensors> [--adapter <peft-folder>]\n' +
  '  --adapter: the base frozen, the gradients of the adapter\'s lora_A / lora_B matrices (PEFT names)\n' +
  '  batch.json = {"input_ids": [[…]], "labels": [[…]], "weights": [[…]]} (B×T each; labels −100 = ignored)';

export const command: Command = {
  summary: 'loss and every parameter gradient of one batch (no update), as safetensors',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('grad', argv, HELP, stringOptions('model', 'batch', 'out', 'adapter'));
    if (!parsed) return 0;
    const { values } = parsed;
    const modelPath = requireOption('grad', values.model, 'model');
    const batchPath = requireOption('grad', values.batch, 'batch');
    const outPath = requireOption('grad', values.out, 'out');
    const { config, tensors } = await loadModelFromPath(modelPath);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(batchPath, 'utf8'));
    } catch (err) {
      throw new Error(`${batchPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof json !== 'object' || json === null || !('input_ids' in json) || !('labels' in json)) {
      throw new Error(`${batchPath}: expected {"input_ids": [[…]], "labels": [[…]], "weights": [[…]]}`);
    }
    const batch = batchFromRows(json as { input_ids: unknown; labels: unknown; weights?: unknown }, batchPath);
    const ctx = await createGpuContext();
    const lora = values.adapter === undefined ? undefined : await loadPeftAdapter(dirSource(values.adapter), config);
    const model = await createModel(ctx, config, tensors, { frozen: !!lora });
    const adapter = lora ? createAdapter(model, lora.spec, lora.tensors) : undefined;
    const trainer = new Trainer(model, {}, { maxBatch: batch.batch, maxSeqLen: batch.seqLen, adapter });
    const { loss, grads } = await trainer.gradients(batch);
    const out = new Map<string, TensorToWrite>();
    for (const slot of trainer.trainable.layout.slots) out.set(slot.name, { shape: slot.shape, data: grads.get(slot.name)! });
    await writeFile(outPath, writeSafetensors(out, { format: 'pt' }));
    console.log(JSON.stringify({ loss }));
    trainer.destroy();
    adapter?.destroy();
    model.destroy();
    return 0;
  },
};
