// What every record importer shares: where a record was found, why one was rejected, the
// options and the result of converting one record, and the small helpers for ids and labels.
import { TRAJECTORY_VERSION, type Step, type Trajectory } from './trajectory.ts';

export interface Where {
  file: string;
  /** 1-based line where the record starts (JSONL, or the line an array element starts on). */
  line?: number;
  /** JSON path of the record inside the file, e.g. "$[3]" or "$.react_put_0". */
  path?: string;
}

export interface Rejection extends Where {
  reason: string;
  /** The record's own field names, when it was rejected because its layout is not one the
   *  importer reads (so a file of such records can be refused once, naming them). */
  fields?: string[];
  /** How many records this rejection stands for (absent: one). */
  records?: number;
}

export interface RecordOptions<F extends string = string> {
  /** Only accept records of this format (others are rejected with the reason). */
  format?: F;
  importedAt: string;
  /** Used when the record carries no id of its own. */
  idHint: string;
}

export interface RecordResult {
  trajectories: Trajectory[];
  rejected: Rejection[];
}

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function recordId(record: Record<string, unknown>, hint: string): string {
  for (const k of ['id', 'item_id', 'conversation_id', 'sample_id']) {
    const v = record[k];
    if ((typeof v === 'string' && v !== '') || typeof v === 'number') return String(v);
  }
  return hint;
}

export function recordLabel(where: Where): string {
  return [where.line !== undefined ? `line ${where.line}` : '', where.path && where.path !== '$' ? where.path : ''].filter(Boolean).join(' ') || 'whole file';
}

/** "$.env_0: " before a message about a whole record found inside a collection; "" at the top. */
export function recordPrefix(where: Where): string {
  return where.path && where.path !== '$' ? `${where.path}: ` : '';
}

/** "a, b and c" for field lists in messages (at most `max` names, then "and N more"). */
export function listFields(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map((n) => JSON.stringify(n.length > 40 ? `${n.slice(0, 40)}…` : n));
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length <= 1 ? shown.join('') : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** Keys of a record the model has no place for, kept in `extra` so nothing is lost. */
export function extraFields(record: Record<string, unknown>, used: readonly string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!used.includes(k)) extra[k] = v;
  return extra;
}

/** What a record importer knows before the steps: id, source, and the task's texts. */
export type ImportedHead = Pick<Trajectory, 'id' | 'source' | 'env' | 'taskType' | 'system' | 'instruction'>;

/** A record that yields one trajectory: `head`, the parsed steps, no selections yet, the
 *  record's outcome, when it was imported (with what the importer changed on the way in) and
 *  the record's fields the model has no place for. Absent parts leave their keys out. */
export function oneImportedTrajectory(head: ImportedHead, steps: Step[], tail: { importedAt: string; notes: string[]; outcome?: Trajectory['outcome']; extra?: Record<string, unknown> }): RecordResult {
  const t: Trajectory = {
    version: TRAJECTORY_VERSION,
    ...head,
    steps,
    selections: [],
    ...(tail.outcome && { outcome: tail.outcome }),
    provenance: { importedAt: tail.importedAt, ...(tail.notes.length && { notes: tail.notes }) },
    ...(tail.extra && Object.keys(tail.extra).length > 0 && { extra: tail.extra }),
  };
  return { trajectories: [t], rejected: [] };
}
