// Experiment checkpoints in the browser: one IndexedDB record per experiment key (the last
// checkpoint wins), in a database of their own so the UI can list and delete it.
import { openDB, type DBSchema } from 'idb';
import type { Checkpoint, CheckpointStore } from './checkpoint.ts';

export const CHECKPOINT_DB = 'atlas-checkpoints';

interface CheckpointDb extends DBSchema {
  checkpoints: { key: string; value: Checkpoint };
}

export function idbCheckpointStore(): CheckpointStore {
  const db = openDB<CheckpointDb>(CHECKPOINT_DB, 1, {
    upgrade(d) {
      d.createObjectStore('checkpoints', { keyPath: 'key' });
    },
  });
  return {
    async save(cp) {
      await (await db).put('checkpoints', cp);
    },
    async load(key) {
      return (await db).get('checkpoints', key);
    },
  };
}
