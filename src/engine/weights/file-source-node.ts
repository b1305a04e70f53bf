// FileSource / FileSink over a directory on disk (Node only; browser code must not import this).
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileSink, FileSource } from './file-source.ts';

export function dirSource(dir: string): FileSource {
  return {
    label: dir,
    async read(name) {
      const buf = await readFile(path.join(dir, name));
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
    async exists(name) {
      try {
        return (await stat(path.join(dir, name))).isFile();
      } catch {
        return false;
      }
    },
  };
}

export function dirSink(dir: string): FileSink {
  return {
    label: dir,
    async write(name, data) {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, name), data);
    },
  };
}
