// Thin comlink shell over the experiment session: trains the arms side by side on this
// worker's GPU device and streams events to the page (ExperimentWorkerApi).
import * as Comlink from 'comlink';
import type { Arm } from '../src/data/arms.ts';
import { createGpuContext, type GpuContext } from '../src/engine/device.ts';
import { hfFolderFiles } from '../src/engine/weights/hf.ts';
import { idbCheckpointStore } from '../src/experiment/checkpoint-idb.ts';
import type { ExperimentConfig, ExperimentEvent, ExperimentWorkerApi } from '../src/experiment/protocol.ts';
import { BadInputError, RunReporter, runReported } from '../src/experiment/run-events.ts';
import { ExperimentSession } from '../src/experiment/session.ts';
import { loadDataset } from '../src/store/datasets.ts';
import { resolveModel } from './model-files.ts';

let ctxPromise: Promise<GpuContext> | undefined;
let session: ExperimentSession | undefined;
/** The run in progress: its events carry its id, and it fails at most once. */
let reporter: RunReporter | undefined;
const checkpoints = idbCheckpointStore();

/** This worker's GPU device, opened once; after its loss the next start opens a new one. */
function openDevice(): Promise<GpuContext> {
  ctxPromise ??= createGpuContext().then((ctx) => {
    void ctx.device.lost.then(() => (ctxPromise = undefined));
    return ctx;
  });
  return ctxPromise;
}

const api: ExperimentWorkerApi = {
  async start(runId: string, config: ExperimentConfig, onEvent: (e: ExperimentEvent) => void, resumeFrom?: string) {
    reporter?.fail({ kind: 'cancelled', reason: 'replaced', message: 'another run started in this worker' });
    session?.dispose();
    const run = (reporter = new RunReporter(runId, onEvent));
    const train = async (ctx: GpuContext) => {
      session = new ExperimentSession(config, {
        ctx,
        resolveModel,
        loadDataset: async (id) => {
          const d = await loadDataset(id);
          if (!d) throw new BadInputError(`dataset "${id}" is no longer in this browser's storage`);
          return d.trajectories;
        },
        checkpoints,
        emit: run.emit,
      });
      if (resumeFrom && resumeFrom !== session.key) run.emit({ kind: 'log', message: `checkpoint ${resumeFrom} belongs to another configuration; looking for ${session.key}` });
      await session.run(resumeFrom !== undefined);
    };
    await runReported(run, openDevice, train, () => session?.runner?.stop());
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
  async exportAdapter(arm: Arm, trainSeed?: number) {
    const runner = session?.runner;
    if (!runner) throw new Error('no run to export an adapter from');
    const tensors = await runner.armAdapter(arm, trainSeed);
    return Comlink.transfer(tensors, [...new Set([...tensors.values()].map((t) => t.buffer as ArrayBuffer))]);
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
