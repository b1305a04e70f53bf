// The Select step's restart test run: in its own worker (workers/restart.worker.ts) with the
// run's starting model, progress streamed back. Cancel = end the worker.
import type { Trajectory } from '../../data/trajectory.ts';
import type { ExperimentConfig } from '../../experiment/protocol.ts';
import type { RestartWorkerApi } from '../../experiment/restart-protocol.ts';
import { DEFAULT_RESTART_SETTINGS, previewPlan, usableSettings, type RestartSettings } from '../restart-settings.ts';
import type { RestartReport } from '../../select/restart-report.ts';
import { spawnWorker, Comlink, type WorkerHandle } from './workers.ts';

class RestartTestState {
  settings = $state<RestartSettings>({ ...DEFAULT_RESTART_SETTINGS });
  running = $state(false);
  progress = $state<{ done: number; total: number } | null>(null);
  report = $state.raw<RestartReport | null>(null);
  error = $state('');
  seconds = $state(0);
  private worker?: WorkerHandle<RestartWorkerApi>;
  /** Bumped by every run and cancel: a run whose number is no longer current reports nothing. */
  private current = 0;

  async run(ts: readonly Trajectory[], config: ExperimentConfig): Promise<void> {
    this.cancel();
    const mine = this.current;
    const live = () => mine === this.current;
    const plan = previewPlan(ts, config.selector, this.settings, config.seed);
    const used = new Set(plan.trajectories);
    Object.assign(this, { running: true, error: '', report: null, progress: { done: 0, total: plan.points.length } });
    const started = performance.now();
    try {
      const worker = await spawnWorker<RestartWorkerApi>('restart', (message) => void (live() && (this.error = message)));
      if (!live()) return worker.terminate();
      this.worker = worker;
      const report = await worker.api.run(
        ts.filter((t) => used.has(t.id)),
        // Plain data: a reactive proxy cannot cross postMessage.
        $state.snapshot(config) as ExperimentConfig,
        { ...usableSettings(this.settings), selection: config.selector, seed: config.seed },
        Comlink.proxy((done: number, total: number) => void (live() && (this.progress = { done, total }))),
      );
      if (live()) Object.assign(this, { report, seconds: (performance.now() - started) / 1000 });
    } catch (err) {
      if (live()) this.error = err instanceof Error ? err.message : String(err);
    } finally {
      if (live()) this.cancel();
    }
  }

  /** Ends the worker (a run in it stops at once) and forgets the run. */
  cancel(): void {
    this.current++;
    this.worker?.terminate();
    this.worker = undefined;
    this.running = false;
  }
}

export const restartTest = new RestartTestState();
