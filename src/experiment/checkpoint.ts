// An experiment's checkpoint: every run's parameters at one step, and the counters the charts
// continue from after a resume. The runner saves one with each evaluation (under the
// configuration's key); the page's worker stores it in IndexedDB (checkpoint-idb.ts).
import type { Arm } from '../data/arms.ts';

export interface Checkpoint {
  key: string;
  step: number;
  savedAt: string;
  /** Flat parameters (params.ts layout) per run, keyed by runKey(arm, trainSeed); checkpoints
   *  saved before training seeds existed key them by arm alone (the first seed). */
  arms: Record<string, Float32Array>;
  /** AdamW's moments per run (same keys and layout as `arms`): with them a resumed run goes on
   *  exactly as one that never stopped (absent in older checkpoints: the moments restart at 0). */
  adam?: Record<string, { m: Float32Array; v: Float32Array }>;
  /** Counters the charts continue from after a resume (absent in older checkpoints). */
  progress?: { supervisedTokens: Record<string, number>; tokensDone: number; trainMs: number; totalSteps?: number };
}

export interface CheckpointStore {
  save(cp: Checkpoint): Promise<void>;
  load(key: string): Promise<Checkpoint | undefined>;
}

/** A run of one arm with one training seed. The first seed's key is the arm alone, as in
 *  checkpoints saved before seeds existed. */
export function runKey(arm: Arm, trainSeed: number, firstSeed: number): string {
  return trainSeed === firstSeed ? arm : `${arm}#${trainSeed}`;
}
