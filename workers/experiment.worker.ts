// Thin comlink shell over the experiment session: trains the arms side by side on this
// worker's GPU device and streams events to the page (ExperimentWorkerApi).
import * as Comlink from 'comlink';
import type { Arm } from '../src/data/arms.ts';
import { createGpuContext, type GpuContext } from '../src/engine/device.ts';
import { hfFolderFiles } from '../src/engine/weights/hf.ts';
import { idbCheckpointStore } from '../src/experiment/checkpoint-idb.ts';
import type { ExperimentConfig, ExperimentEvent, ExperimentWorkerApi } from '../src/experiment/protocol.ts';
import { ExperimentSession } from '../src/experiment/session.ts';
import { loadDataset } from '../src/store/datasets.ts';
import { resolveModel } from './model-files.ts';

let ctxPromise: Promise<GpuContext> | undefined;
let session: ExperimentSession | undefined;
const checkpoints = idbCheckpointStore();

const api: ExperimentWorkerApi = {
  async start(config: ExperimentConfig, onEvent: (e: ExperimentEvent) => void, resumeFrom?: string) {
    session?.dispose();
    try {
      ctxPromise ??= createGpuContext();
      const ctx = await ctxPromise;
      ctx.device.lost.then((info) => {
        ctxPromise = undefined;
        onEvent({ kind: 'error', message: `The GPU device was lost (${info.reason}: ${info.message.replace(/\.$/, '')}). Resume to continue from the last checkpoint.` });
        onEvent({ kind: 'status', state: 'error', message: 'GPU device lost' });
      });
      session = new ExperimentSession(config, {
        ctx,
        resolveModel,
        loadDataset: async (id) => {
          const d = await loadDataset(id);
          if (!d) throw new Error(`dataset "${id}" is no longer in this browser's storage`);
          return d.trajectories;
        },
        checkpoints,
        emit: onEvent,
      });
      if (resumeFrom && resumeFrom !== session.key) onEvent({ kind: 'log', message: `checkpoint ${resumeFrom} belongs to another configuration; looking for ${session.key}` });
      await session.run(resumeFrom !== undefined);
    } catch (err) {
      onEvent({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
      onEvent({ kind: 'status', state: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  },
  async pause() {
    session?.runner?.pause();
  },
  async resume() {
    session?.runner?.resume();
  },
  async stop() {
    session?.runner?.stop();
  },
  async exportWeights(arm: Arm, trainSeed?: number) {
    const runner = session?.runner;
    if (!runner) throw new Error('no run to export weights from');
    const files = hfFolderFiles(runner.modelConfig, await runner.armWeights(arm, trainSeed));
    const st = files.get('model.safetensors') as Uint8Array;
    const buf = st.buffer.slice(st.byteOffset, st.byteOffset + st.byteLength) as ArrayBuffer;
    return Comlink.transfer({ configJson: files.get('config.json') as string, safetensors: buf }, [buf]);
  },
};

Comlink.expose(api);

// TEST ONLY, dev-server builds only (src/experiment/test-hooks.ts): destroys this worker's GPU
// device, as a driver reset would, so the page's recovery path runs on SwiftShader.
if (import.meta.env.DEV) {
  void import('../src/experiment/test-hooks.ts').then(({ answerTestHooks }) =>
    answerTestHooks({
      'lose-device': async () => {
        if (!ctxPromise) return false;
        (await ctxPromise).device.destroy();
        return true;
      },
    }),
  );
}
