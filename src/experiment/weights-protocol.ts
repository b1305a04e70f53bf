// What workers/weights.worker.ts exposes through comlink: one run's trained weights packed into
// one zipped, loadable folder (config.json, model.safetensors, the tokenizer), from the live
// runner's weights when the page hands them over, else from the run's stored checkpoint.
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
}
