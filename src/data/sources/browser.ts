// Browser adapter (main thread or worker): a File/Blob as a byte source via Blob.stream(),
// read chunk by chunk; the file is never loaded whole.
import type { ByteSource } from '../lines.ts';

export function blobSource(file: Blob): { source: ByteSource; totalBytes: number } {
  return { source: file.stream() as ReadableStream<Uint8Array>, totalBytes: file.size };
}
