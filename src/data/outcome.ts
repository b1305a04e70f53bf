// A run's outcome from the fields a record keeps it in: `success`, `result`, `won` (true/false
// or 1/0) or `reward` (true/false, or a number: success only at the full reward, 1 or more —
// WebShop-style partial rewards are failed runs). The first of those keys present decides.
import type { Trajectory } from './trajectory.ts';

export const OUTCOME_KEYS = ['success', 'result', 'won', 'reward'] as const;

export type OutcomeReading = { outcome?: Trajectory['outcome']; key?: string } | { error: string };

export function readOutcome(record: Record<string, unknown>, path = '$'): OutcomeReading {
  for (const key of OUTCOME_KEYS) {
    const v = record[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') return { outcome: { success: v }, key };
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (key === 'reward') return { outcome: { success: v >= 1, reward: v }, key };
      if (v === 0 || v === 1) return { outcome: { success: v === 1 }, key };
    }
    return { error: `${path}.${key} must be true, false or a number (got ${JSON.stringify(v)?.slice(0, 40)})` };
  }
  return {};
}

/** "reward 0", "success false": the field and value that marked a run as failed, for notes. */
export function outcomeWords(o: Trajectory['outcome'], key: string | undefined): string {
  if (!o) return '';
  return `${key ?? 'outcome'} ${key === 'reward' && o.reward !== undefined ? o.reward : o.success}`;
}
