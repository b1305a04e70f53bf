// The import pipeline, pure: bytes in (Node file stream or browser File.stream()), trajectories
// and a report out. The file's shape is detected from its start:
//   '['                       one JSON list, split element by element while streaming
//   '{' or '"' and the first (or second) line is complete JSON   → JSONL, one record per line
//   '{' otherwise             one (pretty-printed) JSON object, split member by member
//   anything else             a plain-text ReAct transcript (one per file, up to maxDocumentChars)
// Every record that fails is reported with file, line and/or JSON path and a reason; nothing
// good is dropped. After reading: step records of one episode are grouped (episodes.ts), runs
// whose record says they failed are left out unless kept, an "Observation:" label the file
// writes on its observations is removed (observationPrefix.ts), clashing ids are renamed,
// duplicates reported (duplicates.ts), and a file made only of records of an unread layout is
// refused once (unknownRecord.ts). See docs/data.md.
import { isCollection, recordToTrajectories, type ImportFormat, type Rejection, type Where } from './formats.ts';
import { BINARY_FILE_REASON, DEFAULT_MAX_LINE_CHARS, decodeText, looksBinary, splitTextLines, type ByteSource, type StreamOptions } from './lines.ts';
import { splitJsonContainer } from './jsonValues.ts';
import { findIdentical, makeIdsUnique, mergeActVariants, type Duplicate } from './duplicates.ts';
import { groupStepRecords, type EpisodeGrouping } from './episodes.ts';
import { stripObservationPrefixes } from './observationPrefix.ts';
import { STEP_PAIR_FORMAT } from './stepPairs.ts';
import { SEARCH_TRACE_FORMAT } from './searchTrace.ts';
import { refuseUnknownFile, rejectedRecords } from './unknownRecord.ts';
import type { Trajectory } from './trajectory.ts';

export type { Duplicate } from './duplicates.ts';

export interface ImportOptions extends StreamOptions {
  /** File name used in reports and ids. */
  file: string;
  /** Force one format; records of other shapes are rejected with the reason. */
  format?: ImportFormat;
  /** ReAct collections with `react_X` and `act_X` of the same task: 'merge' (default) keeps one
   *  trajectory when the act version is the react one without thoughts; 'keep' keeps both. */
  variants?: 'merge' | 'keep';
  /** Set on every imported trajectory without an env. */
  env?: string;
  /** Timestamp for provenance and import selections (default: now). */
  importedAt?: string;
  /** Largest plain-text transcript file kept whole, in characters (default 64 Mi). */
  maxDocumentChars?: number;
  /** Runs whose record says they failed (reward / success / result): 'leave-out' (default) does
   *  not import them, so they are not trained on; 'keep' imports them, marked in `outcome`. */
  failedRuns?: 'leave-out' | 'keep';
}

export interface ImportSummary {
  file: string;
  /** 'jsonl' | 'json-array' | 'json-object' | 'text' | 'empty' | 'binary' */
  layout: string;
  trajectories: number;
  steps: number;
  /** Trajectories per detected record format. */
  formats: Record<string, number>;
  /** Trajectories that carried per-turn training flags, per selection name ("import:loss", …). */
  selections: Record<string, number>;
  rejected: Rejection[];
  duplicates: Duplicate[];
  /** Trajectories whose import changed something (merged turns, …); each says what in provenance.notes. */
  withNotes: number;
  /** Ids that clashed and were renamed "<id>#<n>". */
  renamedIds: number;
  /** Records rejected (a rejection standing for several records counts each). */
  rejectedRecords: number;
  /** Step-level records (input/output pairs) and the episodes rebuilt from them. */
  stepRecords?: EpisodeGrouping;
  /** Runs whose record says they failed: left out (not imported) or kept (marked in outcome). */
  failedRuns?: { leftOut: number; kept: number; leftOutIds: string[] };
}

/** Formats whose records carry a run's outcome; a failed run is left out unless kept. */
const OUTCOME_FORMATS = new Set<string>([SEARCH_TRACE_FORMAT, STEP_PAIR_FORMAT]);
/** Chat formats whose observations may carry an "Observation:" label (decided per file). */
const CHAT_FORMATS = new Set<string>(['agentgym', 'sharegpt', 'openai-style', 'agent-flan', 'openai', 'axolotl', 'llamafactory']);
/** Failed-run ids listed in the summary (all are counted). */
const MAX_LISTED_FAILED = 100;

export interface ImportResult {
  trajectories: Trajectory[];
  summary: ImportSummary;
}

/** Top-level keys that make a JSON object one record rather than a collection of records. */
const RECORD_KEYS = new Set(['conversations', 'conversation', 'messages', 'steps']);
/** Characters of a top-level object held while deciding record vs. collection. */
const COLLECTION_AFTER = 16 * 1024 * 1024;

const basename = (file: string) => file.split(/[\\/]/).pop() || file;

/** Reads the start of the text until the layout can be decided, then replays it. */
async function peekLayout(chunks: AsyncIterator<string>, maxLine: number) {
  let head = '';
  let done = false;
  const need = () => {
    const first = head.search(/\S/);
    if (first < 0) return true;
    if (head[first] !== '{' && head[first] !== '"' && head[first] !== '[') return false;
    // Up to two complete lines decide JSONL vs. one JSON document (a list: its first MiB only).
    const limit = head[first] === '[' ? Math.min(maxLine, 1 << 20) : maxLine;
    const nl1 = head.indexOf('\n', first);
    if (nl1 < 0) return head.length < limit;
    const nl2 = head.indexOf('\n', nl1 + 1);
    return nl2 < 0 && head.length < limit;
  };
  while (!done && need()) {
    const r = await chunks.next();
    if (r.done) done = true;
    else head += r.value;
  }
  const first = head.search(/\S/);
  let layout: 'empty' | 'binary' | 'json-array' | 'jsonl' | 'json-object' | 'text';
  if (first < 0) layout = 'empty';
  else if (looksBinary(head)) layout = 'binary';
  else if (head[first] === '[') {
    // One JSON list, unless its first line is complete and the next line starts another list (JSONL of lists).
    const lines = head.slice(first).split('\n');
    let firstParses = false;
    try {
      JSON.parse(lines[0]);
      firstParses = true;
    } catch {
      /* a list spread over lines */
    }
    const next = lines.slice(1).find((l) => l.trim() !== '');
    layout = firstParses && next !== undefined && next.trimStart().startsWith('[') ? 'jsonl' : 'json-array';
  }
  else if (head[first] === '{' || head[first] === '"') {
    const lines = head.slice(first).split('\n').slice(0, 2);
    const parses = (l: string | undefined) => {
      if (l === undefined || l.trim() === '') return false;
      try {
        JSON.parse(l);
        return true;
      } catch {
        return false;
      }
    };
    const lastLineComplete = done || head.indexOf('\n', first) >= 0;
    layout = parses(lines[0]) || (lastLineComplete && lines[1] !== undefined && lines[1].trimStart().startsWith('{') && parses(lines[1])) ? 'jsonl' : 'json-object';
    // Text that merely starts with a quote is a transcript, not JSON.
    if (layout === 'json-object' && head[first] === '"') layout = 'text';
  } else layout = 'text';
  async function* replay(): AsyncGenerator<string> {
    if (head) yield head;
    if (done) return;
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
  }
  return { layout, text: replay() };
}

/** Imports every record of a byte source. Never throws on bad data (only on cancel). */
export async function importTrajectories(source: ByteSource, opts: ImportOptions): Promise<ImportResult> {
  const file = opts.file;
  const importedAt = opts.importedAt ?? new Date().toISOString();
  const maxLine = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const trajectories: Trajectory[] = [];
  const rejected: Rejection[] = [];
  const base = basename(file);
  const recordOpts = (idHint: string) => ({ format: opts.format, importedAt, idHint });
  const add = (value: unknown, where: Where, idHint: string) => {
    const r = recordToTrajectories(value, where, recordOpts(idHint));
    trajectories.push(...r.trajectories);
    rejected.push(...r.rejected);
  };
  const parseOrReject = (text: string, where: Where): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (err) {
      rejected.push({ ...where, reason: `invalid JSON: ${(err as Error).message.slice(0, 200)}` });
      return { ok: false };
    }
  };

  const peeked = await peekLayout(decodeText(source, opts)[Symbol.asyncIterator](), maxLine);
  const text = peeked.text;
  let layout: string = peeked.layout;
  if (layout === 'empty') rejected.push({ file, reason: 'the file is empty: no records' });
  else if (layout === 'binary') rejected.push({ file, line: 1, reason: `${BINARY_FILE_REASON}: expected JSON, JSONL or a text transcript` });
  else if (layout === 'jsonl') {
    // A file whose only line is one JSON object is a single JSON document: it is read line by
    // line (the same records either way) but reported as 'json-object', like its pretty-printed
    // or truncated copies.
    let nonEmptyLines = 0;
    let onlyLineIsObject = false;
    for await (const l of splitTextLines(text, maxLine)) {
      if (l.tooLong !== undefined || l.text.trim() !== '') {
        nonEmptyLines++;
        onlyLineIsObject = l.tooLong === undefined && l.text.trimStart().startsWith('{');
      }
      const where = { file, line: l.line };
      if (l.tooLong !== undefined) {
        rejected.push({ ...where, reason: `line is ${l.tooLong} characters long, over the ${maxLine}-character limit` });
        continue;
      }
      if (l.text.trim() === '') continue;
      if (l.text.includes('\u0000')) {
        rejected.push({ ...where, reason: 'line contains NUL bytes (binary data)' });
        continue;
      }
      const parsed = parseOrReject(l.text, where);
      if (parsed.ok) add(parsed.value, where, `${base}:${l.line}`);
    }
    if (nonEmptyLines === 1 && onlyLineIsObject) layout = 'json-object';
  } else if (layout === 'json-array' || layout === 'json-object') {
    // Several top-level values may follow each other; each is numbered in paths after the first.
    let container: 'array' | 'object' = 'array';
    let doc = 0;
    let docLine = 1;
    const root = () => (doc > 1 ? `(value ${doc})$` : '$');
    // A top-level object is either one record (it has a record key such as "conversations")
    // or a collection of named records. Members are held until that is known, or until
    // COLLECTION_AFTER characters without a record key, after which they stream as a collection.
    type Member = { key: string; value: unknown; line: number } | { bad: string; line: number; index: number };
    let members: Member[] = [];
    let mode: 'undecided' | 'record' | 'collection' = 'undecided';
    let held = 0;
    const memberPath = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${root()}.${key}` : `${root()}[${JSON.stringify(key)}]`);
    const emitMember = (m: Member) => {
      if ('bad' in m) {
        rejected.push({ file, line: m.line, path: `${root()} member ${m.index}`, reason: m.bad });
        return;
      }
      const r = recordToTrajectories(m.value, { file, line: m.line, path: memberPath(m.key) }, recordOpts(m.key), 1, m.key);
      trajectories.push(...r.trajectories);
      rejected.push(...r.rejected);
    };
    const finishObject = (truncated: boolean) => {
      // Undecided at the end: one record of some other layout (an ADaPT run, a step record, …)
      // unless most of its members are records of their own.
      if (mode === 'undecided' && !truncated) {
        const good = members.filter((m): m is Extract<Member, { key: string }> => 'key' in m);
        if (!isCollection(Object.fromEntries(good.map((m) => [m.key, m.value])))) mode = 'record';
      }
      if (mode === 'record') {
        const where = { file, line: docLine, path: root() };
        const bad = members.find((m): m is Extract<Member, { bad: string }> => 'bad' in m);
        if (truncated) rejected.push({ ...where, reason: 'the file ends inside this record (truncated JSON)' });
        else if (bad) rejected.push({ ...where, reason: `member ${bad.index} (line ${bad.line}): ${bad.bad}` });
        else add(Object.fromEntries(members.map((m) => [(m as { key: string }).key, (m as { value: unknown }).value])), where, doc > 1 ? `${base}#${doc}` : base.replace(/\.[^.]*$/, ''));
      } else members.forEach(emitMember);
      members = [];
    };
    for await (const ev of splitJsonContainer(text, maxLine)) {
      if (ev.kind === 'open') {
        container = ev.container;
        doc++;
        docLine = ev.line;
        members = [];
        mode = 'undecided';
        held = 0;
      } else if (ev.kind === 'close') {
        if (container === 'object') finishObject(false);
      } else if (ev.kind === 'trailing') {
        rejected.push({ file, line: ev.line, reason: 'unexpected text after the last top-level JSON value (expected "[" or "{"); the rest of the file was not read' });
      } else if (ev.kind === 'truncated') {
        if (container === 'array') rejected.push({ file, line: ev.line, path: `${root()}[${ev.index}]`, reason: 'the file ends inside this element (truncated JSON)' });
        else {
          const key = /^"((?:[^"\\]|\\.)*)"\s*:/.exec(ev.head);
          if (key && RECORD_KEYS.has(key[1])) mode = 'record';
          if (mode !== 'record') rejected.push({ file, line: ev.line, path: `${root()} member ${ev.index}`, reason: 'the file ends inside this member (truncated JSON)' });
          finishObject(true);
        }
      } else if (container === 'array') {
        const where = { file, line: ev.line, path: `${root()}[${ev.index}]` };
        if (ev.tooLong !== undefined) rejected.push({ ...where, reason: `element is ${ev.tooLong} characters long, over the ${maxLine}-character limit` });
        else {
          const parsed = parseOrReject(ev.text, where);
          if (parsed.ok) add(parsed.value, where, doc > 1 ? `${base}#${doc}.${ev.index}` : `${base}#${ev.index}`);
        }
      } else {
        let m: Member;
        if (ev.tooLong !== undefined) m = { bad: `${ev.tooLong} characters long, over the ${maxLine}-character limit`, line: ev.line, index: ev.index };
        else {
          try {
            const entry = Object.entries(JSON.parse(`{${ev.text}}`) as Record<string, unknown>);
            m = entry.length === 1 ? { key: entry[0][0], value: entry[0][1], line: ev.line } : { bad: 'not a "key": value pair', line: ev.line, index: ev.index };
          } catch (err) {
            m = { bad: `invalid JSON: ${(err as Error).message.slice(0, 200)}`, line: ev.line, index: ev.index };
          }
        }
        if (mode === 'collection') emitMember(m);
        else {
          members.push(m);
          held += ev.text.length;
          if ('key' in m && RECORD_KEYS.has(m.key)) mode = 'record';
          else if (mode === 'undecided' && held > COLLECTION_AFTER) {
            mode = 'collection';
            members.forEach(emitMember);
            members = [];
          }
        }
      }
    }
  } else {
    const max = opts.maxDocumentChars ?? 64 * 1024 * 1024;
    let whole = '';
    let size = 0;
    for await (const chunk of text) {
      size += chunk.length;
      if (size <= max) whole += chunk;
    }
    if (size > max) rejected.push({ file, reason: `a plain-text transcript of ${size} characters is over the ${max}-character limit; split it or convert it to JSONL` });
    else if (looksBinary(whole, whole.length)) rejected.push({ file, line: 1, reason: `${BINARY_FILE_REASON}: expected JSON, JSONL or a text transcript` });
    else add(whole, { file }, base.replace(/\.[^.]*$/, ''));
  }

  // Step records of one episode become one trajectory; failed runs are left out unless kept.
  const grouped = groupStepRecords(trajectories, STEP_PAIR_FORMAT);
  const failed = grouped.trajectories.filter((t) => OUTCOME_FORMATS.has(t.source.format) && t.outcome?.success === false);
  const leaveOut = opts.failedRuns !== 'keep' && failed.length > 0;
  const failedSet = new Set(failed);
  const candidates = leaveOut ? grouped.trajectories.filter((t) => !failedSet.has(t)) : grouped.trajectories;
  stripObservationPrefixes(candidates.filter((t) => CHAT_FORMATS.has(t.source.format)));
  const renamedIds = makeIdsUnique(candidates);
  const variants = opts.variants === 'keep' ? [] : mergeActVariants(candidates);
  const dropped = new Set(variants.map((d) => d.dropped));
  const kept = dropped.size ? candidates.filter((t) => !dropped.has(t.id)) : candidates;
  const duplicates: Duplicate[] = [...variants, ...findIdentical(kept)];
  if (opts.env) for (const t of kept) t.env ??= opts.env;
  const reported = refuseUnknownFile(rejected, kept.length + (leaveOut ? failed.length : 0));

  const formats: Record<string, number> = {};
  const selections: Record<string, number> = {};
  let steps = 0;
  let withNotes = 0;
  for (const t of kept) {
    formats[t.source.format] = (formats[t.source.format] ?? 0) + 1;
    for (const s of t.selections) selections[s.selector] = (selections[s.selector] ?? 0) + 1;
    steps += t.steps.length;
    if (t.provenance?.notes?.length) withNotes++;
  }
  return {
    trajectories: kept,
    summary: {
      file,
      layout,
      trajectories: kept.length,
      steps,
      formats,
      selections,
      rejected: reported,
      duplicates,
      withNotes,
      renamedIds,
      rejectedRecords: rejectedRecords(reported),
      ...(grouped.grouping && { stepRecords: grouped.grouping }),
      ...(failed.length > 0 && {
        failedRuns: { leftOut: leaveOut ? failed.length : 0, kept: leaveOut ? 0 : failed.length, leftOutIds: leaveOut ? failed.slice(0, MAX_LISTED_FAILED).map((t) => t.id) : [] },
      }),
    },
  };
}
