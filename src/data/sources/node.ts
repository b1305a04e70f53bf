// Node adapter: a file on disk as a byte source (fs read stream, 1 MiB chunks) with its size.
import { createReadStream, statSync } from 'node:fs';
import type { ByteSource } from '../lines.ts';

export function nodeFileSource(path: string): { source: ByteSource; totalBytes: number } {
  const totalBytes = statSync(path).size;
  return { source: createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, totalBytes };
}
