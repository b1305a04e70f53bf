// All selectors by name, in the order the Select step lists them. The selection runner
// (src/select/run.ts), `atlas select --selector`, the runner's data (src/experiment/data.ts
// applySelector), the Select step and the link's `selector=` read this table. Adding a selector
// is one entry here and one file (docs/selection.md, "How to add a selector").
import type { Selection } from '../data/trajectory.ts';
import { heuristic } from './heuristic.ts';
import { oracle } from './oracle-selector.ts';
import { judge } from './judge.ts';
import { groundTruth } from './ground-truth.ts';
import { full, highestLoss, random, rejected } from './baselines.ts';
import type { Picked, RuleSelectorDef, SelectorDef } from './selector.ts';

export const SELECTORS = [heuristic, oracle, judge, groundTruth, random, rejected, highestLoss, full] as const;

export type SelectorName = (typeof SELECTORS)[number]['name'];

export const SELECTOR_NAMES: readonly SelectorName[] = SELECTORS.map((s) => s.name);

export function isSelectorName(name: string): name is SelectorName {
  return (SELECTOR_NAMES as readonly string[]).includes(name);
}

export function getSelector(name: string): SelectorDef {
  const def = SELECTORS.find((s) => s.name === name);
  if (!def) throw new Error(`unknown selector "${name}" (one of ${SELECTOR_NAMES.join(', ')})`);
  return def;
}

/**
 * The selector a selection's name comes from: "heuristic" → heuristic, "oracle:gpt-4o" →
 * oracle; undefined for names no selector writes (hand edits, a file's own flags, …).
 */
export function selectorOfSelection(selection: string): SelectorDef | undefined {
  const colon = selection.indexOf(':');
  const base = colon < 0 ? selection : selection.slice(0, colon);
  const def = SELECTORS.find((s) => s.name === base);
  return def && (colon < 0) === (def.kind === 'rule') ? def : undefined;
}

/** The selector the runner recomputes on built-in data regenerated from its seed, or undefined
 *  when a selection of this name exists only on stored trajectories (oracle, judge, hand edits, …). */
export function seedRebuiltSelector(selection: string): RuleSelectorDef | undefined {
  const def = SELECTORS.find((s) => s.name === selection);
  return def?.kind === 'rule' && def.rebuiltFromSeed ? def : undefined;
}

export function rebuiltFromSeed(selection: string): boolean {
  return seedRebuiltSelector(selection) !== undefined;
}

/** Selections the runner rebuilds from the built-in data's seed. */
export const SEED_REBUILT_SELECTORS: readonly string[] = SELECTORS.filter((s) => s.rebuiltFromSeed).map((s) => s.name);

/** A rule selector's choice as a labelled selection, `repairs` always set (as the runner stores it). */
export function labelledSelection(name: string, picked: Picked, now: string): Selection {
  return { selector: name, createdAt: now, status: 'labelled', critical: picked.critical, ...(picked.budget !== undefined ? { budget: picked.budget } : {}), repairs: picked.repairs ?? [] };
}
