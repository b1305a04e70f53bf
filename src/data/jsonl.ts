// Trajectories JSONL: one Trajectory per line, each with `version`. Reading validates every
// line and names file:line and the reason for the first bad one (or collects them all).
import { CRITICAL_CATEGORIES, TRAJECTORY_VERSION, type Trajectory } from './trajectory.ts';
import { splitLines, type ByteSource, type StreamOptions } from './lines.ts';

const STEP_ROLES = new Set<string>([...CRITICAL_CATEGORIES, 'routine']);
const CATEGORIES = new Set<string>(CRITICAL_CATEGORIES);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (o: Record<string, unknown>, k: string) => o[k] === undefined || typeof o[k] === 'string';

/** Why `value` is not a valid Trajectory, or null when it is. Checks shape and types, not meaning. */
export function trajectoryProblem(value: unknown): string | null {
  if (!isObj(value)) return 'not a JSON object';
  if (value.version !== TRAJECTORY_VERSION) return `version must be ${TRAJECTORY_VERSION} (got ${JSON.stringify(value.version)})`;
  if (typeof value.id !== 'string' || value.id === '') return 'id must be a non-empty string';
  if (!isObj(value.source) || typeof value.source.format !== 'string') return 'source.format must be a string';
  for (const k of ['env', 'taskType', 'system', 'activeSelection']) if (!optString(value, k)) return `${k} must be a string`;
  if (typeof value.instruction !== 'string') return 'instruction must be a string';
  if (value.preamble !== undefined) {
    if (!Array.isArray(value.preamble)) return 'preamble must be an array';
    for (const [i, p] of value.preamble.entries()) {
      if (!isObj(p) || (p.role !== 'user' && p.role !== 'agent') || typeof p.text !== 'string') return `preamble[${i}] must be {role: "user"|"agent", text}`;
    }
  }
  if (!Array.isArray(value.steps)) return 'steps must be an array';
  for (const [i, s] of value.steps.entries()) {
    if (!isObj(s)) return `steps[${i}] is not an object`;
    if (typeof s.agent !== 'string') return `steps[${i}].agent must be a string`;
    if (typeof s.observation !== 'string') return `steps[${i}].observation must be a string`;
    if (!optString(s, 'thought') || !optString(s, 'action')) return `steps[${i}].thought/action must be strings`;
  }
  if (!Array.isArray(value.selections)) return 'selections must be an array';
  for (const [i, sel] of value.selections.entries()) {
    if (!isObj(sel)) return `selections[${i}] is not an object`;
    if (typeof sel.selector !== 'string') return `selections[${i}].selector must be a string`;
    if (sel.status !== 'labelled' && sel.status !== 'failed') return `selections[${i}].status must be "labelled" or "failed"`;
    if (!Array.isArray(sel.critical)) return `selections[${i}].critical must be an array`;
    for (const [j, c] of sel.critical.entries()) {
      if (!isObj(c) || !Number.isInteger(c.step) || (c.step as number) < 0 || (c.step as number) >= value.steps.length) {
        return `selections[${i}].critical[${j}].step must be a step index in 0..${value.steps.length - 1}`;
      }
      if (c.category !== undefined && !CATEGORIES.has(c.category as string)) return `selections[${i}].critical[${j}].category ${JSON.stringify(c.category)} is not one of ${CRITICAL_CATEGORIES.join(', ')}`;
    }
    if (sel.budget !== undefined && typeof sel.budget !== 'number') return `selections[${i}].budget must be a number`;
  }
  if (value.groundTruth !== undefined) {
    if (!Array.isArray(value.groundTruth) || value.groundTruth.length !== value.steps.length) return 'groundTruth must have one role per step';
    if (!value.groundTruth.every((r) => STEP_ROLES.has(r as string))) return 'groundTruth holds an unknown role';
  }
  return null;
}

export function serializeTrajectory(t: Trajectory): string {
  return JSON.stringify(t);
}

export function trajectoriesToJsonl(ts: Iterable<Trajectory>): string {
  let out = '';
  for (const t of ts) out += serializeTrajectory(t) + '\n';
  return out;
}

export interface JsonlIssue {
  file: string;
  line: number;
  reason: string;
}

/** Parses one line; throws an Error naming file:line and the reason. */
export function parseTrajectoryLine(line: string, file: string, lineNo: number): Trajectory {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`${file}:${lineNo}: invalid JSON (${(err as Error).message})`);
  }
  const problem = trajectoryProblem(value);
  if (problem) throw new Error(`${file}:${lineNo}: not a trajectory: ${problem}`);
  return value as Trajectory;
}

/** Reads trajectories JSONL text. strict (default): the first bad line throws; otherwise bad lines are collected. */
export function parseTrajectoriesJsonl(text: string, file = '<text>', strict = true): { trajectories: Trajectory[]; issues: JsonlIssue[] } {
  const trajectories: Trajectory[] = [];
  const issues: JsonlIssue[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    try {
      trajectories.push(parseTrajectoryLine(line, file, i + 1));
    } catch (err) {
      if (strict) throw err;
      issues.push({ file, line: i + 1, reason: (err as Error).message.replace(`${file}:${i + 1}: `, '') });
    }
  }
  return { trajectories, issues };
}

/** Streaming variant: yields trajectories one by one; the first bad line throws (file:line: reason). */
export async function* readTrajectoriesJsonl(source: ByteSource, file: string, opts: StreamOptions = {}): AsyncGenerator<Trajectory> {
  for await (const { text, line } of splitLines(source, opts)) {
    if (text.trim() === '') continue;
    yield parseTrajectoryLine(text, file, line);
  }
}
