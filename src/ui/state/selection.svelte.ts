// Running a selector over the dataset in workers/select.worker.ts (comlink): progress, cost,
// pause/resume/cancel, and the API key. The key lives in this module's memory only, unless
// the user ticks "remember on this device" (then IndexedDB, settings store). It is never put
// in the URL, exports, logs or the selection cache (the worker passes it straight to fetch).
import type { Trajectory } from '../../data/trajectory.ts';
import type { RunProgress, RunSummary } from '../../select/run.ts';
import { DEFAULT_HUB_MIRROR } from '../../select/judge.ts';
import type { SelectWorkerApi, WorkerRunOptions } from '../../select/protocol.ts';
import { dataset, yieldToBrowser } from './dataset.svelte.ts';
import { experiment } from './experiment.svelte.ts';
import { getSetting, setSetting, deleteSetting } from '../../store/settings.ts';
import { spawnWorker, Comlink, type WorkerHandle } from './workers.ts';
import { maskView } from './mask-view.svelte.ts';
import { importedSelection, isBaselineSelection } from './selection-roles.ts';

/** Trajectories sent to the worker per call: each message (de)serializes in a short task. */
const BATCH = 50;

/** Summary of the batches so far plus the one in progress. */
function combine(a: RunSummary | null, b: RunSummary, total: number): RunSummary {
  if (!a) return { ...b, total };
  return {
    ...b,
    total,
    labelled: a.labelled + b.labelled,
    failed: [...a.failed, ...b.failed],
    requests: a.requests + b.requests,
    retries: a.retries + b.retries,
    cacheHits: a.cacheHits + b.cacheHits,
    tokens: { prompt: a.tokens.prompt + b.tokens.prompt, completion: a.tokens.completion + b.tokens.completion },
    cost: a.cost === null || b.cost === null ? (a.cost ?? b.cost) : a.cost + b.cost,
    repaired: a.repaired + b.repaired,
    cancelled: a.cancelled || b.cancelled,
    elapsedMs: a.elapsedMs + b.elapsedMs,
  };
}

/**
 * The judge's local models folder as transformers.js must get it: a same-origin folder as an
 * origin-relative path. transformers.js (4.3) checks a file's existence only for non-URL local
 * paths, so an absolute http(s) folder made it skip tokenizer_config.json and fail with
 * "Cannot read properties of undefined (reading 'tokenizer_class')". Other origins stay absolute.
 */
export function judgeFolderPath(folder: string, base = location.href): string {
  const url = new URL(folder, base);
  return url.origin === new URL(base).origin ? url.pathname + url.search : url.href;
}

/** How many trajectories carry a labelled selection by `name`. */
export function selectionCoverage(ts: readonly Trajectory[], name: string): number {
  return ts.reduce((n, t) => n + (t.selections.some((s) => s.selector === name && s.status === 'labelled') ? 1 : 0), 0);
}

/**
 * Makes `name` the selection the critical arm trains on (experiment.trainCriticalOn), with the
 * open dataset as the stored copy of built-in demonstrations when it is one.
 */
export function trainCriticalOn(name: string): void {
  experiment.trainCriticalOn(name, dataset.origin?.kind === 'builtin' && dataset.id ? dataset.id : undefined);
}

/**
 * The open dataset's own default for the critical arm: a selection the imported file brought
 * (its per-turn loss / weight flags) becomes what the critical arm trains on; otherwise the
 * preset's choice stays. Called after an import and when the Bring-your-own-data preset is applied.
 */
export async function trainCriticalOnDatasetDefault(): Promise<void> {
  const imported = importedSelection(dataset.trajectories);
  if (!imported) return;
  await dataset.activate(imported);
  trainCriticalOn(imported);
}

class SelectionState {
  apiKey = $state('');
  rememberKey = $state(false);
  /** Prices per 1M tokens, for the cost estimate (optional). */
  promptPerM = $state<number | null>(null);
  completionPerM = $state<number | null>(null);
  judgeMode = $state<'generate' | 'score'>('score');
  judgeAllowRemote = $state(false);
  // Relative to the page, so a site served under a sub-path looks in its own models/ folder.
  judgeLocalPath = $state('models/');
  /** Generate mode: tokens per reply. A small model's context holds prompt + reply, so less reply leaves more prompt. */
  judgeMaxNewTokens = $state(512);
  judgeLoaded = $state<{ id: string; maxContext: number; mode: 'generate' | 'score'; from: string } | null>(null);
  judgeLoading = $state<string | null>(null);

  running = $state(false);
  paused = $state(false);
  progress = $state<{ done: number; total: number } | null>(null);
  summary = $state.raw<RunSummary | null>(null);
  error = $state('');
  /** After a run that labelled only some trajectories: why the critical arm did not switch to it. */
  notice = $state('');
  private cancelRequested = false;
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
      const maxNewTokens = Math.floor(Number(this.judgeMaxNewTokens));
      if (this.judgeMode === 'generate' && !(maxNewTokens >= 1)) throw new Error(`max new tokens must be a whole number ≥ 1 (got "${this.judgeMaxNewTokens}")`);
      this.judgeLoaded = null;
      const mode = this.judgeMode;
      const where = this.judgeAllowRemote ? { hubMirror: (s.hubMirror ?? '').trim() || DEFAULT_HUB_MIRROR } : { localModelPath: judgeFolderPath(this.judgeLocalPath) };
      const loaded = await api.loadJudge(
        { model: s.model.trim(), mode, maxNewTokens, allowRemote: this.judgeAllowRemote, ...where },
        Comlink.proxy((info: { status: string; file?: string; progress?: number }) => {
          this.judgeLoading = `${info.status}${info.file ? ` ${info.file}` : ''}${info.progress !== undefined ? ` ${Math.round(info.progress)} %` : ''}`;
        }),
      );
      this.judgeLoaded = { ...loaded, mode, from: 'hubMirror' in where ? `the hub mirror ${where.hubMirror}` : `the folder ${where.localModelPath}` };
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
    this.notice = '';
    this.summary = null;
    const input = dataset.trajectories;
    if (input.length === 0) {
      this.error = 'There are no trajectories to label: load data in step 1.';
      return;
    }
    this.running = true;
    this.paused = false;
    this.cancelRequested = false;
    this.progress = { done: 0, total: input.length };
    try {
      const api = await this.api();
      const options = this.options();
      const out: Trajectory[] = [];
      let merged: RunSummary | null = null;
      for (let start = 0; start < input.length; start += BATCH) {
        if (this.cancelRequested) {
          // Trajectories never sent keep their old selections; the summary says why.
          const rest = input.slice(start);
          out.push(...rest);
          merged = combine(merged, { ...merged!, labelled: 0, failed: rest.map((t) => ({ id: t.id, reason: 'cancelled' })), requests: 0, retries: 0, cacheHits: 0, tokens: { prompt: 0, completion: 0 }, cost: null, repaired: 0, cancelled: true, elapsedMs: 0 }, input.length);
          break;
        }
        const before = merged;
        const result = await api.run(
          input.slice(start, start + BATCH),
          options,
          Comlink.proxy((p: RunProgress) => {
            this.progress = { done: start + p.done, total: input.length };
            this.summary = combine(before, p.summary, input.length);
          }),
        );
        out.push(...result.trajectories);
        merged = combine(merged, result.summary, input.length);
        this.summary = merged;
        await yieldToBrowser();
      }
      const name = merged!.selector;
      const labelled = selectionCoverage(out, name);
      const current = experiment.config.experiment.selector;
      if (isBaselineSelection(name)) {
        // A baseline arm's selection, run to look at it: the runner already kept each
        // trajectory's active selection; the critical arm stays on its own, and the token view
        // shows the baseline by name.
        await dataset.replace(out);
        if (labelled) maskView.inspect(name);
        this.notice = `"${name}" is a baseline arm’s selection, not a choice of critical steps: it is shown by name in “Where the loss goes” below, and the critical arm still trains on "${current}". To train the critical arm on it anyway, choose "${name}" in “The critical arm trains on”.`;
      } else if (labelled === out.length) {
        // Every trajectory labelled: the new selection becomes the one the critical arm trains on.
        await dataset.replace(out.map((t) => ({ ...t, activeSelection: name })));
        trainCriticalOn(name);
        maskView.showCriticalArmSelection();
      } else {
        // Partly labelled: training on it would silently drop the rest from the critical arm,
        // so nothing switches; the dropdown offers it with its coverage.
        await dataset.replace(out);
        this.notice = labelled
          ? `"${name}" labelled ${labelled} of ${out.length} trajectories, so the critical arm still trains on "${current}". Choose "${name}" below to train on it anyway: the critical arm then learns from those ${labelled} trajectories only.`
          : `"${name}" labelled none of the ${out.length} trajectories; the critical arm still trains on "${current}".`;
      }
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
    this.cancelRequested = true;
    await (await this.api()).cancel();
  }
}

export const selection = new SelectionState();
