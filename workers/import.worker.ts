// Thin comlink shell around src/data for the page: the streaming importer (a dropped file, a
// picked file or a URL is read chunk by chunk here, off the main thread, with progress and
// cancel; all parsing and every rejection reason come from src/data), and the token view of
// the mask panel with the run model's tokenizer (loaded here once per model source,
// workers/model-files.ts; tokenizing a trajectory takes tens of milliseconds: not on the main
// thread).
import * as Comlink from 'comlink';
import { importTrajectories, type ImportResult } from '../src/data/importer.ts';
import type { Trajectory } from '../src/data/trajectory.ts';
import { blobSource } from '../src/data/sources/browser.ts';
import { tokenView } from '../src/data/masks.ts';
import { builtinDemos } from '../src/experiment/builtin-demos.ts';
import { applySelector } from '../src/experiment/data.ts';
import type { ImportDone, ImportWorkerApi } from '../src/experiment/import-protocol.ts';
import { maskTokenizer } from './model-files.ts';

let current: AbortController | undefined;
// The last import's trajectories stay here until the page has taken them in slices: one big
// message would deserialize in one long main-thread task.
let held: Trajectory[] = [];

function hold(r: ImportResult): ImportDone {
  held = r.trajectories;
  return { summary: r.summary, count: r.trajectories.length };
}

/** An absolute http(s) URL, or a path on this site ("/data/x.json"); anything else is refused with a reason. */
function importUrlTarget(url: string): string {
  const text = url.trim();
  if (text.startsWith('/') && !text.startsWith('//')) return new URL(text, self.location.origin).href;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a valid http(s) URL: write it as https://host/path/file.jsonl (or /path on this site)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`"${text}" is not an http(s) URL (scheme ${parsed.protocol}): only http:// and https:// can be fetched`);
  return parsed.href;
}

const api: ImportWorkerApi = {
  async importFile(file, name, onProgress, opts = {}) {
    current?.abort();
    const abort = (current = new AbortController());
    const { source, totalBytes } = blobSource(file);
    return hold(await importTrajectories(source, { file: name, format: opts.format, failedRuns: opts.failedRuns, signal: abort.signal, totalBytes, onProgress }));
  },

  async importUrl(url, onProgress, opts = {}) {
    current?.abort();
    const abort = (current = new AbortController());
    const target = importUrlTarget(url);
    let response: Response;
    try {
      response = await fetch(target, { signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) throw err;
      // The browser hides why (a TypeError "Failed to fetch"): name the usual causes.
      throw new Error(`could not fetch ${url}: no answer from ${new URL(target).host} — the server is down or unreachable, or it refused this page's cross-origin request (CORS: it must send Access-Control-Allow-Origin). Browser said: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
    if (!response.body) throw new Error(`could not fetch ${url}: the response has no body`);
    const length = Number(response.headers.get('content-length'));
    const name = decodeURIComponent(new URL(target).pathname.split('/').pop() || url);
    return hold(
      await importTrajectories(response.body, {
        file: name,
        format: opts.format,
        failedRuns: opts.failedRuns,
        signal: abort.signal,
        totalBytes: Number.isFinite(length) && length > 0 ? length : undefined,
        onProgress,
      }),
    );
  },

  /** Generates the built-in environments' demonstrations (held here like an import). */
  builtin(src, budget, selector) {
    held = builtinDemos(src, budget, selector);
    return held.length;
  },

  /** Trajectories [from, from + n) of the last import. */
  take(from, n) {
    return held.slice(from, from + n);
  },

  /** Every token of `t` with its text and loss weight for `arm`, with the run model's tokenizer
   *  (the default tokenizer and a note saying why when it cannot be loaded), the arm's steps
   *  based on `selection` as the runner applies it (applySelector: heuristic and ground truth
   *  computed to the budget, any other name as stored). */
  async tokenView(t, arm, seed, budget, selection, model) {
    const copy: Trajectory = { ...t, selections: [...t.selections] };
    // The runner's rule: without the selection the critical arm puts no loss on the trajectory
    // (the random and rejected arms then sample the budget's count of steps).
    const [failed] = arm === 'full' ? [] : applySelector([copy], selection, budget);
    if (failed && arm === 'critical') throw new Error(`this trajectory has no “${selection}” selection (${failed.reason}), so the critical arm puts no loss on it`);
    const { tokenizer, label, fallback } = await maskTokenizer(model);
    const v = tokenView(copy, { arm, tokenizer, seed, budget });
    return { tokens: v.tokens, supervisedSteps: v.supervisedSteps, tokenizer: label, ...(fallback ? { fallback } : {}) };
  },

  /** Frees the last import's trajectories. */
  release() {
    held = [];
  },

  cancel() {
    current?.abort();
  },
};

Comlink.expose(api);
