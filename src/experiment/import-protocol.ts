// What workers/import.worker.ts (the page's data worker) exposes through comlink: the streaming
// importer (src/data/importer.ts) off the main thread, the built-in demonstrations as the runner
// generates and labels them (src/experiment/builtin-demos.ts), and the token view of the mask
// panel (with the run model's tokenizer, workers/model-files.ts). Here, beside the runner's data, not in src/data: it names built-in sources and the
// runner's labelling. Plain data and callbacks only, so it crosses postMessage.
import type { Arm } from '../data/arms.ts';
import type { ImportFormat } from '../data/formats.ts';
import type { ImportSummary } from '../data/importer.ts';
import type { TokenViewEntry } from '../data/masks.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { BuiltinSource } from './builtin-demos.ts';
import type { ModelSource } from './protocol.ts';

export type ImportProgress = (bytesRead: number, totalBytes: number | undefined) => void;

export interface ImportRequestOptions {
  format?: ImportFormat;
  /** Runs whose record says they failed: left out (default) or kept (src/data/importer.ts). */
  failedRuns?: 'leave-out' | 'keep';
}

/** The mask panel's token view of one trajectory. */
export interface TokenViewResult {
  tokens: TokenViewEntry[];
  supervisedSteps: number[];
  /** The tokenizer the tokens are of, in words: "the default tokenizer, which preset … trains
   *  with (…)" or "the model’s tokenizer (…; chat template: …)". */
  tokenizer: string;
  /** Why these are the default tokenizer's tokens, not the model's (its tokenizer could not be
   *  loaded); absent when they are the model's. */
  fallback?: string;
}

/** An import's report and how many trajectories the worker holds for the page to take. */
export interface ImportDone {
  summary: ImportSummary;
  count: number;
}

export interface ImportWorkerApi {
  importFile(file: Blob, name: string, onProgress?: ImportProgress, opts?: ImportRequestOptions): Promise<ImportDone>;
  /** An absolute http(s) URL, or a path on this site ("/data/x.json"). */
  importUrl(url: string, onProgress?: ImportProgress, opts?: ImportRequestOptions): Promise<ImportDone>;
  /** Generates the built-in environments' demonstrations (held like an import); their count. */
  builtin(src: BuiltinSource, budget?: number, selector?: string): number;
  /** Trajectories [from, from + n) of the last import. */
  take(from: number, n: number): Trajectory[];
  /** Every token of `t` with its text and loss weight for `arm`, with the tokenizer (and chat
   *  template) of `model` — the run's model — or, when that cannot be loaded, the built-in
   *  default tokenizer and a note saying why; the arm's steps based on `selection` as the
   *  runner applies it. */
  tokenView(t: Trajectory, arm: Arm, seed: number, budget: number, selection: string, model: ModelSource): Promise<TokenViewResult>;
  /** Frees the last import's trajectories. */
  release(): void;
  cancel(): void;
}
