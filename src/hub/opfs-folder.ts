// The page's hub cache: the browser's origin-private file system (OPFS), one folder per model
// and revision under `atlas-hub/` (named `encodeURIComponent("ORG/NAME@REV")`), holding the
// files as the hub names them, `<file>.part` while one downloads and the file list
// (.atlas-hub.json) — the same layout as the CLI's cache on disk. Writing (opfsHubFolder)
// needs a dedicated worker: parts are written through sync access handles, in place, so what
// arrived survives a reload and the download resumes from it. Listing, reading and deleting
// (the rest) work on the main thread too.
import type { HubFolder, PartWriter } from './download.ts';
import { LISTING_FILE, type HubListing } from './fetch-model.ts';
import { hubRefText, hubStoreKey, parseHubRef, type HubRef } from './hub-id.ts';
import { chooseModelFiles, INDEX, weightsFromIndex, type RepoFile } from './repo-files.ts';

const ROOT = 'atlas-hub';

type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterableIterator<[string, FileSystemHandle]> };
type MovableFile = FileSystemFileHandle & { move?(name: string): Promise<void> };

async function hubRoot(create: boolean): Promise<Dir | undefined> {
  if (!navigator.storage?.getDirectory) throw new Error('this browser has no origin-private file system (navigator.storage.getDirectory), where downloaded models are kept');
  const root = await navigator.storage.getDirectory();
  try {
    return (await root.getDirectoryHandle(ROOT, { create })) as Dir;
  } catch (err) {
    if ((err as DOMException).name === 'NotFoundError') return undefined;
    throw err;
  }
}

const folderName = (ref: HubRef) => encodeURIComponent(`${ref.id}@${ref.revision}`);

async function modelDir(ref: HubRef, create: boolean): Promise<Dir | undefined> {
  const root = await hubRoot(create);
  try {
    return (await root?.getDirectoryHandle(folderName(ref), { create })) as Dir | undefined;
  } catch (err) {
    if ((err as DOMException).name === 'NotFoundError') return undefined;
    throw err;
  }
}

async function fileOf(dir: Dir, name: string): Promise<File | undefined> {
  try {
    return await (await dir.getFileHandle(name)).getFile();
  } catch (err) {
    if ((err as DOMException).name === 'NotFoundError' || (err as DOMException).name === 'TypeMismatchError') return undefined;
    throw err;
  }
}

/** Writes `bytes` as the whole of `name` through a sync access handle (dedicated workers only). */
async function writeWhole(dir: Dir, name: string, bytes: Uint8Array): Promise<void> {
  const handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
  try {
    handle.truncate(0);
    handle.write(bytes, { at: 0 });
    handle.flush();
  } finally {
    handle.close();
  }
}

/** A model's cache folder, for fetchHubModel in a dedicated worker. */
export async function opfsHubFolder(ref: HubRef): Promise<HubFolder> {
  const dir = (await modelDir(ref, true))!;
  const size = async (name: string) => (await fileOf(dir, name))?.size;
  return {
    label: `this browser's storage (${hubRefText(ref)})`,
    fileSize: size,
    partSize: async (name) => (await size(name + '.part')) ?? 0,
    async openPart(name, offset): Promise<PartWriter> {
      const handle = await (await dir.getFileHandle(name + '.part', { create: true })).createSyncAccessHandle();
      handle.truncate(offset);
      let at = offset;
      let unflushed = 0;
      return {
        async write(chunk) {
          handle.write(chunk, { at });
          at += chunk.byteLength;
          unflushed += chunk.byteLength;
          // What arrived is on disk every few MB: a reload loses at most that much.
          if (unflushed >= 4 << 20) {
            handle.flush();
            unflushed = 0;
          }
        },
        async close() {
          handle.flush();
          handle.close();
        },
      };
    },
    async finish(name) {
      const part = (await dir.getFileHandle(name + '.part')) as MovableFile;
      if (part.move) return part.move(name);
      // No move() (older browsers): copy, then drop the part.
      await writeWhole(dir, name, new Uint8Array(await (await part.getFile()).arrayBuffer()));
      await dir.removeEntry(name + '.part');
    },
    readText: async (name) => (await fileOf(dir, name))?.text(),
    writeText: (name, text) => writeWhole(dir, name, new TextEncoder().encode(text)),
  };
}

export interface CachedHubModel {
  ref: HubRef;
  /** The stored-model key that trains it (ModelSource { kind: 'stored', key }). */
  key: string;
  /** Bytes of the model's files in the folder (parts included), and of the whole model when known. */
  bytes: number;
  totalBytes?: number;
  /** Every file the model needs is there. */
  complete: boolean;
}

/** The files a cached model needs (from its kept file list); undefined when unknown yet. */
async function neededFiles(dir: Dir, ref: HubRef): Promise<RepoFile[] | undefined> {
  const listing = await fileOf(dir, LISTING_FILE);
  if (!listing) return undefined;
  try {
    const l = JSON.parse(await listing.text()) as HubListing;
    const chosen = chooseModelFiles(l.files, ref, l.mirror);
    if (chosen.single) return [...chosen.meta, chosen.single];
    const index = await fileOf(dir, INDEX);
    return index ? [...chosen.meta, ...weightsFromIndex(await index.text(), l.files, ref)] : undefined;
  } catch {
    return undefined;
  }
}

/** Every model in the page's hub cache, complete or partly downloaded. */
export async function listCachedHubModels(): Promise<CachedHubModel[]> {
  const root = await hubRoot(false);
  if (!root) return [];
  const out: CachedHubModel[] = [];
  for await (const [name, handle] of root.entries()) {
    if (handle.kind !== 'directory') continue;
    let ref: HubRef;
    try {
      ref = parseHubRef(decodeURIComponent(name));
    } catch {
      continue;
    }
    const model = await describe(handle as Dir, ref);
    if (model) out.push(model);
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** A cached model's state; undefined for an empty folder (an inspection that
 *  failed before anything arrived leaves one: it is not a download). */
async function describe(dir: Dir, ref: HubRef): Promise<CachedHubModel | undefined> {
  let bytes = 0;
  let entries = 0;
  for await (const [name, h] of dir.entries()) {
    entries++;
    if (h.kind === 'file' && name !== LISTING_FILE) bytes += (await (h as FileSystemFileHandle).getFile()).size;
  }
  if (entries === 0) return undefined;
  const needed = await neededFiles(dir, ref);
  let complete = needed !== undefined;
  for (const f of needed ?? []) if ((await fileOf(dir, f.path))?.size !== f.size) complete = false;
  return { ref, key: hubStoreKey(ref), bytes, totalBytes: needed?.reduce((n, f) => n + f.size, 0), complete };
}

/** One cached model's state; undefined when nothing of it is cached. */
export async function cachedHubModel(ref: HubRef): Promise<CachedHubModel | undefined> {
  const dir = await modelDir(ref, false);
  return dir ? await describe(dir, ref) : undefined;
}

/** A complete cached model's files (as File objects, read lazily from disk), to load like a picked folder. */
export async function cachedHubFiles(ref: HubRef): Promise<File[]> {
  const dir = await modelDir(ref, false);
  const needed = dir && (await neededFiles(dir, ref));
  const files: File[] = [];
  for (const f of needed ?? []) {
    const file = await fileOf(dir!, f.path);
    if (file?.size !== f.size) throw new Error(`the hub model ${hubRefText(ref)} is not completely downloaded in this browser (${f.path} missing): download it in the Train step`);
    files.push(file);
  }
  if (!needed) throw new Error(`the hub model ${hubRefText(ref)} is not downloaded in this browser: download it in the Train step`);
  return files;
}

/** Deletes a model's folder (complete or partial). */
export async function deleteCachedHubModel(ref: HubRef): Promise<void> {
  const root = await hubRoot(false);
  await root?.removeEntry(folderName(ref), { recursive: true }).catch((err: DOMException) => {
    if (err.name !== 'NotFoundError') throw err;
  });
}

/** Deletes the whole hub cache (every model, complete or partial). */
export async function deleteHubCache(): Promise<void> {
  if (!navigator.storage?.getDirectory) return;
  await (await navigator.storage.getDirectory()).removeEntry(ROOT, { recursive: true }).catch((err: DOMException) => {
    if (err.name !== 'NotFoundError') throw err;
  });
}
