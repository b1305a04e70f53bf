// Node cache store: one JSON line per cached selection in <dir>/selections.jsonl. Appending
// a line per answer means a crash loses at most the line being written; a torn last line is
// skipped on load and counted in `skippedLines`.
import { mkdir, readFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { CacheStore, CachedSelection } from './cache.ts';

export const DEFAULT_CACHE_DIR = '.atlas-cache';

export class FileCacheStore implements CacheStore {
  readonly file: string;
  skippedLines = 0;
  private entries?: Map<string, CachedSelection>;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly dir: string = DEFAULT_CACHE_DIR) {
    this.file = path.join(dir, 'selections.jsonl');
  }

  private async load(): Promise<Map<string, CachedSelection>> {
    if (this.entries) return this.entries;
    const entries = new Map<string, CachedSelection>();
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read selection cache ${this.file}: ${(err as Error).message}`);
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as CachedSelection;
        if (typeof entry.key === 'string' && Array.isArray(entry.critical)) entries.set(entry.key, entry);
        else this.skippedLines++;
      } catch {
        this.skippedLines++;
      }
    }
    this.entries = entries;
    return entries;
  }

  async get(key: string) {
    return (await this.load()).get(key);
  }

  async put(entry: CachedSelection) {
    const entries = await this.load();
    entries.set(entry.key, entry);
    // Serialise appends so concurrent puts never interleave within a line.
    this.writes = this.writes.then(async () => {
      await mkdir(this.dir, { recursive: true });
      await appendFile(this.file, JSON.stringify(entry) + '\n', 'utf8');
    });
    return this.writes;
  }

  async close() {
    await this.writes;
  }
}
