// The built-in environments' expert demonstrations, generated on the main thread (pure and
// fast: a few ms for dozens of episodes). Held-in episodes are the training data; held-out
// ones (unseen task types and the environment kept out of training) are for evaluation.
import { ENVIRONMENTS } from '../../envs/registry.ts';
import { builtinTrajectories } from '../../experiment/data.ts';
import type { Trajectory } from '../../data/trajectory.ts';
import type { DataSource } from '../../experiment/protocol.ts';

export type BuiltinSource = Extract<DataSource, { kind: 'builtin' }>;

export const BUILTIN_ENV_NAMES: readonly string[] = ENVIRONMENTS.map((e) => e.name);

export function envSummary(name: string): { summary: string; splitNote: string; heldIn: readonly string[]; heldOut: readonly string[] } | undefined {
  const def = ENVIRONMENTS.find((e) => e.name === name);
  return def && { summary: def.summary, splitNote: def.splitNote, heldIn: def.taskTypes['held-in'], heldOut: def.taskTypes['held-out'] };
}

/** Exactly the demonstrations the experiment runner trains and evaluates on for this source
 *  (src/experiment/data.ts): held-in episodes first, then the held-out ones. */
export function builtinDemos(src: BuiltinSource): Trajectory[] {
  const { train, heldOut } = builtinTrajectories(src);
  return [...train, ...heldOut];
}

export function splitOf(t: Trajectory): 'held-in' | 'held-out' | undefined {
  return t.provenance?.split;
}
