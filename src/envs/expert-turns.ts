// What every expert does alike when it writes a turn: the first turn carries the opening
// plan (role 'plan'), the turn after a deliberate mistake carries the correction (role
// 'self-correction'), and mistakes are drawn with the configured probability, at most a few
// per episode. Random numbers are drawn only when a mistake is possible, so a seed gives
// the same episode whatever the mistake rate of turns that cannot err. And how every expert
// is driven: a script (a generator of turns) that is handed each observation.
import type { Rng } from '../data/rng.ts';
import type { StepRole } from '../data/trajectory.ts';
import type { Expert, ExpertTurn } from './types.ts';

/** An expert's episode as a generator: yields a turn, receives the observation it led to. */
export type ExpertScript = Generator<ExpertTurn, void, string>;

/** The Expert that plays `script`: the first turn needs no observation (the reset's one is
 *  already in the script's world), each later one is given the last observation. */
export function expertFromScript(env: string, script: ExpertScript): Expert {
  let started = false;
  return {
    next(observation: string): ExpertTurn {
      const r = started ? script.next(observation) : script.next();
      started = true;
      if (r.done) throw new Error(`${env} expert: no further turn (the episode should have ended)`);
      return r.value;
    },
  };
}

export class ExpertTurns {
  private pending: { text: string; role: StepRole } | null = null;
  private mistakes = 0;

  constructor(
    private readonly rng: Rng,
    private readonly mistakeRate: number,
    private readonly maxMistakes = 2,
  ) {}

  /** The next turn's thought starts with `text`, and the turn takes `role`. */
  prefixNext(text: string, role: StepRole): void {
    this.pending = { text, role };
  }

  get hasPending(): boolean {
    return this.pending !== null;
  }

  /** Whether to make a mistake now (counts it when yes). */
  maybeMistake(): boolean {
    return this.mistakes < this.maxMistakes && this.rng.next() < this.mistakeRate && (this.mistakes++, true);
  }

  turn(thought: string, action: string, role: StepRole): ExpertTurn {
    if (this.pending === null) return { thought, action, role };
    const t = { thought: `${this.pending.text} ${thought}`.trim(), action, role: this.pending.role };
    this.pending = null;
    return t;
  }
}
