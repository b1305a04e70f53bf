// Thin comlink shell around the selection runner (src/select/run.ts): the UI sends
// trajectories and options, receives progress through a comlink.proxy callback, and can
// pause, resume or cancel. The API key lives only in this worker's memory for the run.
import * as Comlink from 'comlink';
import type { Trajectory } from '../src/data/trajectory.ts';
import { runSelection, dryRun, type RunOptions, type RunProgress, type RunResult, type DryRunReport } from '../src/select/run.ts';
import { RunControl } from '../src/select/control.ts';
import { IdbCacheStore } from '../src/select/cache-idb.ts';
import { loadJudge, type LoadJudgeOptions, type JudgeOptions, type LocalJudge } from '../src/select/judge.ts';
import { browserOrtPrefix, setOrtWasmPaths } from '../src/select/ort-paths.ts';
import type { StepLossFn } from '../src/select/step-loss.ts';

/** RunOptions minus what cannot cross postMessage; the worker builds those itself. */
export interface WorkerRunOptions extends Omit<RunOptions, 'model' | 'cache' | 'stepLoss' | 'now'> {
  /** Use the IndexedDB cache (default true). */
  cache?: boolean;
  /** The judge loaded by loadJudge() (selector "judge"). */
  useLoadedJudge?: boolean;
}

let control: RunControl | undefined;
let judge: LocalJudge | undefined;
let ortConfigured = false;

async function configureOrt() {
  if (ortConfigured) return;
  const { env } = await import('@huggingface/transformers');
  setOrtWasmPaths(env as never, browserOrtPrefix(self.location.origin, import.meta.env.BASE_URL));
  ortConfigured = true;
}

const api = {
  async run(trajectories: Trajectory[], options: WorkerRunOptions, onProgress?: (p: RunProgress) => void, stepLoss?: StepLossFn): Promise<RunResult> {
    control?.cancel();
    const mine = (control = new RunControl());
    const { cache, useLoadedJudge, ...rest } = options;
    if ((options.selector === 'judge' || useLoadedJudge) && !judge) throw new Error('load a judge model first (loadJudge)');
    return runSelection(
      trajectories,
      { ...rest, cache: cache === false ? undefined : new IdbCacheStore(), model: options.selector === 'judge' ? judge : undefined, stepLoss },
      { control: mine, onProgress },
    );
  },

  async dryRun(trajectories: Trajectory[], options: WorkerRunOptions): Promise<DryRunReport> {
    const { cache, ...rest } = options;
    return dryRun(trajectories, { ...rest, cache: cache === false ? undefined : new IdbCacheStore(), model: options.selector === 'judge' ? judge : undefined });
  },

  async loadJudge(opts: LoadJudgeOptions & JudgeOptions, onProgress?: LoadJudgeOptions['onProgress']): Promise<{ id: string; maxContext: number }> {
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

export type SelectWorkerApi = typeof api;
Comlink.expose(api);
