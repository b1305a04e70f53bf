// Node cache store: one JSON line per cached selection in <dir>/selections.jsonl. Appending
// a line per answer means a crash loses at most the line being written; a torn last line is
// skipped on load and counted in `skippedLines` (and the next answer starts on a line of its own).
// The answers stay on disk: memory holds only where each line starts, under a small number
// made from its key (a few tens of bytes an answer), and get() reads the line back and checks
// its key — so a cache of a whole dataset's answers does not fill the memory.
import { appendFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CacheStore, CachedSelection } from './cache.ts';
import { fileLines } from './file-lines.ts';

export const DEFAULT_CACHE_DIR = '.atlas-cache';

/** 28-bit FNV-1a hash of a key: a small integer, which V8 keeps without allocating. */
export function slotOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x0fffffff;
}

const NEWLINE = 0x0a;

export class FileCacheStore implements CacheStore {
  readonly file: string;
  skippedLines = 0;
  /** Byte offsets of the lines whose key hashes to the slot, oldest first (one number when only one). */
  private index?: Map<number, number | number[]>;
  private loading?: Promise<void>;
  /** Answers whose line is still being appended: served from here until it is on disk. */
  private readonly pending = new Map<string, CachedSelection>();
  /** Bytes in the file: where the next line starts. */
  private size = 0;
  /** The file ends in a torn line: the next append starts with a newline. */
  private torn = false;
  /** Opened once for every get (a promise, so concurrent gets share one handle). */
  private reader?: Promise<FileHandle>;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly dir: string = DEFAULT_CACHE_DIR) {
    this.file = path.join(dir, 'selections.jsonl');
  }

  /** Number of answers indexed (the latest per key counts once per line written). */
  get indexedLines(): number {
    let n = 0;
    for (const v of this.index?.values() ?? []) n += typeof v === 'number' ? 1 : v.length;
    return n;
  }

  private addToIndex(key: string, offset: number): void {
    const index = this.index!;
    const slot = slotOf(key);
    const had = index.get(slot);
    if (had === undefined) index.set(slot, offset);
    else if (typeof had === 'number') index.set(slot, [had, offset]);
    else had.push(offset);
  }

  private load(): Promise<void> {
    this.loading ??= this.scan();
    return this.loading;
  }

  /** Reads the file once, line by line, keeping only each line's key slot and offset. */
  private async scan(): Promise<void> {
    this.index = new Map();
    try {
      for await (const { bytes, offset, complete } of fileLines(this.file)) {
        this.size = offset + bytes.length + (complete ? 1 : 0);
        // No newline after the last line: torn by a crash (a complete JSON object still counts).
        if (!complete) this.torn = true;
        const text = bytes.toString('utf8');
        if (text.trim() === '') continue;
        try {
          const entry = JSON.parse(text) as CachedSelection;
          if (typeof entry.key === 'string' && Array.isArray(entry.critical)) this.addToIndex(entry.key, offset);
          else this.skippedLines++;
        } catch {
          this.skippedLines++;
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read selection cache ${this.file}: ${(err as Error).message}`);
    }
  }

  /** The line that starts at `offset` (without its newline). */
  private async lineAt(offset: number): Promise<string> {
    this.reader ??= open(this.file, 'r').catch((err: unknown) => {
      this.reader = undefined;
      throw err;
    });
    const reader = await this.reader;
    let buf = Buffer.alloc(4096);
    let have = 0;
    for (;;) {
      const { bytesRead } = await reader.read(buf, have, buf.length - have, offset + have);
      const nl = buf.subarray(have, have + bytesRead).indexOf(NEWLINE);
      if (nl >= 0) return buf.toString('utf8', 0, have + nl);
      have += bytesRead;
      if (bytesRead === 0) return buf.toString('utf8', 0, have);
      if (have === buf.length) buf = Buffer.concat([buf, Buffer.alloc(buf.length)]);
    }
  }

  async get(key: string): Promise<CachedSelection | undefined> {
    await this.load();
    const waiting = this.pending.get(key);
    if (waiting) return waiting;
    const at = this.index!.get(slotOf(key));
    if (at === undefined) return undefined;
    const offsets = typeof at === 'number' ? [at] : at;
    for (let i = offsets.length - 1; i >= 0; i--) {
      try {
        const entry = JSON.parse(await this.lineAt(offsets[i])) as CachedSelection;
        if (entry.key === key) return entry;
      } catch {
        // Another key's slot, or a line changed under us: not this key.
      }
    }
    return undefined;
  }

  async put(entry: CachedSelection): Promise<void> {
    await this.load();
    this.pending.set(entry.key, entry);
    // Serialise appends so concurrent puts never interleave within a line; one failed append
    // fails its own put, not the ones after it.
    const write = this.writes.then(async () => {
      const text = (this.torn ? '\n' : '') + JSON.stringify(entry) + '\n';
      await mkdir(this.dir, { recursive: true });
      await appendFile(this.file, text, 'utf8');
      const start = this.size + (this.torn ? 1 : 0);
      this.size += Buffer.byteLength(text);
      this.torn = false;
      this.addToIndex(entry.key, start);
    }).finally(() => {
      if (this.pending.get(entry.key) === entry) this.pending.delete(entry.key);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.writes;
    const reader = this.reader;
    this.reader = undefined;
    await (await reader?.catch(() => undefined))?.close();
  }
}
