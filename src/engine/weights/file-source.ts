// Where weight files come from, behind a tiny interface so the same loaders run in Node
// (file-source-node.ts, fs) and in a browser (this module: fetch of a URL folder, or File
// objects from a folder picker). This module must stay free of Node imports.

export interface FileSource {
  /** Human-readable location, used in error messages. */
  readonly label: string;
  read(name: string): Promise<ArrayBuffer>;
  exists(name: string): Promise<boolean>;
}

export interface FileSink {
  readonly label: string;
  write(name: string, data: Uint8Array | string): Promise<void>;
}

/** Files under a base URL (e.g. `/models/stories260K/`), read with fetch. */
export function urlSource(baseUrl: string, fetchImpl: typeof fetch = fetch): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    label: base,
    async read(name) {
      const res = await fetchImpl(base + name);
      if (!res.ok) throw new Error(`${base}${name}: HTTP ${res.status} ${res.statusText}`);
      return res.arrayBuffer();
    },
    async exists(name) {
      try {
        const res = await fetchImpl(base + name, { method: 'HEAD' });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}

/** Files at separate URLs, by name (a bundler's hashed asset URLs of one folder). */
export function urlMapSource(urls: ReadonlyMap<string, string>, label: string, fetchImpl: typeof fetch = fetch): FileSource {
  return {
    label,
    async read(name) {
      const url = urls.get(name);
      if (!url) throw new Error(`${label}: no file named ${name}`);
      const res = await fetchImpl(url);
      if (!res.ok) throw new Error(`${label}/${name}: HTTP ${res.status} ${res.statusText}`);
      return res.arrayBuffer();
    },
    async exists(name) {
      return urls.has(name);
    },
  };
}

/** Files chosen with `<input type="file" webkitdirectory>` or drag-and-drop. Names are
 *  matched on the file's base name, so the folder's own name does not matter. */
export function fileListSource(files: Iterable<File>, label = 'selected folder'): FileSource {
  const byName = new Map<string, File>();
  for (const f of files) {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    byName.set(rel.split('/').pop()!, f);
  }
  return {
    label,
    async read(name) {
      const f = byName.get(name);
      if (!f) throw new Error(`${label}: no file named ${name}`);
      return f.arrayBuffer();
    },
    async exists(name) {
      return byName.has(name);
    },
  };
}

/** An in-memory folder: a FileSource and FileSink at once (tests, downloads as zip, IndexedDB). */
export function memoryFolder(label = 'memory'): FileSource & FileSink & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    label,
    files,
    async read(name) {
      const f = files.get(name);
      if (!f) throw new Error(`${label}: no file named ${name}`);
      return f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength) as ArrayBuffer;
    },
    async exists(name) {
      return files.has(name);
    },
    async write(name, data) {
      files.set(name, typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
    },
  };
}
