// One file from a hub mirror into a model's cache folder, resumable: bytes land in
// `<name>.part` as they arrive, and a later attempt (after a dropped connection, a killed
// process or a reloaded page) asks only for the rest with an HTTP Range request. The part
// becomes the file once every byte is in. Storage is behind HubFolder, so Node (the file
// system) and the page (OPFS) share this code.
import { describeFetchError, HubHttpError, statusText } from './repo-files.ts';

/** Appends bytes to a partial file. */
export interface PartWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** One model's folder in a cache (a directory on disk, or one in the browser's OPFS). */
export interface HubFolder {
  /** Where it is, for messages. */
  readonly label: string;
  /** Bytes of the finished file `name`; undefined when it is not there. */
  fileSize(name: string): Promise<number | undefined>;
  /** Bytes already in `name`.part (0 when there is none). */
  partSize(name: string): Promise<number>;
  /** Opens `name`.part for writing at `offset`, dropping anything after it. */
  openPart(name: string, offset: number): Promise<PartWriter>;
  /** `name`.part becomes `name`. */
  finish(name: string): Promise<void>;
  readText(name: string): Promise<string | undefined>;
  writeText(name: string, text: string): Promise<void>;
}

export interface FileProgress {
  file: string;
  /** Bytes of this file on disk so far (resumed bytes included). */
  done: number;
  total: number;
}

export interface DownloadFileOptions {
  fetch: typeof fetch;
  url: string;
  name: string;
  /** The size the file list gives (the download is checked against it). */
  size: number;
  folder: HubFolder;
  onProgress?: (p: FileProgress) => void;
  signal?: AbortSignal;
  /** Further attempts after a dropped connection or a server error, each resuming (default 2). */
  retries?: number;
  /** Wait before attempt k (1-based), ms (default 500·k). */
  retryDelayMs?: (attempt: number) => number;
}

/** Downloads `url` into `folder` as `name`, resuming a part left by an earlier attempt. */
export async function downloadFile(o: DownloadFileOptions): Promise<void> {
  const retries = o.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    try {
      await attemptDownload(o);
      return;
    } catch (err) {
      const again = attempt < retries && retryable(err) && !o.signal?.aborted;
      if (!again) {
        if (err instanceof HubHttpError || o.signal?.aborted) throw err;
        const kept = await o.folder.partSize(o.name);
        throw new Error(`${o.name}: download from ${o.url} stopped${kept ? ` after ${kept} of ${o.size} bytes (kept in ${o.folder.label}; running it again resumes there)` : ''}: ${describeFetchError(err)}`);
      }
      await new Promise((ok) => setTimeout(ok, o.retryDelayMs ? o.retryDelayMs(attempt + 1) : 500 * (attempt + 1)));
    }
  }
}

/** Network failures and 5xx answers are tried again; a 4xx is the answer. */
function retryable(err: unknown): boolean {
  return !(err instanceof HubHttpError) || err.status >= 500 || err.status === 429;
}

async function attemptDownload(o: DownloadFileOptions): Promise<void> {
  const { folder, name, size } = o;
  let have = await folder.partSize(name);
  if (have > size) have = 0; // not this file's bytes: start again
  if (have === size) return folder.finish(name);
  const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  const fetchFn = o.fetch; // a plain call: a browser's fetch refuses to run as o's method
  const res = await fetchFn(o.url, { headers, signal: o.signal });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new HubHttpError(`${name}: ${statusText(res.status)} (GET ${o.url} → HTTP ${res.status})`, res.status, o.url);
  }
  let offset = 0;
  if (res.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await res.body?.cancel().catch(() => undefined);
      await (await folder.openPart(name, 0)).close();
      throw new Error(`asked for bytes ${have}- and got ${res.headers.get('content-range') ?? 'no Content-Range'}: starting the file again`);
    }
    offset = have;
  }
  // A 200 to a Range request: the server sends the whole file, so it is written from byte 0.
  const writer = await folder.openPart(name, offset);
  let done = offset;
  o.onProgress?.({ file: name, done, total: size });
  try {
    if (!res.body) throw new Error('the response has no body');
    const reader = res.body.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      if (done + value.byteLength > size) throw new Error(`more bytes than the ${size} the file list gives`);
      await writer.write(value);
      done += value.byteLength;
      o.onProgress?.({ file: name, done, total: size });
    }
  } finally {
    await writer.close();
  }
  if (done !== size) throw new Error(`the connection ended after ${done} of ${size} bytes`);
  await folder.finish(name);
}
