// What the Export step says about a labelled-data export: the split choice (built-in
// demonstrations record held-in / held-out; src/data/exportSplit.ts), what it left out or
// included, and why an export would hold 0 records. Pure.
import type { ExportFormat, ExportResult, ExportSplit } from '../data/export.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { isHeldOut } from '../data/exportSplit.ts';

const n = (k: number) => `${k} ${k === 1 ? 'trajectory' : 'trajectories'}`;

/** How many trajectories each split choice exports. */
export function splitSizes(ts: readonly Trajectory[]): Record<ExportSplit, number> {
  const heldOut = ts.reduce((k, t) => k + (isHeldOut(t) ? 1 : 0), 0);
  return { 'held-in': ts.length - heldOut, 'held-out': heldOut, all: ts.length };
}

/** The split choice's label. */
export function splitLabel(split: ExportSplit, sizes: Record<ExportSplit, number>): string {
  switch (split) {
    case 'held-in':
      return `Held-in — the training split (${n(sizes['held-in'])}); the default, safe to train on`;
    case 'held-out':
      return `Held-out — the evaluation split (${n(sizes['held-out'])}), each record marked "split": "held-out"`;
    case 'all':
      return `All (${n(sizes.all)}) — the held-out records marked "split": "held-out"`;
  }
}

/** One sentence about what the split choice did (undefined: it changed nothing). */
export function splitNote(r: Pick<ExportResult, 'split'>, format: ExportFormat): string | undefined {
  const { split, leftOut, heldOut } = r.split;
  const mark = format === 'openai' ? 'OpenAI’s format has no room for a mark, so keep this file apart from training data' : 'each is marked "split": "held-out"';
  if (leftOut > 0 && split === 'held-in') return `${n(leftOut)} of the held-out split (built-in evaluation data) left out, so training on this file does not contaminate the held-out evaluation; choose “Held-out” or “All” above to export them (marked "split": "held-out").`;
  if (leftOut > 0 && split === 'held-out') return `Only the held-out split: ${n(leftOut)} outside it left out; ${mark}. Do not train on them if you evaluate on the held-out split.`;
  if (heldOut > 0) return `${n(heldOut)} of the held-out split (built-in evaluation data) included; ${mark}. Do not train on them if you evaluate on the held-out split.`;
  return undefined;
}

/** Why an export would hold 0 records (it is never downloaded). */
export function emptyExportMessage(fileName: string, r: Pick<ExportResult, 'trajectories' | 'withoutSelectedSteps' | 'split'>, total: number, arm: string): string {
  const head = `Nothing to export: ${fileName} would hold 0 records — `;
  const tail = ' No file was saved.';
  if (total === 0) return `${head}the dataset has no trajectories.${tail}`;
  if (r.trajectories === 0) {
    const why = r.split.split === 'held-out' ? 'none of them is in the held-out split (only built-in demonstrations have one)' : r.split.split === 'held-in' ? 'all of them are in the held-out split' : 'none is left';
    return `${head}the “${r.split.split}” split holds none of the ${n(total)}: ${why}. Choose another split above.${tail}`;
  }
  const leftOut = r.split.leftOut ? ` (the other ${n(r.split.leftOut)} were left out by the “${r.split.split}” split)` : '';
  return `${head}none of the ${n(r.trajectories)}${leftOut} has a selected step for the ${arm} arm (run a selector in step 2 or mark steps by hand).${tail}`;
}
