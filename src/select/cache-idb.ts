// Browser cache store: IndexedDB (through `idb`), one record per cached selection.
import { openDB, type IDBPDatabase } from 'idb';
import type { CacheStore, CachedSelection } from './cache.ts';

const STORE = 'selections';

export class IdbCacheStore implements CacheStore {
  private db?: Promise<IDBPDatabase>;
  constructor(readonly name = 'atlas-select-cache') {}

  private open() {
    this.db ??= openDB(this.name, 1, {
      upgrade(db) {
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'key' });
      },
    });
    return this.db;
  }

  async get(key: string) {
    return ((await this.open()).get(STORE, key)) as Promise<CachedSelection | undefined>;
  }

  async put(entry: CachedSelection) {
    await (await this.open()).put(STORE, entry);
  }

  async close() {
    if (this.db) (await this.db).close();
    this.db = undefined;
  }
}
