// The experiment: its configuration (mirrored in the URL hash), the runner worker
// (workers/experiment.worker.ts, ExperimentWorkerApi through comlink), the metric stream and
// its persistence. Events arrive at any rate; they are applied once per animation frame so
// the charts redraw at most 60 times a second and the main thread stays responsive.
import type { Arm } from '../../data/arms.ts';
import { deviceLostReason, failureMessage, trainingSeeds, type DataSource, type LoraTarget, type ExperimentConfig, type ExperimentEvent, type ExperimentWorkerApi, type ModelSource, type RunEvent, type RunFailure, type RunStatus } from '../../experiment/protocol.ts';
import { rebuiltFromSeed } from '../../select/registry.ts';
import { experimentKey } from '../../experiment/session.ts';
import { addEvent, dropRowsAfter, emptyLog, logFromEvents, stepEveryRunDid, type MetricsLog } from '../charts/metrics.ts';
import { configFromHash, configToHash, presetConfig, type PlaygroundConfig, type PresetName } from './playground-config.ts';
import { clampToRange, loraTargetsValue, setSettingValue, type SettingSpec } from '../../experiment/settings-spec.ts';
import { saveRun, loadRun, type StoredRun } from '../../store/runs.ts';
import { updateSession } from '../../store/settings.ts';
import { spawnWorker, workerAvailable, Comlink, type WorkerHandle } from './workers.ts';
import { applyRunEvent, eventOfRun, newRunId, recoverableFailure, type RunPhase, type RunView } from './run-view.ts';

export type { RunPhase } from './run-view.ts';

const SAVE_EVERY_MS = 2000;

class ExperimentState {
  config = $state<PlaygroundConfig>(presetConfig('quick-demo'));
  /** Problems found reading the URL, shown once to the user. */
  urlProblems = $state<string[]>([]);
  phase = $state<RunPhase>('idle');
  statusMessage = $state('');
  /** A refusal of the page itself (e.g. no arm picked). */
  error = $state('');
  /** Why the run ended early (the worker's failure event), if it did. */
  failure = $state.raw<RunFailure | null>(null);
  /** The stored run's id. */
  runId = $state('');
  /** A reload stopped this run while it was training (cleared when it resumes or another starts). */
  interruptedByReload = $state(false);
  /** Last status event (step, GPU memory, adapter). */
  status = $state.raw<RunStatus | null>(null);
  /** Steps every run (arm × training seed) has finished (the slowest run's last step; metrics.ts stepEveryRunDid). */
  stepsDone = $state(0);
  /** Incremented once per animation frame that applied events; charts redraw on change. */
  version = $state(0);
  log: MetricsLog = emptyLog([]);
  startedAt = $state(0);
  /** The config the current run was started with (the form may change meanwhile). */
  runConfig = $state.raw<ExperimentConfig | null>(null);
  readonly runnerAvailable = workerAvailable('experiment');

  private events: RunEvent[] = [];
  private pending: ExperimentEvent[] = [];
  /** The id of the start in progress (a resume is a start of its own): events with another id
   *  are late reports of an earlier start, and are dropped. */
  private liveRunId = '';
  private frame = 0;
  private lastSave = 0;
  private runner?: WorkerHandle<ExperimentWorkerApi>;
  /** Set by a resume until the runner reports the checkpoint's step. */
  private resuming = false;

  /** The runner reported a lost GPU device: offer resuming from the last checkpoint. */
  deviceLost = $derived(this.failure?.kind === 'device-lost');
  /**
   * The general error alert: every error except a lost device, whose own notice (RunControls'
   * device-lost) already says what happened and offers the resume. Showing both repeated it.
   */
  generalError = $derived(this.failure ? (this.failure.kind === 'device-lost' ? '' : failureMessage(this.failure)) : this.error);
  /** The device's reason for the loss, e.g. "destroyed: Device was destroyed" ('' if none). */
  deviceLostReason = $derived(this.failure?.kind === 'device-lost' ? deviceLostReason(this.failure) : '');

  running = $derived(this.phase === 'starting' || this.phase === 'preparing' || this.phase === 'training' || this.phase === 'evaluating' || this.phase === 'paused');

  /** Reads the URL hash (if it holds a config); returns whether it did. */
  readHash(hash: string, datasetId?: string): boolean {
    const parsed = configFromHash(hash, datasetId);
    if (!parsed) return false;
    this.config = parsed.config;
    this.urlProblems = parsed.problems;
    return true;
  }

  hash(): string {
    return configToHash($state.snapshot(this.config) as PlaygroundConfig);
  }

  applyPreset(name: PresetName, datasetId?: string): void {
    this.config = presetConfig(name, datasetId);
  }

  toggleArm(arm: Arm, on: boolean): void {
    const arms = this.config.experiment.arms.filter((a) => a !== arm);
    this.config.experiment.arms = on ? [...arms, arm] : arms;
  }

  /** The data the run trains and evaluates on. */
  useData(data: DataSource): void {
    this.config.experiment.data = data;
  }

  /** The model every arm starts from. */
  useModel(model: ModelSource): void {
    this.config.experiment.model = model;
  }

  /**
   * The link named data this browser does not hold: `fallback` is open instead, and the problems
   * notice says why (`problem`).
   */
  replaceMissingData(fallback: DataSource, problem: string): void {
    this.urlProblems = [...this.urlProblems, problem];
    this.config.experiment.data = fallback;
  }

  dismissUrlProblems(): void {
    this.urlProblems = [];
  }

  dismissInterruptedNotice(): void {
    this.interruptedByReload = false;
  }

  /**
   * Makes `name` the selection the critical arm trains on. The runner regenerates built-in data
   * from its seed and rebuilds only the selections the registry marks rebuiltFromSeed (heuristic,
   * ground truth); any other (oracle, judge, hand edits) exists only on the stored
   * demonstrations, so with built-in data the run then trains on their stored copy `storedId`
   * (the open dataset; the Train step says so).
   */
  trainCriticalOn(name: string, storedId?: string): void {
    const e = this.config.experiment;
    e.selector = name;
    if (!rebuiltFromSeed(name) && e.data.kind === 'builtin' && storedId) e.data = { kind: 'dataset', datasetId: storedId };
  }

  /**
   * One numeric setting from the Train step's field (src/experiment/settings-spec.ts). An emptied
   * field (null) makes an optional setting absent, so its default applies, and leaves a
   * required one as it was; a clamped setting (training seeds) takes a whole number only,
   * moved into its range.
   */
  setSetting(s: SettingSpec, value: number | null): void {
    const e = this.config.experiment;
    if (s.clamp) {
      if (value === null || !Number.isInteger(value)) return;
      value = clampToRange(s, value);
    }
    setSettingValue(e, s, value === null || Number.isNaN(value) ? undefined : value);
  }

  /** LoRA's target projections from the Train step's check boxes: all seven is the default
   *  (absent, as in a link without `loraTargets`); at least one stays. */
  setLoraTargets(targets: readonly LoraTarget[]): void {
    if (!targets.length) return;
    const e = this.config.experiment;
    const value = loraTargetsValue(targets);
    if (value) e.loraTargets = value;
    else delete e.loraTargets;
  }

  private onEvent = (e: ExperimentEvent) => {
    this.pending.push(e);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  };

  /** A failure of the page's own (the worker did not load, the call failed) as run `runId`'s. */
  private failLocally(err: unknown, runId: string): void {
    this.onEvent({ kind: 'error', message: err instanceof Error ? err.message : String(err), runId });
  }

  private flush(): void {
    this.frame = 0;
    const batch = this.pending;
    this.pending = [];
    let view: RunView = { phase: this.phase, status: this.status, statusMessage: this.statusMessage, failure: this.failure };
    for (const stamped of batch) {
      const e = eventOfRun(stamped, this.liveRunId);
      if (!e) continue;
      this.events.push(e);
      addEvent(this.log, e);
      if (e.kind === 'status' && this.resuming && e.state === 'training' && e.step !== undefined) this.dropStepsAfter(e.step);
      view = applyRunEvent(view, e);
    }
    ({ phase: this.phase, status: this.status, statusMessage: this.statusMessage, failure: this.failure } = view);
    this.stepsDone = stepEveryRunDid(this.log);
    this.version++;
    const finished = this.phase === 'done' || this.phase === 'stopped' || this.phase === 'error';
    if (finished || performance.now() - this.lastSave > SAVE_EVERY_MS) void this.persist();
  }

  /**
   * A resume restarts every run (arm × seed) at the checkpoint's step: the points each run
   * trained after it (before the reload or the lost device) are dropped, so cards, status and
   * charts all count from the checkpoint. The baseline (step 0) stays.
   */
  private dropStepsAfter(step: number): void {
    this.resuming = false;
    const later = (e: RunEvent) => (e.kind === 'train' || e.kind === 'eval') && e.step > step;
    this.events = this.events.filter((e) => !later(e));
    dropRowsAfter(this.log, step);
  }

  private async persist(): Promise<void> {
    if (!this.runId || !this.runConfig) return;
    this.lastSave = performance.now();
    const now = new Date().toISOString();
    const run: StoredRun = { id: this.runId, createdAt: new Date(this.startedAt).toISOString(), updatedAt: now, config: this.runConfig, events: this.events, state: this.phase, checkpoint: experimentKey(this.runConfig) };
    await saveRun(run);
    await updateSession({ runId: this.runId });
  }

  /** Restores a stored run's charts (after a reload). */
  async restore(runId: string): Promise<boolean> {
    const run = await loadRun(runId);
    if (!run) return false;
    this.runId = run.id;
    this.runConfig = run.config;
    this.events = run.events;
    // Events stored before seeds existed carry no trainSeed: they are the run of config.seed.
    this.log = logFromEvents(run.config.arms, run.events, trainingSeeds(run.config));
    this.status = this.log.status;
    this.stepsDone = stepEveryRunDid(this.log);
    this.startedAt = Date.parse(run.createdAt);
    // A run that was going when the page closed is now stopped; it can resume from its checkpoint.
    const live = ['preparing', 'training', 'evaluating', 'paused', 'starting'].includes(run.state);
    this.phase = live ? 'stopped' : (run.state as RunPhase);
    this.statusMessage = live ? 'The page was reloaded while this run was training.' : '';
    this.interruptedByReload = live;
    // A run that ended on a lost device still offers to resume from its checkpoint after a reload.
    this.failure = recoverableFailure(run.state, run.events);
    this.error = '';
    this.version++;
    return true;
  }

  async start(resumeFrom?: string): Promise<void> {
    if (this.running) return;
    this.error = '';
    this.failure = null;
    this.interruptedByReload = false;
    this.resuming = resumeFrom !== undefined;
    const cfg = $state.snapshot(this.config.experiment) as ExperimentConfig;
    if (cfg.arms.length === 0) {
      this.error = 'Pick at least one arm to train.';
      return;
    }
    // From here on only this start's events count: a late one of the previous start is dropped.
    this.liveRunId = newRunId();
    if (!resumeFrom) {
      this.runId = this.liveRunId;
      this.events = [];
      this.log = emptyLog(cfg.arms, trainingSeeds(cfg));
      this.status = null;
      this.stepsDone = 0;
      this.startedAt = Date.now();
    }
    this.runConfig = cfg;
    this.phase = 'starting';
    this.statusMessage = '';
    this.version++;
    // Let the Compare step build its charts (one per frame) before the worker starts compiling
    // GPU pipelines, which on a software adapter takes every CPU core for a while.
    await new Promise<void>((resolve) => {
      let n = 0;
      const tick = () => (++n >= 10 ? resolve() : requestAnimationFrame(tick));
      requestAnimationFrame(tick);
    });
    const runId = this.liveRunId;
    try {
      this.runner?.terminate();
      this.runner = await spawnWorker<ExperimentWorkerApi>('experiment', (m) => this.failLocally(m, runId));
      await this.runner.api.start(runId, cfg, Comlink.proxy(this.onEvent), resumeFrom);
    } catch (err) {
      this.failLocally(err, runId);
    }
  }

  async pause(): Promise<void> {
    await this.runner?.api.pause();
  }
  async resume(): Promise<void> {
    await this.runner?.api.resume();
  }
  async stop(): Promise<void> {
    await this.runner?.api.stop();
  }

  /** Resume training from the run's last checkpoint (after a reload or a lost device). */
  resumeFromCheckpoint(): Promise<void> {
    if (!this.runConfig) return Promise.resolve();
    this.config.experiment = structuredClone(this.runConfig);
    // The runner saves checkpoints under the configuration's key.
    return this.start(experimentKey(this.runConfig));
  }

  /** One run's weights from the live runner: the arm trained with `trainSeed` (default: the
   *  first seed). The Export step packs them (src/ui/state/weights-export.ts). */
  async exportWeights(arm: Arm, trainSeed?: number): Promise<{ configJson: string; safetensors: ArrayBuffer }> {
    if (!this.runner) throw new Error('no trained model in this page: train first (weights live in the runner until exported)');
    return this.runner.api.exportWeights(arm, trainSeed);
  }

  /** One LoRA run's adapter tensors (PEFT's names) from the live runner. */
  async exportAdapter(arm: Arm, trainSeed?: number): Promise<Map<string, Float32Array>> {
    if (!this.runner) throw new Error('no trained adapter in this page: train first (adapters live in the runner until exported)');
    return this.runner.api.exportAdapter(arm, trainSeed);
  }

  get hasRunner(): boolean {
    return this.runner !== undefined;
  }
}

export const experiment = new ExperimentState();
