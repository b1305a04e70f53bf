// Search-trace records: one run of an agent as {"problem": <the goal>, "commands": <context
// the agent was given>, "trace": <its transcript>, "reward": <how it ended>, …} (ADaPT's
// results files; also {"name", "result", "traj"} records whose transcript holds the task).
//   - The goal field (problem / goal / task / question / instruction) is the task; a
//     "commands" field comes before it in the instruction. Without a goal field the task is the
//     transcript's text before its first agent line.
//   - The trace is a prompt-style transcript that starts right after the prompt's ">", so its
//     first line is an agent turn without the ">"; an empty ">" line ends one executor run and
//     the next line starts the next run's first agent turn. Those turns get their ">" back, so
//     every action is split from its observation.
//   - success / result / won / reward give the outcome (outcome.ts); failed runs are marked and
//     the importer leaves them out unless asked to keep them.
import { outcomeWords, readOutcome, OUTCOME_KEYS } from './outcome.ts';
import { parseTranscript } from './reactTranscript.ts';
import { extraFields, oneImportedTrajectory, recordId, recordLabel, recordPrefix, type RecordOptions, type RecordResult, type Where } from './record.ts';

export const SEARCH_TRACE_FORMAT = 'search-trace';
const TRACE_KEYS = ['trace', 'traj', 'transcript', 'trajectory'] as const;
const GOAL_KEYS = ['problem', 'goal', 'task', 'question', 'instruction'] as const;
const CONTEXT_KEYS = ['commands'] as const;

const stringKey = (record: Record<string, unknown>, keys: readonly string[]) => keys.find((k) => typeof record[k] === 'string');

/** An object with a "trace", "traj" or "transcript" field, or a "trajectory" string. */
export function isSearchTrace(record: Record<string, unknown>): boolean {
  return TRACE_KEYS.some((k) => k in record && (k !== 'trajectory' || typeof record[k] === 'string'));
}

const AGENT_LINE = /^>(?:[ \t]+\S|\p{L})/u;
const EMPTY_PROMPT = /^[ \t]*>[ \t]*$/;

/** Gives executor runs' first turns their ">" back; drops the empty ">" that ends each run. */
export function normaliseTrace(trace: string, startsWithAgent: boolean): { text: string; runs: number } {
  const out: string[] = [];
  let expectAgent = startsWithAgent;
  let runs = 0;
  for (const line of trace.replace(/\r\n?/g, '\n').split('\n')) {
    if (EMPTY_PROMPT.test(line)) {
      expectAgent = true;
      continue;
    }
    if (expectAgent) {
      if (line.trim() === '') continue;
      const t = line.trim();
      out.push(AGENT_LINE.test(t) ? t : `> ${t}`);
      expectAgent = false;
      runs++;
      continue;
    }
    if (runs === 0 && AGENT_LINE.test(line)) runs = 1;
    out.push(line);
  }
  return { text: out.join('\n'), runs };
}

export function searchTraceRecord(record: Record<string, unknown>, where: Where, opts: RecordOptions): RecordResult {
  const path = where.path ?? '$';
  const reject = (reason: string): RecordResult => ({ trajectories: [], rejected: [{ ...where, reason }] });
  const traceKey = TRACE_KEYS.find((k) => k in record)!;
  if (typeof record[traceKey] !== 'string') return reject(`${path}.${traceKey} must be the run's transcript as a string (got ${record[traceKey] === null ? 'null' : Array.isArray(record[traceKey]) ? 'a list' : typeof record[traceKey]})`);
  const goalKey = stringKey(record, GOAL_KEYS);
  const contextKey = stringKey(record, CONTEXT_KEYS);
  const trace = record[traceKey] as string;
  const goal = goalKey ? (record[goalKey] as string).trim() : '';
  const outcome = readOutcome(record, path);
  if ('error' in outcome) return reject(outcome.error);
  const failedWords = outcome.outcome && !outcome.outcome.success ? `; the run failed: ${outcomeWords(outcome.outcome, outcome.key)}` : '';
  if (trace.trim() === '') return reject(`${path}.${traceKey} is empty: the run recorded no steps${failedWords}`);

  // With a goal field the trace starts at the agent's first turn, unless it repeats the task itself.
  const lines = trace.split('\n');
  const firstLine = lines.find((l) => l.trim() !== '') ?? '';
  const firstAgent = lines.findIndex((l) => AGENT_LINE.test(l));
  const opening = lines.slice(0, firstAgent < 0 ? lines.length : firstAgent).join('\n');
  const startsWithAgent = goal !== '' && !AGENT_LINE.test(firstLine.trim()) && !opening.includes(goal);
  const { text, runs } = normaliseTrace(trace, startsWithAgent);
  const parsed = parseTranscript(text);
  if (!parsed || parsed.steps.length === 0) return reject(`${path}.${traceKey}: not a transcript (no agent turns: expected "> action" lines or "Action:" / "Think:" lines)`);
  const context = contextKey ? (record[contextKey] as string).trim() : '';
  const task = parsed.instruction !== '' ? parsed.instruction : goal;
  if (task === '') return reject(`${recordPrefix(where)}a trace with no goal: expected a "problem" (or goal / task / question) field, or the task before the trace's first agent line`);
  const instruction = context && !task.includes(context) ? `${context}\n\n${task}` : task;

  const notes = [...parsed.notes];
  if (goalKey && parsed.instruction === '') notes.push(`the task is the record's "${goalKey}"${context ? ` after its "${contextKey}"` : ''}`);
  if (runs > 1) notes.push(`the trace holds ${runs} executor runs (sub-tasks), each starting after an empty ">"; they were joined in order`);
  if (failedWords) notes.push(`the record's ${outcomeWords(outcome.outcome, outcome.key)} marks this run as failed`);
  const extra = extraFields(record, [traceKey, ...(goalKey ? [goalKey] : []), ...(contextKey ? [contextKey] : []), ...(outcome.key ? [outcome.key] : []), 'id', ...(typeof record.name === 'string' ? ['name'] : [])]);
  return oneImportedTrajectory({
    id: recordId(record, typeof record.name === 'string' && record.name !== '' ? record.name : opts.idHint),
    source: { format: SEARCH_TRACE_FORMAT, file: where.file, record: recordLabel(where) },
    instruction,
  }, parsed.steps, { importedAt: opts.importedAt, notes, outcome: outcome.outcome, extra });
}

/** Outcome keys, for docs and layout descriptions. */
export const SEARCH_TRACE_KEYS = { trace: TRACE_KEYS, goal: GOAL_KEYS, context: CONTEXT_KEYS, outcome: OUTCOME_KEYS };
