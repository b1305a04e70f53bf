// Thin comlink shell around the streaming importer (src/data/importer.ts): a dropped file,
// a picked file or a URL is read chunk by chunk here, off the main thread, with progress and
// cancel. All parsing and every rejection reason come from src/data.
import * as Comlink from 'comlink';
import { importTrajectories, type ImportResult } from '../src/data/importer.ts';
import { blobSource } from '../src/data/sources/browser.ts';
import type { ImportFormat } from '../src/data/formats.ts';

export type ImportProgress = (bytesRead: number, totalBytes: number | undefined) => void;

export interface ImportRequestOptions {
  format?: ImportFormat;
}

let current: AbortController | undefined;

const api = {
  async importFile(file: Blob, name: string, onProgress?: ImportProgress, opts: ImportRequestOptions = {}): Promise<ImportResult> {
    current?.abort();
    const abort = (current = new AbortController());
    const { source, totalBytes } = blobSource(file);
    return importTrajectories(source, { file: name, format: opts.format, signal: abort.signal, totalBytes, onProgress });
  },

  async importUrl(url: string, onProgress?: ImportProgress, opts: ImportRequestOptions = {}): Promise<ImportResult> {
    current?.abort();
    const abort = (current = new AbortController());
    const response = await fetch(url, { signal: abort.signal });
    if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status} ${response.statusText}`);
    if (!response.body) throw new Error(`could not fetch ${url}: the response has no body`);
    const length = Number(response.headers.get('content-length'));
    const name = decodeURIComponent(new URL(url, self.location.href).pathname.split('/').pop() || url);
    return importTrajectories(response.body, {
      file: name,
      format: opts.format,
      signal: abort.signal,
      totalBytes: Number.isFinite(length) && length > 0 ? length : undefined,
      onProgress,
    });
  },

  cancel(): void {
    current?.abort();
  },
};

export type ImportWorkerApi = typeof api;
Comlink.expose(api);
