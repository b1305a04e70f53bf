// Streaming text input, pure (no fs, no DOM): bytes arrive as Uint8Array chunks from a Node
// file stream or a browser File.stream(); a streaming TextDecoder turns them into text
// without holding the whole file, with progress (bytes read / total) and cancel (AbortSignal).

export type ByteSource = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

export interface StreamOptions {
  signal?: AbortSignal;
  /** Total size in bytes, when known (for progress). */
  totalBytes?: number;
  /** Called after each chunk with the bytes read so far. */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  /** Lines longer than this many characters are not kept (reported as too long). Default 64 Mi chars. */
  maxLineChars?: number;
}

export const DEFAULT_MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Text files hold no NUL characters; binary files (images, archives, executables) nearly always do. */
export function looksBinary(text: string, within = 8192): boolean {
  return text.slice(0, within).includes('\u0000');
}

/** The reason given for a binary file, by `atlas import` and every command that reads data files. */
export const BINARY_FILE_REASON = 'the file looks binary (NUL bytes)';

export class ImportCancelled extends Error {
  constructor() {
    super('import cancelled');
    this.name = 'ImportCancelled';
  }
}

function checkAbort(signal: AbortSignal | undefined) {
  if (signal?.aborted) throw new ImportCancelled();
}

async function* iterateBytes(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    // Not every browser can `for await` a ReadableStream yet; the reader works everywhere.
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    yield* source as AsyncIterable<Uint8Array>;
  }
}

/** Decoded text chunks of a byte source (UTF-8; invalid bytes become U+FFFD; a leading BOM is dropped). */
export async function* decodeText(source: ByteSource, opts: StreamOptions = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
  let bytesRead = 0;
  checkAbort(opts.signal);
  for await (const chunk of iterateBytes(source)) {
    checkAbort(opts.signal);
    bytesRead += chunk.byteLength;
    const text = decoder.decode(chunk, { stream: true });
    opts.onProgress?.(bytesRead, opts.totalBytes);
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

export interface Line {
  /** The line without its terminator ('\n' or '\r\n'); '' for a line too long to keep. */
  text: string;
  /** 1-based line number. */
  line: number;
  /** Set when the line exceeded maxLineChars: its length in characters (the text is dropped). */
  tooLong?: number;
}

/** Splits a byte source into lines, holding at most one line (plus one chunk) in memory. */
export function splitLines(source: ByteSource, opts: StreamOptions = {}): AsyncGenerator<Line> {
  return splitTextLines(decodeText(source, opts), opts.maxLineChars);
}

/** Splits decoded text chunks into lines. */
export async function* splitTextLines(chunks: AsyncIterable<string>, maxLineChars = DEFAULT_MAX_LINE_CHARS): AsyncGenerator<Line> {
  const max = maxLineChars;
  let pending = '';
  let skipped = 0; // > 0 while discarding an over-long line
  let lineNo = 1;
  const finish = (text: string): Line => {
    const out: Line = skipped > 0 ? { text: '', line: lineNo, tooLong: skipped + text.length } : { text: text.endsWith('\r') ? text.slice(0, -1) : text, line: lineNo };
    skipped = 0;
    lineNo++;
    return out;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      const piece = pending + chunk.slice(start, nl);
      pending = '';
      if (skipped === 0 && piece.length > max) {
        skipped = piece.length;
        yield finish('');
      } else yield finish(piece);
      start = nl + 1;
    }
    const rest = chunk.slice(start);
    if (skipped > 0) skipped += rest.length;
    else if (pending.length + rest.length > max) {
      skipped = pending.length + rest.length;
      pending = '';
    } else pending += rest;
  }
  if (pending !== '' || skipped > 0) yield finish(pending);
}

/** A byte source over an in-memory string or bytes, in chunks (for tests and small inputs). */
export async function* bytesSource(data: string | Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, Math.min(bytes.length, i + chunkSize));
}
