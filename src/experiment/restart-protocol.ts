// What workers/restart.worker.ts exposes through comlink: the restart test (src/select/restart-test.ts)
// with a run's starting model on the worker's own GPU device, progress streamed back. Here, not
// in src/select: it takes the experiment's configuration (which model, which turn limit).
import type { Trajectory } from '../data/trajectory.ts';
import type { RestartTestOptions } from '../select/restart-test.ts';
import type { RestartReport } from '../select/restart-report.ts';
import type { ExperimentConfig } from './protocol.ts';

/** The options that cross postMessage (no callbacks). */
export type RestartWorkerOptions = Omit<RestartTestOptions, 'onProgress' | 'batchSize'>;

export interface RestartWorkerApi {
  run(trajectories: Trajectory[], config: ExperimentConfig, options: RestartWorkerOptions, onProgress?: (done: number, total: number) => void): Promise<RestartReport>;
}
