// Thin comlink shell around the restart test (src/select/restart-test.ts) for the Select step: the
// page sends the dataset's trajectories and the run's configuration; this worker loads the
// run's starting model on its own GPU device, runs the restarts and streams progress. The page
// cancels by terminating the worker.
import * as Comlink from 'comlink';
import { createGpuContext, type GpuContext } from '../src/engine/device.ts';
import { generatorPolicy } from '../src/experiment/generator-policy.ts';
import { DEFAULT_TURN_TOKENS } from '../src/experiment/model-turns.ts';
import type { RestartWorkerApi } from '../src/experiment/restart-protocol.ts';
import { runRestartTest } from '../src/select/restart-test.ts';
import { resolveModel } from './model-files.ts';

let ctxPromise: Promise<GpuContext> | undefined;
/** Episodes generated together: the runner's rollout batch. */
const BATCH = 16;

const api: RestartWorkerApi = {
  async run(trajectories, config, options, onProgress) {
    const { model, tokenizer } = await resolveModel(config);
    const ctx = await (ctxPromise ??= createGpuContext());
    const { policy, destroy } = await generatorPolicy(ctx, model, tokenizer, { batchSize: BATCH, maxTurnTokens: config.maxTurnTokens ?? DEFAULT_TURN_TOKENS, seed: config.seed, name: model.label });
    try {
      return await runRestartTest(trajectories, policy, { ...options, batchSize: BATCH, onProgress });
    } finally {
      destroy();
    }
  },
};

Comlink.expose(api);
