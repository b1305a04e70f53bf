// What workers/import.worker.ts (the page's data worker) exposes through comlink: the streaming
// importer (src/data/importer.ts) off the main thread, the built-in demonstrations as the runner
// generates and labels them (src/experiment/builtin-demos.ts), and the token view of the mask
// panel. Here, beside the runner's data, not in src/data: it names built-in sources and the
// runner's labelling. Plain data and callbacks only, so it crosses postMessage.
import type { Arm } from '../data/arms.ts';
import type { ImportFormat } from '../data/formats.ts';
import type { ImportSummary } from '../data/importer.ts';
import type { TokenViewEntry } from '../data/masks.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { BuiltinSource } from './builtin-demos.ts';

export type ImportProgress = (bytesRead: number, totalBytes: number | undefined) => void;

export interface ImportRequestOptions {
  format?: ImportFormat;
  /** Runs whose record says they failed: left out (default) or kept (src/data/importer.ts). */
  failedRuns?: 'leave-out' | 'keep';
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
  /** Every token of `t` with its text and loss weight for `arm` (the built-in default
   *  tokenizer), the arm's steps based on `selection` as the runner applies it. */
  tokenView(t: Trajectory, arm: Arm, seed: number, budget: number, selection: string): { tokens: TokenViewEntry[]; supervisedSteps: number[] };
  /** Frees the last import's trajectories. */
  release(): void;
  cancel(): void;
}
