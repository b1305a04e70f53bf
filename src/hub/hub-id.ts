// A Hugging Face hub model as the CLI and the page name it: `ORG/NAME`, optionally
// `@REVISION` (a branch, tag or commit; default `main`), written `hf:ORG/NAME[@REV]` where a
// model folder is expected. The URLs a mirror serves it under, and the three small instruct
// models the Train step suggests. Pure: no I/O.
import { DEFAULT_HUB_MIRROR, normalizeHubMirror } from '../select/judge.ts';

export { DEFAULT_HUB_MIRROR, normalizeHubMirror };

/** The prefix that marks a hub id where a model folder is accepted (`--model hf:ORG/NAME`). */
export const HF_PREFIX = 'hf:';

export interface HubRef {
  /** `ORG/NAME`. */
  id: string;
  /** Branch, tag or commit (`main` unless named). */
  revision: string;
}

/** The small instruct models the Train step lists first (any other hub id can be typed). */
export const HUB_SUGGESTIONS: readonly { id: string; note: string }[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', note: 'Llama, 135M parameters' },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', note: 'Llama, 362M parameters' },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', note: 'Qwen2, 494M parameters' },
];

// The hub's own rules for repository names: letters, digits, "-", "_", "."; no "--" or "..";
// neither starting nor ending with "-" or ".".
const NAME = /^(?![-.])(?!.*(--|\.\.))[A-Za-z0-9._-]{1,96}(?<![-.])$/;
const REVISION = /^(?!.*\.\.)(?!\/)[A-Za-z0-9._\/-]{1,200}(?<!\/)$/;

/** Reads `ORG/NAME[@REV]` (with or without `hf:`); errors name `where` and say what is expected. */
export function parseHubRef(text: string, where = 'hub id'): HubRef {
  const bare = text.trim().startsWith(HF_PREFIX) ? text.trim().slice(HF_PREFIX.length) : text.trim();
  const at = bare.indexOf('@');
  const id = at < 0 ? bare : bare.slice(0, at);
  const revision = at < 0 ? 'main' : bare.slice(at + 1);
  const parts = id.split('/');
  const expected = 'expected ORG/NAME or ORG/NAME@REVISION, e.g. HuggingFaceTB/SmolLM2-135M-Instruct';
  const shown = JSON.stringify(text.slice(0, 120));
  if (parts.length !== 2) throw new Error(`${where} ${shown}: ${expected}`);
  const bad = parts.find((p) => !NAME.test(p));
  if (bad !== undefined) throw new Error(`${where} ${shown}: "${bad.slice(0, 100)}" is not a hub name (letters, digits, "-", "_", "."; ${expected})`);
  if (!REVISION.test(revision)) throw new Error(`${where} ${shown}: revision "${revision.slice(0, 100)}" is not a branch, tag or commit name`);
  return { id, revision };
}

/** `ORG/NAME`, or `ORG/NAME@REV` for a revision other than main. */
export function hubRefText(ref: HubRef): string {
  return ref.revision === 'main' ? ref.id : `${ref.id}@${ref.revision}`;
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** Where a mirror serves one file of a revision: `${mirror}/${id}/resolve/${rev}/${file}`. */
export function hubFileUrl(mirror: string, ref: HubRef, file: string): string {
  return `${normalizeHubMirror(mirror)}${ref.id}/resolve/${encodeURIComponent(ref.revision)}/${encodePath(file)}`;
}

/** The hub API's file list of a revision (names and sizes): `${mirror}/api/models/${id}/tree/${rev}`. */
export function hubTreeUrl(mirror: string, ref: HubRef): string {
  return `${normalizeHubMirror(mirror)}api/models/${ref.id}/tree/${encodeURIComponent(ref.revision)}`;
}

/** The key a downloaded hub model is stored under in the page (ModelSource { kind: 'stored' }). */
export function hubStoreKey(ref: HubRef): string {
  return `hub:${ref.id}@${ref.revision}`;
}

/** The ref back from hubStoreKey's key; undefined for any other stored model's key. */
export function refFromStoreKey(key: string): HubRef | undefined {
  if (!key.startsWith('hub:')) return undefined;
  try {
    return parseHubRef(key.slice('hub:'.length));
  } catch {
    return undefined;
  }
}
