// Browser persistence through `idb`: datasets (trajectories with their selections and the
// import report), experiment runs (config + every metric event) and small settings. The
// experiment runner keeps its checkpoints in its own database; the stored-data panel lists
// every database of this origin so the user can delete any of them.
import { openDB, deleteDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Trajectory } from '../../data/trajectory.ts';
import type { ImportSummary } from '../../data/importer.ts';
import type { ExperimentConfig, ExperimentEvent } from '../../experiment/protocol.ts';

export const DB_NAME = 'atlas-playground';
const DB_VERSION = 3;

/** Where a dataset came from (never holds secrets). */
export type DatasetOrigin =
  | { kind: 'builtin'; envs: string[]; trainEpisodes: number; heldOutEpisodes: number; seed: number; mistakeRate: number }
  | { kind: 'file'; name: string; size: number }
  | { kind: 'url'; url: string };

export interface StoredDataset {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  origin: DatasetOrigin;
  trajectories: Trajectory[];
  report?: ImportSummary;
}

/** How a dataset is laid out in IndexedDB: a small record plus its trajectories in chunks,
 *  so that saving (structured clone on the main thread) happens in short tasks and an edit
 *  rewrites one chunk, not the whole dataset. */
interface DatasetRecord extends Omit<StoredDataset, 'trajectories'> {
  count: number;
  chunks: number;
}
interface ChunkRecord {
  datasetId: string;
  index: number;
  trajectories: Trajectory[];
}
export const CHUNK_SIZE = 100;

export interface StoredRun {
  id: string;
  createdAt: string;
  updatedAt: string;
  config: ExperimentConfig;
  events: ExperimentEvent[];
  /** Last status the runner reported. */
  state: string;
  /** Checkpoint key the runner reported (resume from it after a reload or a lost device). */
  checkpoint?: string;
}

/** Model files the user picked (an HF folder, or a llama2.c .bin with tok512.bin), for ModelSource { kind: 'stored', key }. */
export interface StoredModel {
  key: string;
  label: string;
  createdAt: string;
  /** Path inside the picked folder (or the file name) and its bytes. */
  files: { path: string; blob: Blob }[];
}

/** Small settings: the current session, and the API key only when the user opted in. */
export type SettingKey = 'session' | 'oracle-key' | 'oracle-settings';

interface PlaygroundDb extends DBSchema {
  datasets: { key: string; value: DatasetRecord };
  chunks: { key: [string, number]; value: ChunkRecord };
  runs: { key: string; value: StoredRun };
  settings: { key: SettingKey; value: unknown };
  models: { key: string; value: StoredModel };
}

let dbPromise: Promise<IDBPDatabase<PlaygroundDb>> | undefined;

function db(): Promise<IDBPDatabase<PlaygroundDb>> {
  dbPromise ??= openDB<PlaygroundDb>(DB_NAME, DB_VERSION, {
    upgrade(d) {
      if (!d.objectStoreNames.contains('datasets')) d.createObjectStore('datasets', { keyPath: 'id' });
      if (!d.objectStoreNames.contains('chunks')) d.createObjectStore('chunks', { keyPath: ['datasetId', 'index'] });
      if (!d.objectStoreNames.contains('runs')) d.createObjectStore('runs', { keyPath: 'id' });
      if (!d.objectStoreNames.contains('settings')) d.createObjectStore('settings');
      if (!d.objectStoreNames.contains('models')) d.createObjectStore('models', { keyPath: 'key' });
    },
    blocking() {
      // Another tab wants to delete or upgrade the database: let it.
      void dbPromise?.then((x) => x.close());
      dbPromise = undefined;
    },
  });
  return dbPromise;
}

/** Svelte's $state proxies cannot be structured-cloned; store plain copies. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// Datasets and runs are built from $state.raw / $state.snapshot values, so they are plain
// already: storing them directly avoids a JSON round trip of megabytes on the main thread.
/** Saves a dataset; with `changed` (trajectory indices) only the chunks holding them are rewritten. */
export async function saveDataset(d: StoredDataset, changed?: Iterable<number>): Promise<void> {
  const x = await db();
  const { trajectories, ...meta } = d;
  const chunks = Math.ceil(trajectories.length / CHUNK_SIZE);
  const old = await x.get('datasets', d.id);
  const only = changed && old && old.count === trajectories.length ? new Set([...changed].map((i) => Math.floor(i / CHUNK_SIZE))) : undefined;
  for (let c = 0; c < chunks; c++) {
    if (only && !only.has(c)) continue;
    // One put per task: each structured clone stays short.
    await x.put('chunks', { datasetId: d.id, index: c, trajectories: trajectories.slice(c * CHUNK_SIZE, (c + 1) * CHUNK_SIZE) });
  }
  for (let c = chunks; old && c < old.chunks; c++) await x.delete('chunks', [d.id, c]);
  await x.put('datasets', { ...meta, count: trajectories.length, chunks });
}

export async function loadDataset(id: string): Promise<StoredDataset | undefined> {
  const x = await db();
  const meta = await x.get('datasets', id);
  if (!meta) return undefined;
  const trajectories: Trajectory[] = [];
  for (let c = 0; c < meta.chunks; c++) {
    const chunk = await x.get('chunks', [id, c]);
    if (!chunk) throw new Error(`stored dataset "${meta.name}" is missing part ${c + 1} of ${meta.chunks}; delete it in "Stored data" and import it again`);
    trajectories.push(...chunk.trajectories);
  }
  const { count: _count, chunks: _chunks, ...rest } = meta;
  return { ...rest, trajectories };
}

export async function deleteDataset(id: string): Promise<void> {
  const x = await db();
  const meta = await x.get('datasets', id);
  for (let c = 0; c < (meta?.chunks ?? 0); c++) await x.delete('chunks', [id, c]);
  await x.delete('datasets', id);
}

export async function saveRun(r: StoredRun): Promise<void> {
  await (await db()).put('runs', r);
}
export async function loadRun(id: string): Promise<StoredRun | undefined> {
  return (await db()).get('runs', id);
}
/** Every stored run without its events (newest first): the Export step offers each one's weights. */
export async function listRuns(): Promise<Omit<StoredRun, 'events'>[]> {
  const runs = await (await db()).getAll('runs');
  return runs.map(({ events: _e, ...r }) => r).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
export async function deleteRun(id: string): Promise<void> {
  await (await db()).delete('runs', id);
}

export async function saveModelFiles(m: StoredModel): Promise<void> {
  // Blobs are stored as they are (IndexedDB keeps them natively).
  await (await db()).put('models', m);
}
export async function loadModelFiles(key: string): Promise<StoredModel | undefined> {
  return (await db()).get('models', key);
}
export async function deleteModelFiles(key: string): Promise<void> {
  await (await db()).delete('models', key);
}

/** What a reload restores (settings key 'session'). */
export interface Session {
  datasetId?: string;
  runId?: string;
  /** The open step. */
  tab?: string;
  /** The hash the page itself last wrote: a reload with this hash is not a new link. */
  hash?: string;
}

/** Merges `patch` into the session in one transaction, so concurrent updates never drop a field. */
export async function updateSession(patch: Session): Promise<void> {
  const tx = (await db()).transaction('settings', 'readwrite');
  const current = ((await tx.store.get('session')) ?? {}) as Session;
  await tx.store.put(plain({ ...current, ...patch }), 'session');
  await tx.done;
}

export async function getSetting<T>(key: SettingKey): Promise<T | undefined> {
  return (await (await db()).get('settings', key)) as T | undefined;
}
export async function setSetting(key: SettingKey, value: unknown): Promise<void> {
  await (await db()).put('settings', plain(value), key);
}
export async function deleteSetting(key: SettingKey): Promise<void> {
  await (await db()).delete('settings', key);
}

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

/** Deletes another database of this origin (e.g. the selection cache or checkpoints). */
export async function deleteDatabase(name: string): Promise<void> {
  if (name === DB_NAME) {
    await dbPromise?.then((x) => x.close());
    dbPromise = undefined;
  }
  await deleteDB(name);
}
