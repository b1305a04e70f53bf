// What a selection is for. Critical-step selections (heuristic, oracle, judge, ground truth,
// hand edits, labels imported with a file) are candidates for what the critical arm trains on.
// Baseline selections (random, rejected, full, highest-loss) are the other arms' choices: a user
// runs one in the Select step to look at it, and it never becomes the critical arm's unless the
// user picks it there. Which is which is the selector registry's `criticalArm`
// (src/select/registry.ts). Pure: no DOM, no state.
import type { Trajectory } from '../../data/trajectory.ts';
import { SELECTORS, selectorOfSelection } from '../../select/registry.ts';

/** Selector names of the baseline arms: the registry's selectors that are not critical-arm capable. */
export const BASELINE_SELECTIONS: readonly string[] = SELECTORS.filter((s) => !s.criticalArm).map((s) => s.name);

export function isBaselineSelection(name: string): boolean {
  return selectorOfSelection(name)?.criticalArm === false;
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
  if (name === 'manual') return 'your hand edits';
  const def = selectorOfSelection(name);
  // A model selector's selection is "<selector>:<model>": the model follows.
  if (def) return def.kind === 'model' ? `${def.origin} ${name.slice(def.name.length + 1)}` : def.origin;
  return `“${name}”`;
}
