// The playground's IndexedDB database (through `idb`): one schema for its stores — datasets
// (a record plus its trajectories in chunks), runs, picked model files and small settings —
// opened once per page or worker. The experiment runner's checkpoints and the selection cache
// keep databases of their own (src/experiment/checkpoint-idb.ts, src/select/cache-idb.ts).
// Pure: no DOM beyond IndexedDB, no UI state; the page and its workers share it.
import { openDB, deleteDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ChunkRecord, DatasetRecord } from './datasets.ts';
import type { StoredRun } from './runs.ts';
import type { StoredModel } from './models.ts';
import type { SettingKey } from './settings.ts';

export const DB_NAME = 'atlas-playground';
const DB_VERSION = 3;

export interface PlaygroundDb extends DBSchema {
  datasets: { key: string; value: DatasetRecord };
  chunks: { key: [string, number]; value: ChunkRecord };
  runs: { key: string; value: StoredRun };
  settings: { key: SettingKey; value: unknown };
  models: { key: string; value: StoredModel };
}

let dbPromise: Promise<IDBPDatabase<PlaygroundDb>> | undefined;

export function db(): Promise<IDBPDatabase<PlaygroundDb>> {
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
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Deletes a database of this origin (this one, the selection cache or checkpoints). */
export async function deleteDatabase(name: string): Promise<void> {
  if (name === DB_NAME) {
    await dbPromise?.then((x) => x.close());
    dbPromise = undefined;
  }
  await deleteDB(name);
}
