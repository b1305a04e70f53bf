// Node: the lines of a file as bytes, with where each starts, read in chunks (one line plus one
// chunk in memory). `complete` is false for a last line with no newline after it — a line torn
// by a crash. The selection cache (cache-node.ts) and the resumable `atlas select` output
// (src/cli/select-resume.ts) find their lines with it.
import { createReadStream } from 'node:fs';

export interface FileLine {
  /** The line's bytes, without the newline. */
  bytes: Buffer;
  /** Byte offset of the line's start in the file. */
  offset: number;
  complete: boolean;
}

const NEWLINE = 0x0a;

/** The lines of `file`; a missing file throws ENOENT from the first read. */
export async function* fileLines(file: string): AsyncGenerator<FileLine> {
  let offset = 0;
  let parts: Buffer[] = [];
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE, from); nl >= 0; nl = chunk.indexOf(NEWLINE, from)) {
      const bytes = parts.length ? Buffer.concat([...parts, chunk.subarray(from, nl)]) : chunk.subarray(from, nl);
      parts = [];
      yield { bytes, offset, complete: true };
      offset += bytes.length + 1;
      from = nl + 1;
    }
    if (from < chunk.length) parts.push(chunk.subarray(from));
  }
  const tail = Buffer.concat(parts);
  if (tail.length > 0) yield { bytes: tail, offset, complete: false };
}
