// One parsed JSON value (a JSONL line, an array element, an object member) → trajectories.
// Detection per record (see docs/data.md):
//   string                                   → ReAct transcript
//   {version, steps, …}                      → canonical trajectory (validated)
//   {conversations|conversation: [...]}      → agentgym (from/value with item_id or loss),
//                                              agent-flan (role/content with loss), else sharegpt
//   {messages: [...]}                        → axolotl (a message has `train`), else openai
//   [ {role|from, content|value}, … ]        → a bare conversation (sharegpt)
//   any other object                         → a collection: each member is a record of its own
//                                              (e.g. {"react_put_0": "<transcript>", …})
import { turnsToTrajectory, type Turn, type TurnRole } from './conversation.ts';
import { trajectoryProblem } from './jsonl.ts';
import { parseTranscript } from './react.ts';
import { TRAJECTORY_VERSION, type Trajectory } from './trajectory.ts';

export const IMPORT_FORMATS = ['agentgym', 'sharegpt', 'agent-flan', 'openai', 'axolotl', 'llamafactory', 'react', 'trajectory'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface Where {
  file: string;
  /** 1-based line where the record starts (JSONL, or the line an array element starts on). */
  line?: number;
  /** JSON path of the record inside the file, e.g. "$[3]" or "$.react_put_0". */
  path?: string;
}

export interface Rejection extends Where {
  reason: string;
}

export interface RecordOptions {
  /** Only accept records of this format (others are rejected with the reason). */
  format?: ImportFormat;
  importedAt: string;
  /** Used when the record carries no id of its own. */
  idHint: string;
}

export interface RecordResult {
  trajectories: Trajectory[];
  rejected: Rejection[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
  return 'sharegpt';
}

const FORMAT_FAMILY: Record<ImportFormat, 'conversations' | 'messages' | 'react' | 'trajectory'> = {
  agentgym: 'conversations',
  sharegpt: 'conversations',
  'agent-flan': 'conversations',
  llamafactory: 'conversations',
  openai: 'messages',
  axolotl: 'messages',
  react: 'react',
  trajectory: 'trajectory',
};

function recordId(record: Record<string, unknown>, hint: string): string {
  for (const k of ['id', 'item_id', 'conversation_id', 'sample_id']) {
    const v = record[k];
    if ((typeof v === 'string' && v !== '') || typeof v === 'number') return String(v);
  }
  return hint;
}

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

export function recordLabel(where: Where): string {
  return [where.line !== undefined ? `line ${where.line}` : '', where.path && where.path !== '$' ? where.path : ''].filter(Boolean).join(' ') || 'whole file';
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
  const t: Trajectory = {
    version: TRAJECTORY_VERSION,
    id: key ?? opts.idHint,
    source: { format: 'react', file: where.file, record: recordLabel(where) },
    ...(variant && { taskType: variant[2] }),
    instruction: parsed.instruction,
    steps: parsed.steps,
    selections: [],
    provenance: { importedAt: opts.importedAt, ...(parsed.notes.length && { notes: parsed.notes }) },
  };
  return { trajectories: [t], rejected: [] };
}

const looksLikeMessages = (v: unknown[]) => v.length > 0 && v.every((m) => isObj(m) && ('role' in m || 'from' in m));

/** Converts one record; never throws. */
export function recordToTrajectories(value: unknown, where: Where, opts: RecordOptions, depth = 0, key?: string): RecordResult {
  const path = where.path ?? '$';
  const reject = (reason: string): RecordResult => ({ trajectories: [], rejected: [{ ...where, reason }] });
  const family = opts.format ? FORMAT_FAMILY[opts.format] : undefined;
  const wrongFormat = (found: string) => reject(`--format ${opts.format} expects ${family === 'react' ? 'a transcript string' : family === 'trajectory' ? 'a trajectory object' : `"${family}"`}, found ${found}`);

  if (typeof value === 'string') {
    if (family && family !== 'react') return wrongFormat('a string');
    return transcriptRecord(value, where, opts, key);
  }
  if (Array.isArray(value)) {
    if (looksLikeMessages(value)) {
      if (family && family !== 'conversations') return wrongFormat('a bare list of messages');
      return conversationRecord({ conversations: value }, value, 'conversations', where, opts.format ?? 'sharegpt', opts);
    }
    return reject(`${path} is a list but not a list of messages (expected objects with role/from)`);
  }
  if (!isObj(value)) return reject(`${path} is ${value === null ? 'null' : typeof value}, not a record`);

  if ('version' in value && 'steps' in value) {
    if (family && family !== 'trajectory') return wrongFormat('a canonical trajectory');
    const problem = trajectoryProblem(value);
    return problem ? reject(`not a valid trajectory: ${problem}`) : { trajectories: [value as unknown as Trajectory], rejected: [] };
  }
  if ('nSteps' in value && 'selector' in value && Array.isArray(value.steps)) {
    return reject('this is a labels record (atlas export --format labels), not a trajectory: import the trajectories and apply it with `atlas import <trajectories> --labels <this file>` (applyLabels in src/data/labels.ts)');
  }
  const convKey = CONVERSATION_KEYS.find((k) => k in value);
  if (convKey || 'messages' in value) {
    const listKey = convKey ?? 'messages';
    const list = value[listKey];
    if (!Array.isArray(list)) return reject(`${path}.${listKey} must be a list of messages (got ${list === null ? 'null' : typeof list})`);
    if (family && family !== (convKey ? 'conversations' : 'messages')) return wrongFormat(`"${listKey}"`);
    const detected: ImportFormat = opts.format ?? (convKey ? detectConversationFormat(value, list) : list.some((m) => isObj(m) && 'train' in m) ? 'axolotl' : 'openai');
    return conversationRecord(value, list, listKey, where, detected, opts);
  }
  // A collection of named records.
  const entries = Object.entries(value);
  if (entries.length === 0) return reject(`${path} is an empty object`);
  if (depth >= 2) return reject(`${path} has none of conversations, messages, steps (keys: ${entries.map(([k]) => k).slice(0, 8).join(', ')})`);
  const out: RecordResult = { trajectories: [], rejected: [] };
  for (const [k, v] of entries) {
    const childPath = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
    const child = recordToTrajectories(v, { ...where, path: childPath }, { ...opts, idHint: k }, depth + 1, k);
    out.trajectories.push(...child.trajectories);
    out.rejected.push(...child.rejected);
  }
  return out;
}
