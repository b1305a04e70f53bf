// The built-in environments' expert demonstrations, generated on the main thread (pure and
// fast: a few ms for dozens of episodes). Held-in episodes are the training data; held-out
// ones (unseen task types and the environment kept out of training) are for evaluation.
import { ENVIRONMENTS } from '../../envs/registry.ts';
import { generateDemos } from '../../envs/demo.ts';
import type { Trajectory } from '../../data/trajectory.ts';
import type { DataSource } from '../../experiment/protocol.ts';

export type BuiltinSource = Extract<DataSource, { kind: 'builtin' }>;

export const BUILTIN_ENV_NAMES: readonly string[] = ENVIRONMENTS.map((e) => e.name);

export function envSummary(name: string): { summary: string; splitNote: string; heldIn: readonly string[]; heldOut: readonly string[] } | undefined {
  const def = ENVIRONMENTS.find((e) => e.name === name);
  return def && { summary: def.summary, splitNote: def.splitNote, heldIn: def.taskTypes['held-in'], heldOut: def.taskTypes['held-out'] };
}

/** Held-out episode seeds start here so they never collide with training seeds. */
export const HELD_OUT_SEED_OFFSET = 100_000;

export function builtinDemos(src: BuiltinSource): Trajectory[] {
  const out: Trajectory[] = [];
  for (const name of src.envs) {
    const def = ENVIRONMENTS.find((e) => e.name === name);
    if (!def) throw new Error(`unknown built-in environment "${name}" (known: ${BUILTIN_ENV_NAMES.join(', ')})`);
    const opts = { mistakeRate: src.mistakeRate };
    if (def.taskTypes['held-in'].length) out.push(...generateDemos(def, src.trainEpisodes, src.seed, 'held-in', opts));
    if (def.taskTypes['held-out'].length) out.push(...generateDemos(def, src.heldOutEpisodes, src.seed + HELD_OUT_SEED_OFFSET, 'held-out', opts));
  }
  return out;
}

export function splitOf(t: Trajectory): 'held-in' | 'held-out' | undefined {
  return t.provenance?.split;
}
