// Which trajectories an export may hold. Built-in demonstrations record their split in
// provenance ("held-in" trains, "held-out" is kept for evaluation); exporting the held-out
// ones for training elsewhere would contaminate the held-out evaluation. So by default an
// export holds the held-in split (and every trajectory without a split: imported data); the
// held-out split only on request ('held-out' alone, or 'all'), and each held-out record is
// marked (exportTrajectories writes "split": "held-out" on it where the format has room).
import type { Trajectory } from './trajectory.ts';

export const EXPORT_SPLITS = ['held-in', 'held-out', 'all'] as const;
export type ExportSplit = (typeof EXPORT_SPLITS)[number];

export interface SplitChoice {
  /** The split asked for. */
  split: ExportSplit;
  /** Trajectories left out because of their split. */
  leftOut: number;
  /** Held-out trajectories included (each marked). */
  heldOut: number;
}

const splitOf = (t: Trajectory) => t.provenance?.split;

export function isHeldOut(t: Trajectory): boolean {
  return splitOf(t) === 'held-out';
}

/** The trajectories `split` lets through, in order, and what was left out. */
export function chooseSplit(ts: Iterable<Trajectory>, split: ExportSplit = 'held-in'): { trajectories: Trajectory[]; choice: SplitChoice } {
  const trajectories: Trajectory[] = [];
  let leftOut = 0;
  let heldOut = 0;
  for (const t of ts) {
    const keep = split === 'all' || (split === 'held-out' ? isHeldOut(t) : !isHeldOut(t));
    if (!keep) {
      leftOut++;
      continue;
    }
    if (isHeldOut(t)) heldOut++;
    trajectories.push(t);
  }
  return { trajectories, choice: { split, leftOut, heldOut } };
}

const trajectories = (n: number) => `${n} ${n === 1 ? 'trajectory' : 'trajectories'}`;

/** One sentence about what the split rule did, or undefined when it changed nothing. */
export function splitMessage(c: SplitChoice): string | undefined {
  if (c.leftOut > 0 && c.split === 'held-in') return `${trajectories(c.leftOut)} of the held-out split (built-in evaluation data) left out, so training on this file does not contaminate the held-out evaluation; export them with --split held-out or --split all (marked "split": "held-out")`;
  if (c.leftOut > 0 && c.split === 'held-out') return `${trajectories(c.leftOut)} outside the held-out split left out`;
  if (c.heldOut > 0) return `${trajectories(c.heldOut)} of the held-out split (built-in evaluation data) in this export, marked "split": "held-out" where the format has room; do not train on them if you evaluate on the held-out split`;
  return undefined;
}
