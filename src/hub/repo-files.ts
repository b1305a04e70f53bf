// Which files of a hub repository make a model the engine loads, with their sizes: the hub
// API's file list of the revision (`/api/models/<id>/tree/<rev>`), then config.json,
// tokenizer.json, tokenizer_config.json and generation_config.json (when present), and the
// weights — model.safetensors, or model.safetensors.index.json and the shards it names.
// Anything missing is refused here, before a byte of weights is fetched, naming the file.
import { hubFileUrl, hubRefText, hubTreeUrl, type HubRef } from './hub-id.ts';

export interface RepoFile {
  path: string;
  /** Bytes (the LFS object's for large files). */
  size: number;
}

/** A failed request, with the URL and the status it got. */
export class HubHttpError extends Error {
  constructor(message: string, readonly status: number, readonly url: string) {
    super(message);
  }
}

/** What a status means for a hub download, in words. */
export function statusText(status: number): string {
  if (status === 404) return 'not found';
  if (status === 401 || status === 403) return 'refused: the model is gated or private, and the playground sends no access token — download it yourself and give the folder';
  if (status === 429) return 'too many requests: try again later';
  return status >= 500 ? 'the server failed' : 'refused';
}

/** The revision's top-level files (where a model's files are), from the hub API. */
export async function listRepoFiles(fetchFn: typeof fetch, mirror: string, ref: HubRef, signal?: AbortSignal): Promise<RepoFile[]> {
  const url = hubTreeUrl(mirror, ref);
  let res: Response;
  try {
    res = await fetchFn(url, { signal });
  } catch (err) {
    throw new Error(`${hubRefText(ref)}: could not reach the hub mirror (GET ${url}): ${describeFetchError(err)}`);
  }
  if (!res.ok) {
    const what = res.status === 404 ? `no model "${ref.id}" with revision "${ref.revision}" at this mirror` : statusText(res.status);
    throw new HubHttpError(`${hubRefText(ref)}: ${what} (GET ${url} → HTTP ${res.status})`, res.status, url);
  }
  let list: unknown;
  try {
    list = await res.json();
  } catch {
    throw new Error(`${hubRefText(ref)}: the file list at ${url} is not JSON (does this mirror serve the hub API?)`);
  }
  if (!Array.isArray(list)) throw new Error(`${hubRefText(ref)}: the file list at ${url} is not a list`);
  const files: RepoFile[] = [];
  for (const e of list as Array<Record<string, unknown>>) {
    if (e?.type !== 'file' || typeof e.path !== 'string') continue;
    const lfs = e.lfs as { size?: unknown } | undefined;
    const size = typeof lfs?.size === 'number' ? lfs.size : e.size;
    if (typeof size !== 'number' || !(size >= 0)) throw new Error(`${hubRefText(ref)}: the file list at ${url} gives no size for ${e.path}`);
    files.push({ path: e.path, size });
  }
  return files;
}

/** Why fetch failed: Node says only "fetch failed", with the reason in `cause`. */
export function describeFetchError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${(err.cause as Error & { code?: string }).code ?? err.cause.message})` : '';
  return message + cause;
}

export const CONFIG = 'config.json';
export const INDEX = 'model.safetensors.index.json';
export const SINGLE = 'model.safetensors';
/** Small files read before the weights: the first three are needed, the last only when present. */
const META = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'] as const;
const NEEDED = new Set(['config.json', 'tokenizer.json']);

export interface ModelFiles {
  /** config.json, tokenizer files, generation_config.json, and the shard index when sharded. */
  meta: RepoFile[];
  /** model.safetensors alone, or (sharded) undefined until the index is read: weightsFromIndex. */
  single?: RepoFile;
}

/** The files to download out of a listing; refuses a repository the engine cannot load. */
export function chooseModelFiles(listing: readonly RepoFile[], ref: HubRef, mirror: string): ModelFiles {
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const where = `${hubRefText(ref)} at ${mirror}`;
  for (const name of NEEDED) {
    if (byPath.has(name)) continue;
    const hint = name === 'tokenizer.json'
      ? (byPath.has('tokenizer.model') ? ' (it has only tokenizer.model, a SentencePiece file; the playground reads tokenizer.json)' : '')
      : ' (not a transformers model folder?)';
    throw new Error(`${where}: no ${name} in the repository${hint} — ${hubFileUrl(mirror, ref, name)}`);
  }
  const meta = META.filter((n) => byPath.has(n)).map((n) => byPath.get(n)!);
  if (byPath.has(SINGLE)) return { meta, single: byPath.get(SINGLE) };
  if (byPath.has(INDEX)) return { meta: [...meta, byPath.get(INDEX)!] };
  const other = listing.map((f) => f.path).filter((p) => /\.(bin|pt|pth|gguf|onnx|h5|msgpack)$/.test(p));
  throw new Error(`${where}: no ${SINGLE} or ${INDEX} (the engine reads safetensors${other.length ? `; the repository has ${other.slice(0, 4).join(', ')}` : ''})`);
}

/** The shards a model.safetensors.index.json names, with their sizes from the listing. */
export function weightsFromIndex(indexText: string, listing: readonly RepoFile[], ref: HubRef): RepoFile[] {
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(indexText);
  } catch (err) {
    throw new Error(`${hubRefText(ref)}/${INDEX}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null) throw new Error(`${hubRefText(ref)}/${INDEX}: no "weight_map" object`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  const byPath = new Map(listing.map((f) => [f.path, f]));
  return shards.map((s) => {
    if (typeof s !== 'string' || !s.endsWith('.safetensors') || s.includes('..') || s.startsWith('/')) throw new Error(`${hubRefText(ref)}/${INDEX}: weight_map names ${JSON.stringify(s)}, not a .safetensors file of the repository`);
    const f = byPath.get(s);
    if (!f) throw new Error(`${hubRefText(ref)}/${INDEX}: weight_map names ${s}, which is not in the repository`);
    return f;
  }).sort((a, b) => a.path.localeCompare(b.path));
}
