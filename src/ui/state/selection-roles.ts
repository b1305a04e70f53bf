// What a selection is for. Critical-step selections (heuristic, oracle, judge, ground truth,
// hand edits, labels imported with a file) are candidates for what the critical arm trains on.
// Baseline selections (random, rejected, full, highest-loss) are the other arms' choices: a user
// runs one in the Select step to look at it, and it never becomes the critical arm's unless the
// user picks it there. Pure: no DOM, no state.
import type { Trajectory } from '../../data/trajectory.ts';

/** Selector names of the baseline arms (src/select/run.ts ARM_SELECTORS). */
export const BASELINE_SELECTIONS: readonly string[] = ['random', 'rejected', 'full', 'highest-loss'];

export function isBaselineSelection(name: string): boolean {
  return BASELINE_SELECTIONS.includes(name);
}

/** Selections made from a file's own per-turn flags (`import:loss`, `import:weight`, …). */
export function isImportedSelection(name: string): boolean {
  return name.startsWith('import:');
}

/**
 * The selection an imported file brings for the critical arm: the `import:*` selection on the
 * most trajectories (ties: the first seen), or undefined when the file carried no flags.
 */
export function importedSelection(ts: readonly Trajectory[]): string | undefined {
  const counts = new Map<string, number>();
  for (const t of ts) {
    for (const name of new Set(t.selections.filter((s) => s.status === 'labelled' && isImportedSelection(s.selector)).map((s) => s.selector))) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  let best: string | undefined;
  for (const [name, n] of counts) if (best === undefined || n > counts.get(best)!) best = name;
  return best;
}

/** A short phrase for a selection in sentences: where it came from. */
export function selectionOrigin(name: string): string {
  if (isImportedSelection(name)) return `the file’s own “${name.slice('import:'.length)}” flags`;
  if (name === 'heuristic') return 'the heuristic';
  if (name === 'ground-truth') return 'the built-in expert’s ground truth';
  if (name === 'manual') return 'your hand edits';
  if (name.startsWith('oracle:')) return `the oracle ${name.slice('oracle:'.length)}`;
  if (name.startsWith('judge:')) return `the local judge ${name.slice('judge:'.length)}`;
  if (isBaselineSelection(name)) return `the ${name} baseline`;
  return `“${name}”`;
}
