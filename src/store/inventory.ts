// What this origin stores, for the "Stored data" panel: every dataset, run and model of the
// playground's database, whether an API key is remembered, the other databases (selection
// cache, runner checkpoints) and the browser's usage estimate.
import { db, DB_NAME } from './db.ts';

export interface StoredSummary {
  datasets: { id: string; name: string; trajectories: number; updatedAt: string }[];
  runs: { id: string; name: string; arms: string[]; events: number; state: string; updatedAt: string }[];
  models: { key: string; label: string; files: number; bytes: number }[];
  keyRemembered: boolean;
  /** Other IndexedDB databases of this origin (selection cache, runner checkpoints, …). */
  otherDatabases: string[];
  /** navigator.storage.estimate(), when the browser gives it. */
  usage?: { usage: number; quota: number };
}

export async function storedSummary(): Promise<StoredSummary> {
  const d = await db();
  const datasets = (await d.getAll('datasets')).map((x) => ({ id: x.id, name: x.name, trajectories: x.count, updatedAt: x.updatedAt }));
  const runs = (await d.getAll('runs')).map((r) => ({
    id: r.id,
    name: r.config.name,
    arms: r.config.arms,
    events: r.events.length,
    state: r.state,
    updatedAt: r.updatedAt,
  }));
  const models = (await d.getAll('models')).map((m) => ({ key: m.key, label: m.label, files: m.files.length, bytes: m.files.reduce((n, f) => n + f.blob.size, 0) }));
  const keyRemembered = (await d.get('settings', 'oracle-key')) !== undefined;
  let otherDatabases: string[] = [];
  if (typeof indexedDB.databases === 'function') {
    otherDatabases = (await indexedDB.databases()).map((x) => x.name ?? '').filter((n) => n && n !== DB_NAME);
  }
  let usage: StoredSummary['usage'];
  if (navigator.storage?.estimate) {
    const e = await navigator.storage.estimate();
    if (e.usage !== undefined && e.quota !== undefined) usage = { usage: e.usage, quota: e.quota };
  }
  return { datasets, runs, models, keyRemembered, otherDatabases, usage };
}
