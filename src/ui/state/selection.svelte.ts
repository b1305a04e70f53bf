// Running a selector over the dataset in workers/select.worker.ts (comlink): progress, cost,
// pause/resume/cancel, and the API key. The key lives in this module's memory only, unless
// the user ticks "remember on this device" (then IndexedDB, settings store). It is never put
// in the URL, exports, logs or the selection cache (the worker passes it straight to fetch).
import type { Selection, Trajectory } from '../../data/trajectory.ts';
import type { RunProgress, RunSummary } from '../../select/run.ts';
import type { SelectWorkerApi, WorkerRunOptions } from '../../../workers/select.worker.ts';
import { dataset } from './dataset.svelte.ts';
import { experiment } from './experiment.svelte.ts';
import { getSetting, setSetting, deleteSetting } from './persist.ts';
import { spawnWorker, Comlink, type WorkerHandle } from './workers.ts';

export const GROUND_TRUTH_SELECTOR = 'ground-truth';

/** The built-in environments' own labels as a selection (every step whose true role is not routine). */
export function groundTruthSelection(t: Trajectory, now: string): Selection | undefined {
  if (!t.groundTruth || t.groundTruth.length !== t.steps.length) return undefined;
  const critical = t.groundTruth.flatMap((role, step) => (role === 'routine' ? [] : [{ step, category: role, reason: 'ground truth recorded by the expert demonstrator' }]));
  return { selector: GROUND_TRUTH_SELECTOR, createdAt: now, status: 'labelled', critical };
}

class SelectionState {
  apiKey = $state('');
  rememberKey = $state(false);
  /** Prices per 1M tokens, for the cost estimate (optional). */
  promptPerM = $state<number | null>(null);
  completionPerM = $state<number | null>(null);
  judgeMode = $state<'generate' | 'score'>('score');
  judgeAllowRemote = $state(false);
  judgeLocalPath = $state('/models/');
  judgeLoaded = $state<{ id: string; maxContext: number } | null>(null);
  judgeLoading = $state<string | null>(null);

  running = $state(false);
  paused = $state(false);
  progress = $state<{ done: number; total: number } | null>(null);
  summary = $state.raw<RunSummary | null>(null);
  error = $state('');
  private worker?: WorkerHandle<SelectWorkerApi>;

  async init(): Promise<void> {
    const key = await getSetting<string>('oracle-key');
    if (typeof key === 'string' && key) {
      this.apiKey = key;
      this.rememberKey = true;
    }
  }

  async setRemember(on: boolean): Promise<void> {
    this.rememberKey = on;
    if (on && this.apiKey) await setSetting('oracle-key', this.apiKey);
    else await deleteSetting('oracle-key');
  }

  async keyChanged(): Promise<void> {
    if (this.rememberKey) await (this.apiKey ? setSetting('oracle-key', this.apiKey) : deleteSetting('oracle-key'));
  }

  private async api(): Promise<Comlink.Remote<SelectWorkerApi>> {
    this.worker ??= await spawnWorker<SelectWorkerApi>('select', (m) => (this.error = m));
    return this.worker.api;
  }

  private options(): WorkerRunOptions {
    const s = experiment.config.selector;
    const e = experiment.config.experiment;
    const kind = s.kind;
    if (kind === 'ground-truth') throw new Error('ground truth is not run by a selector');
    const price = this.promptPerM !== null && this.completionPerM !== null ? { promptPerM: this.promptPerM, completionPerM: this.completionPerM } : undefined;
    return {
      selector: kind,
      budget: e.budget,
      seed: e.seed,
      concurrency: s.concurrency,
      ...(kind === 'oracle' ? { oracle: { baseUrl: s.baseUrl, model: s.model, apiKey: this.apiKey || undefined } } : {}),
      ...(price ? { price } : {}),
    };
  }

  async loadJudge(): Promise<void> {
    this.error = '';
    this.judgeLoading = 'starting…';
    try {
      const api = await this.api();
      const s = experiment.config.selector;
      this.judgeLoaded = await api.loadJudge(
        { model: s.model, mode: this.judgeMode, allowRemote: this.judgeAllowRemote, ...(this.judgeAllowRemote ? {} : { localModelPath: new URL(this.judgeLocalPath, location.href).href }) },
        Comlink.proxy((info: { status: string; file?: string; progress?: number }) => {
          this.judgeLoading = `${info.status}${info.file ? ` ${info.file}` : ''}${info.progress !== undefined ? ` ${Math.round(info.progress)} %` : ''}`;
        }),
      );
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.judgeLoading = null;
    }
  }

  /** Runs the chosen selector on every trajectory; the results become the active selection. */
  async run(): Promise<void> {
    if (this.running) return;
    this.error = '';
    this.summary = null;
    const kind = experiment.config.selector.kind;
    const input = dataset.trajectories;
    if (input.length === 0) {
      this.error = 'There are no trajectories to label: load data in step 1.';
      return;
    }
    if (kind === 'ground-truth') {
      const now = new Date().toISOString();
      let labelled = 0;
      const out = input.map((t) => {
        const sel = groundTruthSelection(t, now);
        if (!sel) return t;
        labelled++;
        return { ...t, selections: [...t.selections.filter((s) => s.selector !== GROUND_TRUTH_SELECTOR), sel], activeSelection: GROUND_TRUTH_SELECTOR };
      });
      if (labelled === 0) {
        this.error = 'These trajectories have no ground-truth roles (only the built-in environments record them).';
        return;
      }
      await dataset.replace(out);
      experiment.config.experiment.selector = GROUND_TRUTH_SELECTOR;
      this.summary = { selector: GROUND_TRUTH_SELECTOR, total: input.length, labelled, failed: input.length - labelled ? [{ id: '(several)', reason: `${input.length - labelled} trajectories have no ground truth` }] : [], requests: 0, retries: 0, cacheHits: 0, tokens: { prompt: 0, completion: 0 }, cost: null, repaired: 0, cancelled: false, elapsedMs: 0 };
      return;
    }
    this.running = true;
    this.paused = false;
    this.progress = { done: 0, total: input.length };
    try {
      const api = await this.api();
      const result = await api.run(
        input,
        this.options(),
        Comlink.proxy((p: RunProgress) => {
          this.progress = { done: p.done, total: p.total };
          this.summary = p.summary;
        }),
      );
      this.summary = result.summary;
      const name = result.summary.selector;
      // The new selection becomes the one the critical arm trains on.
      await dataset.replace(result.trajectories.map((t) => (t.selections.some((s) => s.selector === name && s.status === 'labelled') ? { ...t, activeSelection: name } : t)));
      if (result.summary.labelled > 0) experiment.config.experiment.selector = name;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.running = false;
      this.paused = false;
    }
  }

  async pause(): Promise<void> {
    await (await this.api()).pause();
    this.paused = true;
  }
  async resume(): Promise<void> {
    await (await this.api()).resume();
    this.paused = false;
  }
  async cancel(): Promise<void> {
    await (await this.api()).cancel();
  }
}

export const selection = new SelectionState();
