// What the "Where the loss goes" view shows: an arm, and the selection that arm's steps are
// based on — by default the one the critical arm trains on; after a baseline selector run in
// the Select step, that baseline selection, so the user sees what they ran without it ever
// becoming the critical arm's.
import type { Arm } from '../../data/arms.ts';

class MaskViewState {
  arm = $state<Arm>('critical');
  /** A selection shown instead of the critical arm's (null: the critical arm's). */
  inspected = $state<string | null>(null);

  showArm(arm: Arm): void {
    this.arm = arm;
  }

  /** Shows `name` on the critical arm's tokens (a selection run to look at it). */
  inspect(name: string): void {
    this.inspected = name;
    this.arm = 'critical';
  }

  /** Back to the selection the critical arm trains on. */
  showCriticalArmSelection(): void {
    this.inspected = null;
  }
}

export const maskView = new MaskViewState();
