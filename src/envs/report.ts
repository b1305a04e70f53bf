// Evaluation report: per environment, split and task type — success rate, mean reward, mean
// steps and invalid-action rate, with the episode seeds.
import type { EpisodeResult } from './rollout.ts';
import type { Split } from './types.ts';

export interface ReportRow {
  env: string;
  split: Split;
  /** A task type, or "all" for the environment × split total. */
  taskType: string;
  episodes: number;
  successRate: number;
  meanReward: number;
  meanSteps: number;
  /** Invalid actions / all actions. */
  invalidRate: number;
  seeds: number[];
}

export interface EvalReport {
  policy: string;
  rows: ReportRow[];
}

function row(env: string, split: Split, taskType: string, rs: readonly EpisodeResult[]): ReportRow {
  const n = rs.length;
  const steps = rs.reduce((a, r) => a + r.steps, 0);
  return {
    env, split, taskType, episodes: n,
    successRate: n ? rs.filter((r) => r.success).length / n : 0,
    meanReward: n ? rs.reduce((a, r) => a + r.reward, 0) / n : 0,
    meanSteps: n ? steps / n : 0,
    invalidRate: steps ? rs.reduce((a, r) => a + r.invalidActions, 0) / steps : 0,
    seeds: rs.map((r) => r.seed),
  };
}

export function buildReport(policy: string, results: readonly EpisodeResult[]): EvalReport {
  const rows: ReportRow[] = [];
  const groups = new Map<string, EpisodeResult[]>();
  for (const r of results) {
    const k = `${r.env}\u0000${r.split}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const rs of groups.values()) {
    const { env, split } = rs[0];
    const types = [...new Set(rs.map((r) => r.taskType))].sort();
    for (const t of types) rows.push(row(env, split, t, rs.filter((r) => r.taskType === t)));
    rows.push(row(env, split, 'all', rs));
  }
  return { policy, rows };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A fixed-width table; seeds are listed under it (they can be long). */
export function formatReport(rep: EvalReport): string {
  const head = ['env', 'split', 'task type', 'episodes', 'success', 'reward', 'steps', 'invalid'];
  const body = rep.rows.map((r) => [r.env, r.split, r.taskType, String(r.episodes), pct(r.successRate), r.meanReward.toFixed(3), r.meanSteps.toFixed(1), pct(r.invalidRate)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [`policy: ${rep.policy}`, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  out.push('', 'episode seeds:');
  for (const r of rep.rows) if (r.taskType !== 'all') out.push(`  ${r.env} ${r.split} ${r.taskType}: ${r.seeds.join(' ')}`);
  return out.join('\n');
}
