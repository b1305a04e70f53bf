// The layouts an imported file may have, each read into records (importer.ts): the layout is
// decided from the file's start (peekLayout), then
//   jsonl        one record per line
//   json-array   one JSON list (or several), element by element while streaming
//   json-object  one JSON object: a record, or a collection of named records, member by member
//   text         a plain-text ReAct transcript (one per file, up to maxDocumentChars)
// Every value that cannot be read is rejected with file, line and/or JSON path and a reason.
import { isCollection, recordToTrajectories, type ImportFormat, type Rejection, type Where } from './formats.ts';
import { BINARY_FILE_REASON, looksBinary, splitTextLines } from './lines.ts';
import { splitJsonContainer } from './jsonValues.ts';
import type { Trajectory } from './trajectory.ts';

export type Layout = 'empty' | 'binary' | 'json-array' | 'jsonl' | 'json-object' | 'text';

/** Top-level keys that make a JSON object one record rather than a collection of records. */
const RECORD_KEYS = new Set(['conversations', 'conversation', 'messages', 'steps']);
/** Characters of a top-level object held while deciding record vs. collection. */
const COLLECTION_AFTER = 16 * 1024 * 1024;

/** Where a file's records go: the trajectories read, and every rejection. */
export class RecordSink {
  readonly trajectories: Trajectory[] = [];
  readonly rejected: Rejection[] = [];
  readonly base: string;

  constructor(
    readonly file: string,
    private readonly opts: { format?: ImportFormat; importedAt: string },
  ) {
    this.base = file.split(/[\\/]/).pop() || file;
  }

  recordOpts(idHint: string) {
    return { format: this.opts.format, importedAt: this.opts.importedAt, idHint };
  }

  add(value: unknown, where: Where, idHint: string): void {
    this.take(recordToTrajectories(value, where, this.recordOpts(idHint)));
  }

  take(r: { trajectories: Trajectory[]; rejected: Rejection[] }): void {
    this.trajectories.push(...r.trajectories);
    this.rejected.push(...r.rejected);
  }

  reject(r: Rejection): void {
    this.rejected.push(r);
  }

  parseOrReject(text: string, where: Where): { ok: true; value: unknown } | { ok: false } {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (err) {
      this.rejected.push({ ...where, reason: `invalid JSON: ${(err as Error).message.slice(0, 200)}` });
      return { ok: false };
    }
  }
}

/** Reads the start of the text until the layout can be decided, then replays it. */
export async function peekLayout(chunks: AsyncIterator<string>, maxLine: number): Promise<{ layout: Layout; text: AsyncGenerator<string> }> {
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
  let layout: Layout;
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

/** JSONL, one record per line. Returns the layout to report: a file whose only line is one JSON
 *  object is a single JSON document ('json-object'). */
export async function readJsonl(text: AsyncIterable<string>, sink: RecordSink, maxLine: number): Promise<Layout> {
  const { file, base } = sink;
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
      sink.reject({ ...where, reason: `line is ${l.tooLong} characters long, over the ${maxLine}-character limit` });
      continue;
    }
    if (l.text.trim() === '') continue;
    if (l.text.includes('\u0000')) {
      sink.reject({ ...where, reason: 'line contains NUL bytes (binary data)' });
      continue;
    }
    const parsed = sink.parseOrReject(l.text, where);
    if (parsed.ok) sink.add(parsed.value, where, `${base}:${l.line}`);
  }
  return nonEmptyLines === 1 && onlyLineIsObject ? 'json-object' : 'jsonl';
}

/** One JSON list or object, or several one after another, streamed element by element (member by member). */
export async function readJsonDocuments(text: AsyncIterable<string>, sink: RecordSink, maxLine: number): Promise<void> {
  const { file, base } = sink;
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
      sink.reject({ file, line: m.line, path: `${root()} member ${m.index}`, reason: m.bad });
      return;
    }
    sink.take(recordToTrajectories(m.value, { file, line: m.line, path: memberPath(m.key) }, sink.recordOpts(m.key), 1, m.key));
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
      if (truncated) sink.reject({ ...where, reason: 'the file ends inside this record (truncated JSON)' });
      else if (bad) sink.reject({ ...where, reason: `member ${bad.index} (line ${bad.line}): ${bad.bad}` });
      else sink.add(Object.fromEntries(members.map((m) => [(m as { key: string }).key, (m as { value: unknown }).value])), where, doc > 1 ? `${base}#${doc}` : base.replace(/\.[^.]*$/, ''));
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
      sink.reject({ file, line: ev.line, reason: 'unexpected text after the last top-level JSON value (expected "[" or "{"); the rest of the file was not read' });
    } else if (ev.kind === 'truncated') {
      if (container === 'array') sink.reject({ file, line: ev.line, path: `${root()}[${ev.index}]`, reason: 'the file ends inside this element (truncated JSON)' });
      else {
        const key = /^"((?:[^"\\]|\\.)*)"\s*:/.exec(ev.head);
        if (key && RECORD_KEYS.has(key[1])) mode = 'record';
        if (mode !== 'record') sink.reject({ file, line: ev.line, path: `${root()} member ${ev.index}`, reason: 'the file ends inside this member (truncated JSON)' });
        finishObject(true);
      }
    } else if (container === 'array') {
      const where = { file, line: ev.line, path: `${root()}[${ev.index}]` };
      if (ev.tooLong !== undefined) sink.reject({ ...where, reason: `element is ${ev.tooLong} characters long, over the ${maxLine}-character limit` });
      else {
        const parsed = sink.parseOrReject(ev.text, where);
        if (parsed.ok) sink.add(parsed.value, where, doc > 1 ? `${base}#${doc}.${ev.index}` : `${base}#${ev.index}`);
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
}

/** A plain-text transcript, whole (up to `max` characters). */
export async function readTranscript(text: AsyncIterable<string>, sink: RecordSink, max: number): Promise<void> {
  const { file, base } = sink;
  let whole = '';
  let size = 0;
  for await (const chunk of text) {
    size += chunk.length;
    if (size <= max) whole += chunk;
  }
  if (size > max) sink.reject({ file, reason: `a plain-text transcript of ${size} characters is over the ${max}-character limit; split it or convert it to JSONL` });
  else if (looksBinary(whole, whole.length)) sink.reject({ file, line: 1, reason: `${BINARY_FILE_REASON}: expected JSON, JSONL or a text transcript` });
  else sink.add(whole, { file }, base.replace(/\.[^.]*$/, ''));
}
