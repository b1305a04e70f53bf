// The Select step's list of selectors: the registry (src/select/registry.ts), in its order, with
// its text, and whether the page can run one now. Pure: no DOM, no state.
import { getSelector, SELECTORS, type SelectorName } from '../../select/registry.ts';

export interface SelectorChoice {
  name: SelectorName;
  label: string;
}

export const SELECTOR_CHOICES: readonly SelectorChoice[] = SELECTORS.map((s) => ({ name: s.name, label: s.label }));

/**
 * Whether the page can run `name` now: the base model's per-step loss is computed only by the
 * engine (the Train step's highest-loss arm, or `atlas select --model`), and a judge must be loaded first.
 */
export function runnableInPage(name: SelectorName, judgeLoaded: boolean): boolean {
  const needs = getSelector(name).needsModel;
  return needs === undefined || (needs === 'judge' && judgeLoaded);
}
