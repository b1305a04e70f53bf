// The CLI's hub cache on disk (Node only): one folder per model and revision,
// `<cache>/<ORG>/<NAME>/<REV>/`, holding the model's files as the hub names them (so the
// folder is an ordinary Hugging Face folder every command reads), `<file>.part` while a file
// downloads, and the file list (.atlas-hub.json). The cache is ATLAS_HUB_CACHE, else
// ~/.cache/atlas/hub.
import { mkdirSync } from 'node:fs';
import { open, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HubFolder, PartWriter } from './download.ts';
import type { HubRef } from './hub-id.ts';

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATLAS_HUB_CACHE || path.join(os.homedir(), '.cache', 'atlas', 'hub');
}

/** The folder of one model and revision (names were checked by parseHubRef: no "..", no "/"). */
export function hubModelDir(cache: string, ref: HubRef): string {
  const [org, name] = ref.id.split('/');
  return path.join(cache, org, name, encodeURIComponent(ref.revision));
}

const sizeOf = (p: string) => stat(p).then((s) => (s.isFile() ? s.size : undefined), () => undefined);

export function nodeHubFolder(dir: string): HubFolder {
  const at = (name: string) => {
    const p = path.resolve(dir, name);
    if (!p.startsWith(path.resolve(dir) + path.sep)) throw new Error(`${name}: not a file inside ${dir}`);
    return p;
  };
  const ensure = () => mkdirSync(dir, { recursive: true });
  return {
    label: dir,
    fileSize: (name) => sizeOf(at(name)),
    async partSize(name) {
      return (await sizeOf(at(name) + '.part')) ?? 0;
    },
    async openPart(name, offset): Promise<PartWriter> {
      ensure();
      const part = at(name) + '.part';
      const fh = await open(part, offset > 0 ? 'r+' : 'w');
      if (offset > 0) await truncate(part, offset);
      let position = offset;
      return {
        async write(chunk) {
          await fh.write(chunk, 0, chunk.byteLength, position);
          position += chunk.byteLength;
        },
        close: () => fh.close(),
      };
    },
    finish: (name) => rename(at(name) + '.part', at(name)),
    readText: (name) => readFile(at(name), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))),
    async writeText(name, text) {
      ensure();
      await writeFile(at(name), text);
    },
  };
}
