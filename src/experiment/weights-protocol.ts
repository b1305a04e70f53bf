// What workers/weights.worker.ts exposes through comlink: one run's trained weights packed into
// one zipped, loadable folder (config.json, model.safetensors, the tokenizer) — or a LoRA run's
// adapter as a PEFT folder — from the live runner's tensors when the page hands them over, else
// from the run's stored checkpoint.
import type { Arm } from '../data/arms.ts';
import type { ExperimentConfig } from './protocol.ts';

/** The live runner's weights of one arm (ExperimentWorkerApi.exportWeights). */
export interface LiveWeights {
  configJson: string;
  safetensors: ArrayBuffer;
}

export interface WeightsZip {
  zip: Uint8Array;
  /** File names inside the folder. */
  files: string[];
  /** Where the weights came from, and for a checkpoint its step and time. */
  from: 'live' | 'checkpoint';
  step?: number;
  savedAt?: string;
  weightBytes: number;
}

export interface WeightsWorkerApi {
  /** The folder `folder` of `run`'s `arm` (trained with `trainSeed`), zipped. */
  folderZip(run: ExperimentConfig, arm: Arm, trainSeed: number | undefined, folder: string, live?: LiveWeights): Promise<WeightsZip>;
  /** A LoRA run's adapter as the PEFT folder `folder` (adapter_config.json +
   *  adapter_model.safetensors), zipped: from `live` (the runner's adapter tensors by PEFT's
   *  names, ExperimentWorkerApi.exportAdapter) when given, else from the run's checkpoint. */
  adapterZip(run: ExperimentConfig, arm: Arm, trainSeed: number | undefined, folder: string, live?: Map<string, Float32Array>): Promise<WeightsZip>;
}
