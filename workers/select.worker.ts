// Thin comlink shell around the selection runner (src/select/run.ts): the UI sends
// trajectories and options, receives progress through a comlink.proxy callback, and can
// pause, resume or cancel. The API key lives only in this worker's memory for the run.
import * as Comlink from 'comlink';
import { runSelection, dryRun } from '../src/select/run.ts';
import { RunControl } from '../src/select/control.ts';
import { IdbCacheStore } from '../src/select/cache-idb.ts';
import { loadJudge, type LocalJudge } from '../src/select/judge.ts';
import { browserOrtPrefix, setOrtWasmPaths } from '../src/select/ort-paths.ts';
import { getSelector } from '../src/select/registry.ts';
import type { SelectWorkerApi, WorkerRunOptions } from '../src/select/protocol.ts';

let control: RunControl | undefined;
let judge: LocalJudge | undefined;
let ortConfigured = false;

async function configureOrt() {
  if (ortConfigured) return;
  const { env } = await import('@huggingface/transformers');
  // The build's base is relative ('./', so the site runs under any path) to the page, which a
  // worker cannot see: a built worker sits in assets/, one folder below the page. The dev
  // server's base is '/'.
  const base = import.meta.env.BASE_URL.startsWith('/') ? import.meta.env.BASE_URL : new URL('../', self.location.href).href;
  setOrtWasmPaths(env as never, browserOrtPrefix(self.location.origin, base));
  ortConfigured = true;
}

/** The loaded judge when the selector needs one. */
const judgeFor = (options: WorkerRunOptions) => (getSelector(options.selector).needsModel === 'judge' ? judge : undefined);

const api: SelectWorkerApi = {
  async run(trajectories, options, onProgress, stepLoss) {
    control?.cancel();
    const mine = (control = new RunControl());
    const { cache, useLoadedJudge, ...rest } = options;
    if ((getSelector(options.selector).needsModel === 'judge' || useLoadedJudge) && !judge) throw new Error('load a judge model first (loadJudge)');
    return runSelection(trajectories, { ...rest, cache: cache === false ? undefined : new IdbCacheStore(), model: judgeFor(options), stepLoss }, { control: mine, onProgress });
  },

  async dryRun(trajectories, options) {
    const { cache, ...rest } = options;
    return dryRun(trajectories, { ...rest, cache: cache === false ? undefined : new IdbCacheStore(), model: judgeFor(options) });
  },

  async loadJudge(opts, onProgress) {
    await configureOrt();
    await judge?.lm.dispose?.();
    judge = undefined;
    judge = await loadJudge({ ...opts, onProgress });
    return { id: judge.lm.id, maxContext: judge.lm.maxContext };
  },

  pause() {
    control?.pause();
  },
  resume() {
    control?.resume();
  },
  cancel() {
    control?.cancel();
  },
};

Comlink.expose(api);
