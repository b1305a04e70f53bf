// Step-level records come one per step: each holds the episode's history so far and the next
// step. Records of one episode share the task (system text and instruction) and each one's
// steps are a prefix of the longest one's, so the longest history + output is the trajectory.
// Records of the same task whose steps disagree are separate episodes (another attempt) and
// stay separate trajectories.
import type { Step, Trajectory } from './trajectory.ts';

export interface EpisodeGrouping {
  /** Step records read. */
  records: number;
  /** Trajectories rebuilt from them. */
  episodes: number;
}

const sameText = (a: string, b: string) => a.trim() === b.trim();

/** `short`'s steps begin `long`'s. The last step of `short` is its record's output: it may not
 *  have its observation yet, and a thought there may be the start of a longer step in `long`
 *  (a thought answered by "OK." joins the next action's step). */
function isPrefix(short: Step[], long: Step[]): boolean {
  if (short.length > long.length) return false;
  const last = short.length - 1;
  return short.every((s, i) => {
    if (i < last) return sameText(s.agent, long[i].agent) && sameText(s.observation, long[i].observation);
    const agentFits = sameText(s.agent, long[i].agent) || long[i].agent.trim().startsWith(s.agent.trim());
    return agentFits && (s.observation.trim() === '' || sameText(s.observation, long[i].observation));
  });
}

const taskKey = (t: Trajectory) => `${(t.system ?? '').trim()}\u0000${t.instruction.trim()}`;

/** Replaces the step records of `format` in `ts` by one trajectory per episode (in the order of
 *  each episode's first record); other trajectories pass through unchanged. */
export function groupStepRecords(ts: Trajectory[], format: string): { trajectories: Trajectory[]; grouping?: EpisodeGrouping } {
  const records = ts.filter((t) => t.source.format === format);
  if (records.length === 0) return { trajectories: ts };
  const byTask = new Map<string, Trajectory[][]>();
  const episodeOf = new Map<Trajectory, Trajectory[]>();
  // Longest first, so each record joins the first longer episode it is a prefix of.
  const ordered = records.map((t, i) => ({ t, i })).sort((a, b) => b.t.steps.length - a.t.steps.length || a.i - b.i);
  for (const { t } of ordered) {
    const episodes = byTask.get(taskKey(t)) ?? [];
    byTask.set(taskKey(t), episodes);
    const home = episodes.find((e) => isPrefix(t.steps, e[0].steps));
    if (home) home.push(t);
    else episodes.push([t]);
    episodeOf.set(t, home ?? episodes[episodes.length - 1]);
  }
  const position = new Map(ts.map((t, i) => [t, i]));
  const emitted = new Set<Trajectory[]>();
  const out: Trajectory[] = [];
  let episodes = 0;
  for (const t of ts) {
    const episode = episodeOf.get(t);
    if (!episode) {
      out.push(t);
      continue;
    }
    if (emitted.has(episode)) continue;
    emitted.add(episode);
    episodes++;
    out.push(episode.length > 1 ? rebuilt(episode, position) : episode[0]);
  }
  return { trajectories: out, grouping: { records: records.length, episodes } };
}

function rebuilt(episode: Trajectory[], position: Map<Trajectory, number>): Trajectory {
  const [longest] = episode;
  const labels = [...episode].sort((a, b) => position.get(a)! - position.get(b)!).map((t) => t.source.record ?? '?');
  const shown = labels.length > 6 ? `${labels.slice(0, 3).join(', ')}, …, ${labels.slice(-2).join(', ')}` : labels.join(', ');
  const note = `rebuilt from ${episode.length} step records of one episode (${shown}): the longest history and its output give the ${longest.steps.length} steps`;
  return { ...longest, provenance: { ...longest.provenance, notes: [...(longest.provenance?.notes ?? []), note] } };
}
