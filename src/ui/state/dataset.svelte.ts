// The dataset the playground works on: built-in demonstrations or an imported file/URL, its
// import report, the trajectory being looked at, and manual edits of selections. Saved to
// IndexedDB after every change so a reload restores it.
import type { Trajectory, CriticalCategory, Selection } from '../../data/trajectory.ts';
import { activeSelection } from '../../data/trajectory.ts';
import type { ImportSummary } from '../../data/importer.ts';
import type { ImportWorkerApi, ImportDone } from '../../experiment/import-protocol.ts';
import { relabelledLikeTheRunner, type BuiltinSource } from '../../experiment/builtin-demos.ts';
import { DEFAULT_BUDGET } from '../../data/arms.ts';
import { saveDataset, loadDataset, type DatasetOrigin, type StoredDataset } from '../../store/datasets.ts';
import { spawnWorker, Comlink, type WorkerHandle } from './workers.ts';
import { rejectedCount } from '../import-report.ts';

export const MANUAL_SELECTOR = 'manual';

/** Trajectories per message when taking an import from the worker (keeps each task short). */
const SLICE = 50;

/** Lets the browser paint and handle input between slices of work. */
export const yieldToBrowser = () => new Promise<void>((r) => setTimeout(r, 0));

export function builtinDatasetId(src: BuiltinSource): string {
  return `builtin:${src.envs.join('+')}:${src.trainEpisodes}/${src.heldOutEpisodes}:s${src.seed}:m${src.mistakeRate}`;
}

class DatasetState {
  id = $state('');
  name = $state('');
  origin = $state.raw<DatasetOrigin | null>(null);
  trajectories = $state.raw<Trajectory[]>([]);
  report = $state.raw<ImportSummary | null>(null);
  /** The report of the last import when it kept nothing (the dataset above stayed as it was). */
  failedImport = $state.raw<ImportSummary | null>(null);
  createdAt = '';
  /** Id of the trajectory open in the detail view. */
  currentId = $state<string | null>(null);
  importing = $state(false);
  /** Import runs whose record says they failed (search traces, step records) instead of leaving them out. */
  keepFailedRuns = $state(false);
  /** The last file or URL imported in this page (not stored): it can be imported again with other options. */
  lastSource = $state.raw<{ kind: 'file'; file: File; name: string } | { kind: 'url'; url: string; name: string } | null>(null);
  /** The open dataset is the last file or URL imported in this page, so it can be imported again. */
  canImportAgain = $derived(this.lastSource !== null && this.lastSource.name === this.name && this.origin?.kind !== 'builtin');
  /** Bytes read / total during an import. */
  progress = $state<{ read: number; total?: number } | null>(null);
  error = $state('');
  private importer?: WorkerHandle<ImportWorkerApi>;

  current = $derived(this.trajectories.find((t) => t.id === this.currentId) ?? this.trajectories[0]);
  stepCount = $derived(this.trajectories.reduce((n, t) => n + t.steps.length, 0));
  hasGroundTruth = $derived(this.trajectories.some((t) => t.groundTruth?.length));

  private set(d: StoredDataset) {
    this.id = d.id;
    this.name = d.name;
    this.origin = d.origin;
    this.trajectories = d.trajectories;
    this.report = d.report ?? null;
    this.createdAt = d.createdAt;
    if (!this.trajectories.some((t) => t.id === this.currentId)) this.currentId = this.trajectories[0]?.id ?? null;
  }

  private snapshot(): StoredDataset {
    const now = new Date().toISOString();
    return { id: this.id, name: this.name, createdAt: this.createdAt || now, updatedAt: now, origin: this.origin!, trajectories: this.trajectories, report: this.report ?? undefined };
  }

  /** Saves to IndexedDB; `changed` (indices) limits the write to the chunks holding them. */
  async save(changed?: number[]): Promise<void> {
    if (this.id) await saveDataset(this.snapshot(), changed);
  }

  /** Restores a stored dataset; false when it is gone. */
  async restore(id: string): Promise<boolean> {
    const d = await loadDataset(id);
    if (!d) return false;
    this.set(d);
    return true;
  }

  /** Built-in demonstrations labelled as the runner labels them (heuristic, plus `selector`
   *  when it is ground truth), so every step shows what the critical arm trains on. */
  async loadBuiltin(source: BuiltinSource, budget: number = DEFAULT_BUDGET, selector = 'heuristic'): Promise<void> {
    // The source may be a $state proxy (the experiment config): store a plain copy.
    const src = JSON.parse(JSON.stringify(source)) as BuiltinSource;
    const id = builtinDatasetId(src);
    // Keep selections made earlier on the same demonstrations.
    if (this.id !== id && (await this.restore(id))) {
      // Stored before built-in data carried the runner's heuristic selection: add it now.
      if (!this.trajectories.some((t) => t.selections.some((x) => x.selector === 'heuristic'))) {
        await this.replace(relabelledLikeTheRunner(this.trajectories, budget));
      }
      return;
    }
    const now = new Date().toISOString();
    const { kind: _k, ...params } = src;
    // Generated in the data worker (hundreds of episodes would block the page) and taken in slices.
    const api = await this.worker();
    const count = await api.builtin(src, budget, selector);
    const trajectories: Trajectory[] = [];
    for (let i = 0; i < count; i += SLICE) {
      trajectories.push(...(await api.take(i, SLICE)));
      await yieldToBrowser();
    }
    void api.release();
    this.set({
      id,
      name: `Built-in: ${src.envs.join(', ')}`,
      createdAt: now,
      updatedAt: now,
      origin: { kind: 'builtin', ...params },
      trajectories,
    });
    this.error = '';
    this.failedImport = null;
    await this.save();
  }

  private async runImport(origin: DatasetOrigin, name: string, go: (api: Comlink.Remote<ImportWorkerApi>, onProgress: (r: number, t?: number) => void) => Promise<ImportDone>) {
    this.importing = true;
    this.error = '';
    this.failedImport = null;
    this.progress = { read: 0 };
    try {
      const api = await this.worker();
      const done = await go(api, Comlink.proxy((read: number, total?: number) => (this.progress = { read, total })));
      const trajectories: Trajectory[] = [];
      for (let i = 0; i < done.count; i += SLICE) {
        trajectories.push(...(await api.take(i, SLICE)));
        this.progress = { read: trajectories.length, total: done.count };
        await yieldToBrowser();
      }
      void api.release();
      if (trajectories.length === 0) {
        // Nothing usable: keep the current dataset and show why, as an error.
        this.failedImport = done.summary;
        this.error = `${name}: no trajectory could be imported (0 kept, ${rejectedCount(done.summary)} rejected${done.summary.failedRuns?.leftOut ? `, ${done.summary.failedRuns.leftOut} failed runs left out` : ''}), so ${this.name ? `“${this.name}” stays loaded` : 'nothing was loaded'}. See the report below for the reasons.`;
        return;
      }
      const now = new Date().toISOString();
      this.set({ id: `import:${name}:${now}`, name, createdAt: now, updatedAt: now, origin, trajectories, report: done.summary });
      await this.save();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.error = message.includes(name) ? message : `${name}: ${message}`;
    } finally {
      this.importing = false;
      this.progress = null;
    }
  }

  /** The data worker (import, token views), started on first use. */
  async worker(): Promise<Comlink.Remote<ImportWorkerApi>> {
    this.importer ??= await spawnWorker<ImportWorkerApi>('import', (m) => (this.error = m));
    return this.importer.api;
  }

  private importOptions() {
    return { failedRuns: this.keepFailedRuns ? ('keep' as const) : ('leave-out' as const) };
  }

  importFile(file: File): Promise<void> {
    this.lastSource = { kind: 'file', file, name: file.name };
    const opts = this.importOptions();
    return this.runImport({ kind: 'file', name: file.name, size: file.size }, file.name, (api, p) => api.importFile(file, file.name, p, opts));
  }

  importUrl(url: string): Promise<void> {
    const name = url.split(/[?#]/)[0].split('/').pop() || url;
    this.lastSource = { kind: 'url', url, name };
    const opts = this.importOptions();
    return this.runImport({ kind: 'url', url }, name, (api, p) => api.importUrl(url, p, opts));
  }

  setKeepFailedRuns(on: boolean): void {
    this.keepFailedRuns = on;
  }

  /** Imports the last file or URL again, keeping its failed runs (false when this page no longer holds it). */
  async importAgainKeepingFailedRuns(): Promise<boolean> {
    const src = this.lastSource;
    if (!src || !this.canImportAgain) return false;
    this.keepFailedRuns = true;
    await (src.kind === 'file' ? this.importFile(src.file) : this.importUrl(src.url));
    return true;
  }

  cancelImport(): void {
    void this.importer?.api.cancel();
  }

  /** Replaces trajectories (e.g. after a selection run) and saves. */
  async replace(trajectories: Trajectory[]): Promise<void> {
    this.trajectories = trajectories;
    await this.save();
  }

  /** Built-in data after a budget change: recomputes the selections the runner rebuilds
   *  (heuristic; ground truth when it was made) for the new budget, so the page keeps showing
   *  what the critical arm trains on. Each trajectory keeps its active selection. */
  async relabelForBudget(budget: number): Promise<void> {
    if (this.origin?.kind !== 'builtin' || !(budget > 0 && budget <= 1)) return;
    const groundTruth = this.trajectories.some((t) => t.selections.some((x) => x.selector === 'ground-truth'));
    await this.replace(relabelledLikeTheRunner(this.trajectories, budget, groundTruth ? 'ground-truth' : 'heuristic'));
  }

  /** Sets which selection the critical arm trains on, for every trajectory that has it. */
  async activate(selector: string): Promise<void> {
    this.trajectories = this.trajectories.map((t) => (t.selections.some((s) => s.selector === selector) ? { ...t, activeSelection: selector } : t));
    await this.save();
  }

  /** Manual override: a "manual" selection that starts as a copy of the active one. The first
   *  edit copies every trajectory's active selection into "manual" (so "manual" means "the
   *  active selection plus your edits" across the whole dataset, and training on it keeps every
   *  trajectory's labels, not just the edited one's). */
  private async editManual(id: string, edit: (sel: Selection) => Selection): Promise<void> {
    const index = this.trajectories.findIndex((t) => t.id === id);
    const firstEdit = !this.trajectories.some((t) => t.activeSelection === MANUAL_SELECTOR);
    if (firstEdit) {
      const now = new Date().toISOString();
      this.trajectories = this.trajectories.map((t) => {
        const base = activeSelection(t);
        if (!base || base.selector === MANUAL_SELECTOR) return t;
        const copy: Selection = { ...base, selector: MANUAL_SELECTOR, createdAt: now, critical: base.critical.map((c) => ({ ...c })), repairs: [`started from "${base.selector}"`] };
        return { ...t, selections: [...t.selections.filter((s) => s.selector !== MANUAL_SELECTOR), copy], activeSelection: MANUAL_SELECTOR };
      });
    }
    this.trajectories = this.trajectories.map((t) => {
      if (t.id !== id) return t;
      const base = activeSelection(t);
      const existing = t.selections.find((s) => s.selector === MANUAL_SELECTOR && s.status === 'labelled');
      const start: Selection = existing ?? {
        selector: MANUAL_SELECTOR,
        createdAt: new Date().toISOString(),
        status: 'labelled',
        critical: base ? base.critical.map((c) => ({ ...c })) : [],
        ...(base?.budget !== undefined ? { budget: base.budget } : {}),
        repairs: base ? [`started from "${base.selector}"`] : [],
      };
      const next = edit({ ...start, critical: start.critical.map((c) => ({ ...c })), createdAt: new Date().toISOString() });
      return { ...t, selections: [...t.selections.filter((s) => s !== existing), next], activeSelection: MANUAL_SELECTOR };
    });
    await this.save(firstEdit ? undefined : [index]);
  }

  toggleCritical(id: string, step: number): Promise<void> {
    return this.editManual(id, (sel) => {
      const has = sel.critical.some((c) => c.step === step);
      return { ...sel, critical: has ? sel.critical.filter((c) => c.step !== step) : [...sel.critical, { step, reason: 'marked by hand' }] };
    });
  }

  setCategory(id: string, step: number, category: CriticalCategory | undefined): Promise<void> {
    return this.editManual(id, (sel) => {
      const has = sel.critical.some((c) => c.step === step);
      const critical = has ? sel.critical.map((c) => (c.step === step ? { ...c, category } : c)) : [...sel.critical, { step, category, reason: 'marked by hand' }];
      return { ...sel, critical };
    });
  }
}

export const dataset = new DatasetState();
