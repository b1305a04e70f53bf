// Thin comlink shell that packs one run's trained weights into one loadable folder, zipped
// (src/experiment/weights-zip.ts), or a LoRA run's adapter into a PEFT folder: from the live
// runner's tensors when the page hands them over, else from the run's checkpoint in IndexedDB
// (src/experiment/checkpoint-idb.ts) — so a stored run exports after a reload, with no GPU. Off the main thread: a model of many MB is
// unpacked, serialised and zipped here.
import * as Comlink from 'comlink';
import type { Arm } from '../src/data/arms.ts';
import { hfFolderFiles } from '../src/engine/weights/hf.ts';
import { mergeLora } from '../src/engine/lora.ts';
import { initParams } from '../src/engine/model.ts';
import { idbCheckpointStore } from '../src/experiment/checkpoint-idb.ts';
import { loraSpecOf, trainingSeeds, type ExperimentConfig } from '../src/experiment/protocol.ts';
import { runKey, type Checkpoint } from '../src/experiment/checkpoint.ts';
import { experimentKey } from '../src/experiment/session.ts';
import { baseModelName, checkpointTensors, configVocabSize, peftFolderFiles, zipFolder, type FolderFiles } from '../src/experiment/weights-zip.ts';
import type { WeightsWorkerApi, WeightsZip } from '../src/experiment/weights-protocol.ts';
import { resolveModel, tokenizerFiles } from './model-files.ts';

const checkpoints = idbCheckpointStore();

/** A run's stored checkpoint and the key of its run of `arm` with `trainSeed`. */
async function runCheckpoint(run: ExperimentConfig, arm: Arm, trainSeed: number | undefined): Promise<{ cp: Checkpoint; key: string }> {
  const cp = await checkpoints.load(experimentKey(run));
  if (!cp) throw new Error(`no checkpoint is stored for “${run.name}”: the runner saves one at each held-out evaluation${run.evalEvery > 0 ? ` (every ${run.evalEvery} steps)` : ''} and at the last step, and this run stopped before any (or its checkpoints were deleted in “Stored data”)`);
  const seeds = trainingSeeds(run);
  return { cp, key: runKey(arm, trainSeed ?? seeds[0], seeds[0]) };
}

/** A run's weights from its stored checkpoint, as config.json + model.safetensors: a LoRA run's
 *  merged W + (alpha/r)·B·A over the start weights it trained from (as the live export). */
async function fromCheckpoint(run: ExperimentConfig, arm: Arm, trainSeed: number | undefined): Promise<{ files: FolderFiles; step: number; savedAt: string }> {
  const { cp, key } = await runCheckpoint(run, arm, trainSeed);
  const { model } = await resolveModel(run);
  const spec = loraSpecOf(run);
  const tensors = spec ? mergeLora(model.config, model.tensors ?? initParams(model.config, run.seed), spec, checkpointTensors(model.config, cp, key, spec)) : checkpointTensors(model.config, cp, key);
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
  async adapterZip(run, arm, trainSeed, folder, live) {
    const spec = loraSpecOf(run);
    if (!spec) throw new Error(`“${run.name}” trained every weight (no LoRA rank): it has no adapter to save; save its weights instead`);
    // the model's shape, resolved as the runner resolves it
    const { config } = (await resolveModel(run)).model;
    let where: Pick<WeightsZip, 'from' | 'step' | 'savedAt'> = { from: 'live' };
    let adapter = live;
    if (!adapter) {
      const { cp, key } = await runCheckpoint(run, arm, trainSeed);
      adapter = checkpointTensors(config, cp, key, spec);
      where = { from: 'checkpoint', step: cp.step, savedAt: cp.savedAt };
    }
    const files = await peftFolderFiles(config, spec, adapter, baseModelName(run.model));
    const zip = zipFolder(folder, files);
    const weightBytes = (files.get('adapter_model.safetensors') as Uint8Array).byteLength;
    return Comlink.transfer({ zip, files: [...files.keys()], ...where, weightBytes }, [zip.buffer]);
  },
};

Comlink.expose(api);
