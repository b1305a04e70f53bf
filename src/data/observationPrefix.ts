// Chat files that write "Observation: …" at the start of every environment turn: the prefix is
// a label, and the trajectory already knows which text is an observation (exports, prompts and
// the page label it themselves), so keeping it would show and train "Observation:" twice.
// Decided per file: when most non-empty observations of the file's chat trajectories start
// with the label, it is removed wherever it appears, with a note on each trajectory changed.
import type { Trajectory } from './trajectory.ts';

const PREFIX = /^[ \t]*observation(?:[ \t]+\d+)?[ \t]*:[ \t]*/i;

/** Strips the prefix in place from the given trajectories (all from one file); returns how many changed. */
export function stripObservationPrefixes(ts: readonly Trajectory[]): number {
  let nonEmpty = 0;
  let prefixed = 0;
  for (const t of ts) {
    for (const s of t.steps) {
      if (s.observation.trim() === '') continue;
      nonEmpty++;
      if (PREFIX.test(s.observation)) prefixed++;
    }
  }
  if (prefixed === 0 || 2 * prefixed < nonEmpty) return 0;
  let changed = 0;
  for (const t of ts) {
    let n = 0;
    for (const s of t.steps) {
      if (!PREFIX.test(s.observation)) continue;
      s.observation = s.observation.replace(PREFIX, '');
      n++;
    }
    if (n === 0) continue;
    changed++;
    (t.provenance ??= {}).notes = [...(t.provenance.notes ?? []), `the "Observation:" label at the start of ${n} observation(s) was removed (the file labels ${prefixed} of its ${nonEmpty} observations that way; the label is shown and rendered separately)`];
  }
  return changed;
}
