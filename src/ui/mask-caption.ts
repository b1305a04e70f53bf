// The sentence under the token view's arm buttons: what the shown arm puts loss on, naming the
// selection it is based on, and whether that is what the critical arm trains on. "ATLaS" is
// said only of a critical-step selection the critical arm trains on. Pure.
import type { Arm } from '../data/arms.ts';
import { ARM_EXPLAIN } from './arm-labels.ts';
import { isBaselineSelection, selectionOrigin } from './state/selection-roles.ts';

export function maskCaption(arm: Arm, shown: string, trainsOn: string): string {
  const q = `“${shown}”`;
  switch (arm) {
    case 'full':
      return `${ARM_EXPLAIN.full} No selection is involved.`;
    case 'highest-loss':
      return ARM_EXPLAIN['highest-loss'];
    case 'random':
      return `a seeded random sample of steps, as many as the selection ${q} marks — is it the choice or just fewer steps?`;
    case 'rejected':
      return `steps the selection ${q} did not mark, as many as it marks — the “routine” steps alone.`;
    case 'critical': {
      const head = `loss only on the steps the selection ${q} marks (${selectionOrigin(shown)})`;
      if (shown !== trainsOn && isBaselineSelection(shown)) return `${head} — a baseline arm’s selection, shown to inspect it: not ATLaS, and not what the critical arm trains on (“${trainsOn}”).`;
      if (shown !== trainsOn) return `${head} — shown to compare; the critical arm trains on “${trainsOn}”.`;
      if (isBaselineSelection(shown)) return `${head} — the critical arm trains on this baseline selection, so this run compares ${shown} steps, not ATLaS’s critical steps.`;
      return `${head} — what the critical arm trains on: ATLaS.`;
    }
  }
}
