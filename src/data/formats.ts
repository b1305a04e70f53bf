// One parsed JSON value (a JSONL line, an array element, an object member) → trajectories.
// Objects are read by the first layout in OBJECT_LAYOUTS that matches (see docs/data.md):
//   {version, steps, …}                      → canonical trajectory (validated)
//   {nSteps, selector, steps}                → a labels record: rejected, pointing to --labels
//   {conversations|conversation: [...]}      → agentgym (from/value with item_id or loss),
//                                              agent-flan (role/content with loss), openai-style
//                                              (role/content), else sharegpt
//   {messages: [...]}                        → axolotl (a message has `train`), else openai
//   {input|instruction|prompt, output|…}     → step-pairs (one step of an episode; grouped later)
//   {trace|traj|…, problem|goal|…, reward}   → search-trace
// Other values:
//   string                                   → ReAct transcript
//   [ {role|from, content|value}, … ]        → a bare conversation (sharegpt / openai-style)
//   an object none of the layouts reads      → a collection when most of its members are
//                                              records (e.g. {"react_put_0": "<transcript>", …}),
//                                              otherwise rejected once, naming its fields
import { turnsToTrajectory, type Turn, type TurnRole } from './conversation.ts';
import { trajectoryProblem } from './jsonl.ts';
import { parseTranscript, transcriptStyle } from './reactTranscript.ts';
import { isObj, oneImportedTrajectory, recordId, recordLabel, type RecordOptions as BaseRecordOptions, type RecordResult, type Where } from './record.ts';
import { isSearchTrace, searchTraceRecord } from './searchTrace.ts';
import { isStepPair, stepPairRecord } from './stepPairs.ts';
import type { Trajectory } from './trajectory.ts';
import { unknownRecordRejection } from './unknownRecord.ts';

export type { Rejection, RecordResult, Where } from './record.ts';
export { recordLabel } from './record.ts';

export const IMPORT_FORMATS = ['agentgym', 'sharegpt', 'openai-style', 'agent-flan', 'openai', 'axolotl', 'llamafactory', 'react', 'step-pairs', 'search-trace', 'trajectory'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export type RecordOptions = BaseRecordOptions<ImportFormat>;

const ROLE_MAP: Record<string, TurnRole> = {
  system: 'system',
  human: 'user',
  user: 'user',
  observation: 'user',
  tool: 'user',
  function: 'user',
  ipython: 'user',
  environment: 'user',
  env: 'user',
  gpt: 'agent',
  assistant: 'agent',
  bot: 'agent',
  model: 'agent',
  chatgpt: 'agent',
  function_call: 'agent',
};

const CONVERSATION_KEYS = ['conversations', 'conversation'];
const MESSAGE_KEYS = new Set(['role', 'from', 'content', 'value', 'loss', 'weight', 'train', 'name', 'tool_calls']);

function contentText(m: Record<string, unknown>, where: string): string {
  const c = m.content !== undefined ? m.content : m.value;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    // OpenAI content parts: keep the text parts, refuse anything else rather than lose it.
    return c
      .map((p, j) => {
        if (isObj(p) && p.type === 'text' && typeof p.text === 'string') return p.text;
        throw new Error(`${where}.content[${j}] is not a text part`);
      })
      .join('');
  }
  if ((c === null || c === undefined) && Array.isArray(m.tool_calls)) return JSON.stringify(m.tool_calls);
  if (c === undefined) throw new Error(`${where} has no content/value`);
  throw new Error(`${where} content must be a string (got ${c === null ? 'null' : typeof c})`);
}

function messageFlag(m: Record<string, unknown>, where: string): { flag?: boolean; flagKey?: string } {
  for (const key of ['loss', 'train', 'weight'] as const) {
    const v = m[key];
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') return { flag: v, flagKey: key };
    if (v === 0 || v === 1) return { flag: v === 1, flagKey: key };
    throw new Error(`${where}.${key} must be true, false, 0, 1 or null (got ${JSON.stringify(v)?.slice(0, 40)})`);
  }
  return {};
}

/** Normalises a list of messages (any mix of role/from and content/value keys) into turns. */
export function messagesToTurns(list: unknown[], listPath: string): Turn[] {
  return list.map((m, i) => {
    const where = `${listPath}[${i}]`;
    if (!isObj(m)) throw new Error(`${where} is not an object`);
    const rawRole = m.role !== undefined ? m.role : m.from;
    if (typeof rawRole !== 'string') throw new Error(`${where} has no role/from string`);
    const key = rawRole.toLowerCase();
    const role = Object.hasOwn(ROLE_MAP, key) ? ROLE_MAP[key] : undefined; // not "constructor", "__proto__", …
    if (!role) throw new Error(`${where} has an unknown role "${rawRole.slice(0, 40)}"`);
    return { role, text: contentText(m, where), ...messageFlag(m, where) };
  });
}

function detectConversationFormat(record: Record<string, unknown>, list: unknown[]): ImportFormat {
  const msgs = list.filter(isObj);
  const hasLoss = msgs.some((m) => 'loss' in m);
  const usesFrom = msgs.some((m) => 'from' in m);
  if (usesFrom && ('item_id' in record || hasLoss)) return 'agentgym';
  if (!usesFrom && hasLoss) return 'agent-flan';
  // OpenAI-style role/content messages outside OpenAI's "messages" key are not ShareGPT.
  if (!usesFrom && msgs.length > 0 && msgs.every((m) => 'role' in m && !('value' in m))) return 'openai-style';
  return 'sharegpt';
}

/** What a record of each format looks like, for --format mismatch messages. */
const FORMAT_EXPECTS: Record<ImportFormat, string> = {
  agentgym: '"conversations"',
  sharegpt: '"conversations"',
  'openai-style': '"conversations"',
  'agent-flan': '"conversations"',
  llamafactory: '"conversations"',
  openai: '"messages"',
  axolotl: '"messages"',
  react: 'a transcript string',
  'step-pairs': 'input/output step records',
  'search-trace': 'a "trace" record with its goal',
  trajectory: 'a trajectory object',
};
const CONVERSATION_FORMATS: readonly ImportFormat[] = ['agentgym', 'sharegpt', 'openai-style', 'agent-flan', 'llamafactory'];

function envFromItemId(record: Record<string, unknown>): string | undefined {
  const m = typeof record.item_id === 'string' ? /^([a-z][a-z0-9]*)_\d+$/i.exec(record.item_id) : null;
  return m ? m[1].toLowerCase() : undefined;
}

function conversationRecord(record: Record<string, unknown>, list: unknown[], listKey: string, where: Where, detected: ImportFormat, opts: RecordOptions): RecordResult {
  const path = where.path ?? '$';
  const rejected = (reason: string): RecordResult => ({ trajectories: [], rejected: [{ ...where, reason }] });
  let turns: Turn[];
  try {
    turns = messagesToTurns(list, `${path}.${listKey}`);
  } catch (err) {
    return rejected((err as Error).message);
  }
  if (record.system !== undefined && typeof record.system !== 'string') return rejected(`${path}.system must be a string`);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (![listKey, 'id', 'item_id', 'system'].includes(k)) extra[k] = v;
  }
  // Message keys the model has no place for (e.g. "name") are kept per message index.
  const messageExtras: Record<string, Record<string, unknown>> = {};
  list.forEach((m, i) => {
    const unknown = Object.entries(m as Record<string, unknown>).filter(([k]) => !MESSAGE_KEYS.has(k));
    if (unknown.length) messageExtras[i] = Object.fromEntries(unknown);
  });
  if (Object.keys(messageExtras).length) extra.messageFields = messageExtras;
  if (typeof record.item_id === 'string' || typeof record.item_id === 'number') extra.item_id = record.item_id;
  const built = turnsToTrajectory(turns, {
    id: recordId(record, opts.idHint),
    source: { format: detected, file: where.file, record: recordLabel(where) },
    system: record.system as string | undefined,
    env: envFromItemId(record),
    extra,
    importedAt: opts.importedAt,
  });
  if ('reason' in built) return rejected(built.reason);
  return { trajectories: [built], rejected: [] };
}

function transcriptRecord(text: string, where: Where, opts: RecordOptions, key?: string): RecordResult {
  // A transcript needs a task and at least one agent turn; anything less is some other string
  // (a package.json's "node": ">=20.19", a title) and is rejected, naming where it was found.
  const notTranscript = (why: string): RecordResult => ({ trajectories: [], rejected: [{ ...where, reason: `${where.path ? `${where.path}: ` : ''}not a ReAct transcript (${why})` }] });
  const parsed = parseTranscript(text);
  if (!parsed) return notTranscript('no agent turns: expected "> action" lines or "Action:" / "Think:" lines');
  if (parsed.instruction === '') return notTranscript('no task: expected the instruction before the first agent line');
  if (parsed.steps.length === 0 || !parsed.steps.some((s) => (s.action ?? '').trim() !== '' || (s.thought ?? '').trim() !== '')) return notTranscript('no agent turn with an action or thought after the instruction');
  const variant = key ? /^(react|act)_([a-z]+)_\d+$/i.exec(key) : null;
  return oneImportedTrajectory({
    id: key ?? opts.idHint,
    source: { format: 'react', file: where.file, record: recordLabel(where) },
    ...(variant && { taskType: variant[2] }),
    instruction: parsed.instruction,
  }, parsed.steps, { importedAt: opts.importedAt, notes: parsed.notes });
}

const looksLikeMessages = (v: unknown[]) => v.length > 0 && v.every((m) => isObj(m) && ('role' in m || 'from' in m));

/** One way an object can be a record: which formats it yields, how it is recognised and read. */
interface ObjectLayout {
  /** The formats this layout produces (a forced --format accepts only its own layout). */
  formats: readonly ImportFormat[];
  /** What was found, for --format mismatch messages. */
  found(record: Record<string, unknown>): string;
  matches(record: Record<string, unknown>): boolean;
  read(record: Record<string, unknown>, where: Where, opts: RecordOptions): RecordResult;
}

const reject = (where: Where, reason: string): RecordResult => ({ trajectories: [], rejected: [{ ...where, reason }] });

/** The record layouts, tried in order; the first that matches reads the record. */
export const OBJECT_LAYOUTS: readonly ObjectLayout[] = [
  {
    formats: ['trajectory'],
    found: () => 'a canonical trajectory',
    matches: (r) => 'version' in r && 'steps' in r,
    read(r, where) {
      const problem = trajectoryProblem(r);
      return problem ? reject(where, `not a valid trajectory: ${problem}`) : { trajectories: [r as unknown as Trajectory], rejected: [] };
    },
  },
  {
    formats: [],
    found: () => 'a labels record',
    matches: (r) => 'nSteps' in r && 'selector' in r && Array.isArray(r.steps),
    read: (_r, where) => reject(where, 'this is a labels record (atlas export --format labels), not a trajectory: import the trajectories and apply it with `atlas import <trajectories> --labels <this file>` (applyLabels in src/data/labels.ts)'),
  },
  {
    formats: CONVERSATION_FORMATS,
    found: (r) => `"${CONVERSATION_KEYS.find((k) => k in r)}"`,
    matches: (r) => CONVERSATION_KEYS.some((k) => k in r),
    read(r, where, opts) {
      const listKey = CONVERSATION_KEYS.find((k) => k in r)!;
      const list = r[listKey];
      if (!Array.isArray(list)) return reject(where, `${where.path ?? '$'}.${listKey} must be a list of messages (got ${list === null ? 'null' : typeof list})`);
      return conversationRecord(r, list, listKey, where, opts.format ?? detectConversationFormat(r, list), opts);
    },
  },
  {
    formats: ['openai', 'axolotl'],
    found: () => '"messages"',
    matches: (r) => 'messages' in r,
    read(r, where, opts) {
      const list = r.messages;
      if (!Array.isArray(list)) return reject(where, `${where.path ?? '$'}.messages must be a list of messages (got ${list === null ? 'null' : typeof list})`);
      return conversationRecord(r, list, 'messages', where, opts.format ?? (list.some((m) => isObj(m) && 'train' in m) ? 'axolotl' : 'openai'), opts);
    },
  },
  { formats: ['step-pairs'], found: () => 'an input/output step record', matches: isStepPair, read: stepPairRecord },
  { formats: ['search-trace'], found: () => 'a search-trace record', matches: isSearchTrace, read: searchTraceRecord },
];

const layoutOf = (record: Record<string, unknown>) => OBJECT_LAYOUTS.find((l) => l.matches(record));

/** Whether a value is a record in its own right (for deciding what an unread object is). */
function isRecordLike(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return transcriptStyle(v) !== null;
  if (Array.isArray(v)) return looksLikeMessages(v);
  if (!isObj(v)) return false;
  return layoutOf(v) !== undefined || (depth < 2 && isCollection(v, depth + 1));
}

/** An object none of the layouts reads is a collection of named records when at least half of
 *  its members are records ({"react_put_0": "<transcript>", …}); otherwise it is one record of
 *  an unknown layout, and its members are its fields. */
export function isCollection(value: Record<string, unknown>, depth = 0): boolean {
  const members = Object.values(value);
  let records = members.filter((m) => isRecordLike(m, depth)).length;
  // Named records of one shape no layout reads ({"fixed_0": {…}, "fixed_1": {…}}) are records
  // too: each is then refused naming its fields, rather than the file naming "fixed_0", ….
  if (records === 0) records = largestShape(members);
  return records > 0 && 2 * records >= members.length;
}

/** How many members are objects with the most common set of keys (0 when fewer than two). */
function largestShape(members: unknown[]): number {
  const shapes = new Map<string, number>();
  let most = 0;
  for (const m of members) {
    if (!isObj(m)) continue;
    const keys = Object.keys(m);
    if (keys.length === 0) continue;
    const shape = JSON.stringify(keys.sort());
    const n = (shapes.get(shape) ?? 0) + 1;
    shapes.set(shape, n);
    if (n > most) most = n;
  }
  return most >= 2 ? most : 0;
}

/** Converts one record; never throws. */
export function recordToTrajectories(value: unknown, where: Where, opts: RecordOptions, depth = 0, key?: string): RecordResult {
  const path = where.path ?? '$';
  const wrongFormat = (found: string) => reject(where, `--format ${opts.format} expects ${FORMAT_EXPECTS[opts.format!]}, found ${found}`);
  const conversationsForced = opts.format !== undefined && CONVERSATION_FORMATS.includes(opts.format);

  if (typeof value === 'string') {
    if (opts.format && opts.format !== 'react') return wrongFormat('a string');
    return transcriptRecord(value, where, opts, key);
  }
  if (Array.isArray(value)) {
    if (looksLikeMessages(value)) {
      if (opts.format && !conversationsForced) return wrongFormat('a bare list of messages');
      return conversationRecord({ conversations: value }, value, 'conversations', where, opts.format ?? detectConversationFormat({}, value), opts);
    }
    return reject(where, `${path} is a list but not a list of messages (expected objects with role/from)`);
  }
  if (!isObj(value)) return reject(where, `${path} is ${value === null ? 'null' : typeof value}, not a record`);

  const layout = layoutOf(value);
  if (layout) {
    if (opts.format && layout.formats.length > 0 && !layout.formats.includes(opts.format)) return wrongFormat(layout.found(value));
    return layout.read(value, where, opts);
  }
  if (Object.keys(value).length === 0) return reject(where, `${path} is an empty object`);
  if (!isCollection(value, depth)) return { trajectories: [], rejected: [unknownRecordRejection(value, where)] };
  // A collection of named records; members that are plain scalars (counts, flags) are fields, not records.
  const out: RecordResult = { trajectories: [], rejected: [] };
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) continue;
    const childPath = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
    const child = recordToTrajectories(v, { ...where, path: childPath }, { ...opts, idHint: k }, depth + 1, k);
    out.trajectories.push(...child.trajectories);
    out.rejected.push(...child.rejected);
  }
  return out;
}
