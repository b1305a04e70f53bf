// What workers/select.worker.ts exposes to the page (through comlink): the selection runner
// (src/select/run.ts) off the main thread, with pause / resume / cancel, and the local judge
// loaded once and kept there. Plain data and callbacks only, so it crosses postMessage.
import type { Trajectory } from '../data/trajectory.ts';
import type { DryRunReport, RunOptions, RunProgress, RunResult } from './run.ts';
import type { JudgeOptions, LoadJudgeOptions } from './judge.ts';
import type { StepLossFn } from './step-loss-file.ts';

/** RunOptions minus what cannot cross postMessage; the worker builds those itself. */
export interface WorkerRunOptions extends Omit<RunOptions, 'model' | 'cache' | 'stepLoss' | 'now'> {
  /** Use the IndexedDB cache (default true). */
  cache?: boolean;
  /** The judge loaded by loadJudge() (selector "judge"). */
  useLoadedJudge?: boolean;
}

export interface SelectWorkerApi {
  /** Runs a selector over the trajectories; each finished one is reported to `onProgress`. */
  run(trajectories: Trajectory[], options: WorkerRunOptions, onProgress?: (p: RunProgress) => void, stepLoss?: StepLossFn): Promise<RunResult>;
  /** What an oracle (or a generating judge) run would send, without sending anything. */
  dryRun(trajectories: Trajectory[], options: WorkerRunOptions): Promise<DryRunReport>;
  /** Loads the local judge this worker then runs (selector "judge"). */
  loadJudge(opts: LoadJudgeOptions & JudgeOptions, onProgress?: LoadJudgeOptions['onProgress']): Promise<{ id: string; maxContext: number }>;
  pause(): void;
  resume(): void;
  cancel(): void;
}
