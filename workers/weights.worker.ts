// Thin comlink shell that packs one run's trained weights into one loadable folder, zipped
// (src/experiment/weights-zip.ts): from the live runner's weights when the page hands them
// over, else from the run's checkpoint in IndexedDB (src/experiment/checkpoint-idb.ts) — so a
// stored run exports after a reload, with no GPU. Off the main thread: a model of many MB is
// unpacked, serialised and zipped here.
import * as Comlink from 'comlink';
import type { Arm } from '../src/data/arms.ts';
import { hfFolderFiles } from '../src/engine/weights/hf.ts';
import { idbCheckpointStore } from '../src/experiment/checkpoint-idb.ts';
import { trainingSeeds, type ExperimentConfig } from '../src/experiment/protocol.ts';
import { runKey } from '../src/experiment/checkpoint.ts';
import { experimentKey } from '../src/experiment/session.ts';
import { checkpointTensors, configVocabSize, zipFolder, type FolderFiles } from '../src/experiment/weights-zip.ts';
import type { WeightsWorkerApi, WeightsZip } from '../src/experiment/weights-protocol.ts';
import { resolveModel, tokenizerFiles } from './model-files.ts';

const checkpoints = idbCheckpointStore();

/** A run's weights from its stored checkpoint, as config.json + model.safetensors. */
async function fromCheckpoint(run: ExperimentConfig, arm: Arm, trainSeed: number | undefined): Promise<{ files: FolderFiles; step: number; savedAt: string }> {
  const cp = await checkpoints.load(experimentKey(run));
  if (!cp) throw new Error(`no checkpoint is stored for “${run.name}”: the runner saves one at each held-out evaluation${run.evalEvery > 0 ? ` (every ${run.evalEvery} steps)` : ''} and at the last step, and this run stopped before any (or its checkpoints were deleted in “Stored data”)`);
  const seeds = trainingSeeds(run);
  const seed = trainSeed ?? seeds[0];
  const { model } = await resolveModel(run);
  const tensors = checkpointTensors(model.config, cp, runKey(arm, seed, seeds[0]));
  return { files: hfFolderFiles(model.config, tensors), step: cp.step, savedAt: cp.savedAt };
}

const api: WeightsWorkerApi = {
  async folderZip(run, arm, trainSeed, folder, live) {
    let files: FolderFiles;
    let where: Pick<WeightsZip, 'from' | 'step' | 'savedAt'>;
    if (live) {
      files = new Map<string, Uint8Array | string>([
        ['config.json', live.configJson],
        ['model.safetensors', new Uint8Array(live.safetensors)],
      ]);
      where = { from: 'live' };
    } else {
      const cp = await fromCheckpoint(run, arm, trainSeed);
      files = cp.files;
      where = { from: 'checkpoint', step: cp.step, savedAt: cp.savedAt };
    }
    const weights = files.get('model.safetensors') as Uint8Array;
    for (const f of await tokenizerFiles(run.model, configVocabSize(files.get('config.json') as string))) files.set(f.name, f.bytes);
    const zip = zipFolder(folder, files);
    return Comlink.transfer({ zip, files: [...files.keys()], ...where, weightBytes: weights.byteLength }, [zip.buffer]);
  },
};

Comlink.expose(api);
