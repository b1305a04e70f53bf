// Saving one trained run's weights as one zipped folder (config.json, model.safetensors, the
// tokenizer), or a LoRA run's adapter as a zipped PEFT folder: the live runner's tensors when
// this page trained the run and its runner still holds them, else the run's stored checkpoint —
// so any stored run exports after a reload. The packing happens in workers/weights.worker.ts.
import type { Arm } from '../../data/arms.ts';
import { trainingSeeds, type ExperimentConfig } from '../../experiment/protocol.ts';
import type { LiveWeights, WeightsWorkerApi, WeightsZip } from '../../experiment/weights-protocol.ts';
import { slug } from '../download.ts';
import { experiment } from './experiment.svelte.ts';
import { spawnWorker, Comlink, type WorkerHandle } from './workers.ts';

let worker: WorkerHandle<WeightsWorkerApi> | undefined;

/** "quick-demo-critical-vs-full.critical", with several seeds "….critical.seed2": the folder (and zip) name. */
export function weightsFolderName(run: ExperimentConfig, arm: Arm, trainSeed?: number): string {
  const seeds = trainingSeeds(run);
  return `${slug(run.name)}.${arm}${seeds.length > 1 ? `.seed${trainSeed ?? seeds[0]}` : ''}`;
}

/** The live runner's weights of the current run, or undefined when no runner holds them. */
async function liveWeights(runId: string, arm: Arm, trainSeed: number | undefined): Promise<LiveWeights | undefined> {
  if (runId !== experiment.runId || !experiment.hasRunner) return undefined;
  try {
    return await experiment.exportWeights(arm, trainSeed);
  } catch {
    // The runner has no model for it (it failed before training, or was replaced): the checkpoint has.
    return undefined;
  }
}

/** The live runner's adapter of the current LoRA run, or undefined when no runner holds it. */
async function liveAdapter(runId: string, arm: Arm, trainSeed: number | undefined): Promise<Map<string, Float32Array> | undefined> {
  if (runId !== experiment.runId || !experiment.hasRunner) return undefined;
  try {
    return await experiment.exportAdapter(arm, trainSeed);
  } catch {
    return undefined;
  }
}

/** A LoRA run's adapter as one zipped PEFT folder, "<weights folder>.lora" (adapter_config.json +
 *  adapter_model.safetensors): the live runner's adapter, else the run's checkpoint. */
export async function runAdapterZip(runId: string, run: ExperimentConfig, arm: Arm, trainSeed?: number): Promise<WeightsZip & { folder: string }> {
  const folder = `${weightsFolderName(run, arm, trainSeed)}.lora`;
  const seed = trainingSeeds(run).length > 1 ? trainSeed : undefined;
  const live = await liveAdapter(runId, arm, seed);
  worker ??= await spawnWorker<WeightsWorkerApi>('weights');
  const plain = JSON.parse(JSON.stringify(run)) as ExperimentConfig;
  const buffers = live ? [...new Set([...live.values()].map((t) => t.buffer as ArrayBuffer))] : [];
  const zip = await worker.api.adapterZip(plain, arm, seed, folder, live && Comlink.transfer(live, buffers));
  return { ...zip, folder };
}

export async function runWeightsZip(runId: string, run: ExperimentConfig, arm: Arm, trainSeed?: number): Promise<WeightsZip & { folder: string }> {
  const folder = weightsFolderName(run, arm, trainSeed);
  const seed = trainingSeeds(run).length > 1 ? trainSeed : undefined;
  const live = await liveWeights(runId, arm, seed);
  worker ??= await spawnWorker<WeightsWorkerApi>('weights');
  const plain = JSON.parse(JSON.stringify(run)) as ExperimentConfig;
  const zip = await worker.api.folderZip(plain, arm, seed, folder, live && Comlink.transfer(live, [live.safetensors]));
  return { ...zip, folder };
}
