// A hub model into a cache folder, in the order that refuses early: the file list (sizes),
// config.json (an architecture the engine does not run is refused here, naming the field),
// the tokenizer files, the shard index — then, once the caller has seen the download size
// and may stop (beforeWeights), the weights. A folder already holding every file it needs is
// used as it is, with no request at all: the file list is kept beside the files
// (`.atlas-hub.json`). Used by the CLI (src/cli/hub-model.ts) and the page's hub worker.
import { configFromHf, type LlamaConfig } from '../engine/config.ts';
import { downloadFile, type HubFolder } from './download.ts';
import { hubFileUrl, hubRefText, type HubRef } from './hub-id.ts';
import { chooseModelFiles, CONFIG, INDEX, listRepoFiles, weightsFromIndex, type RepoFile } from './repo-files.ts';

/** The file list kept in each model's folder. */
export const LISTING_FILE = '.atlas-hub.json';

export interface HubListing {
  id: string;
  revision: string;
  /** The mirror it was listed at (the files may come from any mirror). */
  mirror: string;
  listedAt: string;
  files: RepoFile[];
}

export interface HubModelInfo {
  ref: HubRef;
  mirror: string;
  folder: string;
  config: LlamaConfig;
  /** config.json, tokenizer files, generation config, shard index. */
  meta: RepoFile[];
  weights: RepoFile[];
  /** Bytes of every file the model needs, and how many of them are not in the folder yet. */
  totalBytes: number;
  missingBytes: number;
  /** True when nothing was requested: the folder already held every file asked for. */
  fromCache: boolean;
}

export interface HubProgress {
  file: string;
  done: number;
  total: number;
  /** Over every file of this download (files already there count as done). */
  allDone: number;
  allTotal: number;
}

export interface FetchHubModelOptions {
  ref: HubRef;
  mirror: string;
  folder: HubFolder;
  fetch?: typeof fetch;
  /** false: only the files before the weights (enough for the tokenizer, the config and the
   *  memory plan). Default true. */
  weights?: boolean;
  /** Called before the first weight byte is requested (not when the weights are already
   *  there); throwing stops the download. */
  beforeWeights?: (info: HubModelInfo) => void | Promise<void>;
  onProgress?: (p: HubProgress) => void;
  signal?: AbortSignal;
  retries?: number;
  retryDelayMs?: (attempt: number) => number;
}

const sum = (files: readonly RepoFile[]) => files.reduce((n, f) => n + f.size, 0);

export async function fetchHubModel(o: FetchHubModelOptions): Promise<HubModelInfo> {
  // Called as a plain function: a browser's fetch refuses to run as another object's method.
  const fetchFn: typeof fetch = o.fetch ?? ((input, init) => fetch(input, init));
  const { ref, mirror, folder } = o;
  const wantWeights = o.weights ?? true;
  const name = hubRefText(ref);

  let listing = await readListing(folder, ref);
  let requested = false;
  if (!listing) {
    requested = true;
    listing = { id: ref.id, revision: ref.revision, mirror, listedAt: new Date().toISOString(), files: await listRepoFiles(fetchFn, mirror, ref, o.signal) };
  }
  const chosen = chooseModelFiles(listing.files, ref, mirror);
  if (requested) await folder.writeText(LISTING_FILE, JSON.stringify(listing, null, 1) + '\n');

  const isThere = async (f: RepoFile) => (await folder.fileSize(f.path)) === f.size;
  const get = async (f: RepoFile, progress?: (done: number) => void) => {
    if (await isThere(f)) return;
    requested = true;
    await downloadFile({
      fetch: fetchFn, url: hubFileUrl(mirror, ref, f.path), name: f.path, size: f.size, folder,
      signal: o.signal, retries: o.retries, retryDelayMs: o.retryDelayMs, onProgress: (p) => progress?.(p.done),
    });
  };

  // config.json first: an architecture the engine does not run stops everything here.
  const configFile = chosen.meta.find((f) => f.path === CONFIG)!;
  await get(configFile);
  const config = readConfig(await folder.readText(CONFIG), name);
  for (const f of chosen.meta) await get(f);
  const weights = chosen.single ? [chosen.single] : weightsFromIndex((await folder.readText(INDEX)) ?? '', listing.files, ref);

  const all = [...chosen.meta, ...weights];
  let missing = 0;
  for (const f of weights) if (!(await isThere(f))) missing += f.size - Math.min(f.size, await folder.partSize(f.path));
  const info = (): HubModelInfo => ({ ref, mirror, folder: folder.label, config, meta: chosen.meta, weights, totalBytes: sum(all), missingBytes: missing, fromCache: !requested });
  if (!wantWeights || missing === 0) return info();

  await o.beforeWeights?.(info());
  let before = sum(chosen.meta);
  const allTotal = sum(all);
  for (const f of weights) {
    await get(f, (done) => o.onProgress?.({ file: f.path, done, total: f.size, allDone: before + done, allTotal }));
    before += f.size;
  }
  missing = 0;
  return info();
}

/** The kept file list, when it is this revision's. */
async function readListing(folder: HubFolder, ref: HubRef): Promise<HubListing | undefined> {
  const text = await folder.readText(LISTING_FILE);
  if (text === undefined) return undefined;
  try {
    const l = JSON.parse(text) as HubListing;
    if (l.id === ref.id && l.revision === ref.revision && Array.isArray(l.files)) return l;
  } catch {
    // a damaged list is fetched again
  }
  return undefined;
}

/** config.json → the engine's config; the refusal names the model, the file and the field. */
function readConfig(text: string | undefined, name: string): LlamaConfig {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text ?? '');
  } catch (err) {
    throw new Error(`${name}/config.json is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return configFromHf(json);
  } catch (err) {
    throw new Error(`${name}/config.json: ${err instanceof Error ? err.message : String(err)} — the weights were not downloaded`);
  }
}
