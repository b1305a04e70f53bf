// The import pipeline, pure: bytes in (Node file stream or browser File.stream()), trajectories
// and a report out. The file's shape is detected from its start:
//   '['                       one JSON list, split element by element while streaming
//   '{' or '"' and the first (or second) line is complete JSON   → JSONL, one record per line
//   '{' otherwise             one (pretty-printed) JSON object, split member by member
//   anything else             a plain-text ReAct transcript (one per file, up to maxDocumentChars)
// Every record that fails is reported with file, line and/or JSON path and a reason; nothing
// good is dropped. See docs/data.md.
import { recordToTrajectories, type ImportFormat, type Rejection, type Where } from './formats.ts';
import { DEFAULT_MAX_LINE_CHARS, decodeText, splitTextLines, type ByteSource, type StreamOptions } from './lines.ts';
import { splitJsonContainer } from './jsonValues.ts';
import type { Trajectory } from './trajectory.ts';

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
}

export interface Duplicate {
  dropped: string;
  keptAs: string;
  reason: string;
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
}

export interface ImportResult {
  trajectories: Trajectory[];
  summary: ImportSummary;
}

const basename = (file: string) => file.split(/[\\/]/).pop() || file;

/** Reads the start of the text until the layout can be decided, then replays it. */
async function peekLayout(chunks: AsyncIterator<string>, maxLine: number) {
  let head = '';
  let done = false;
  const need = () => {
    const first = head.search(/\S/);
    if (first < 0) return true;
    if (head[first] !== '{' && head[first] !== '"') return false;
    // Up to two complete lines decide JSONL vs. one JSON document.
    const nl1 = head.indexOf('\n', first);
    if (nl1 < 0) return head.length < maxLine;
    const nl2 = head.indexOf('\n', nl1 + 1);
    return nl2 < 0 && head.length < maxLine;
  };
  while (!done && need()) {
    const r = await chunks.next();
    if (r.done) done = true;
    else head += r.value;
  }
  const first = head.search(/\S/);
  let layout: 'empty' | 'binary' | 'json-array' | 'jsonl' | 'json-object' | 'text';
  if (first < 0) layout = 'empty';
  else if (head.slice(0, 8192).includes('\u0000')) layout = 'binary';
  else if (head[first] === '[') layout = 'json-array';
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
    // A single huge first line that does not parse is a broken JSONL record more often than a document.
    if (layout === 'json-object' && head[first] === '"') layout = 'jsonl';
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

  const { layout, text } = await peekLayout(decodeText(source, opts)[Symbol.asyncIterator](), maxLine);
  if (layout === 'empty') rejected.push({ file, reason: 'the file is empty: no records' });
  else if (layout === 'binary') rejected.push({ file, line: 1, reason: 'the file looks binary (NUL bytes): expected JSON, JSONL or a text transcript' });
  else if (layout === 'jsonl') {
    for await (const l of splitTextLines(text, maxLine)) {
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
  } else if (layout === 'json-array' || layout === 'json-object') {
    let container: 'array' | 'object' = 'array';
    for await (const ev of splitJsonContainer(text, maxLine)) {
      if (ev.kind === 'open') container = ev.container;
      else if (ev.kind === 'trailing') rejected.push({ file, line: ev.line, reason: 'unexpected data after the end of the top-level JSON value (ignored)' });
      else if (ev.kind === 'truncated') rejected.push({ file, line: ev.line, path: container === 'array' ? `$[${ev.index}]` : undefined, reason: 'the file ends inside this element (truncated JSON)' });
      else if (container === 'array') {
        const where = { file, line: ev.line, path: `$[${ev.index}]` };
        if (ev.tooLong !== undefined) rejected.push({ ...where, reason: `element is ${ev.tooLong} characters long, over the ${maxLine}-character limit` });
        else {
          const parsed = parseOrReject(ev.text, where);
          if (parsed.ok) add(parsed.value, where, `${base}#${ev.index}`);
        }
      } else {
        if (ev.tooLong !== undefined) {
          rejected.push({ file, line: ev.line, reason: `member ${ev.index} is ${ev.tooLong} characters long, over the ${maxLine}-character limit` });
          continue;
        }
        const parsed = parseOrReject(`{${ev.text}}`, { file, line: ev.line });
        if (!parsed.ok) continue;
        const [key, value] = Object.entries(parsed.value as Record<string, unknown>)[0] ?? [];
        if (key === undefined) {
          rejected.push({ file, line: ev.line, reason: `member ${ev.index} is not a "key": value pair` });
          continue;
        }
        const path = /^[A-Za-z_$][\w$]*$/.test(key) ? `$.${key}` : `$[${JSON.stringify(key)}]`;
        const r = recordToTrajectories(value, { file, line: ev.line, path }, recordOpts(key), 1, key);
        trajectories.push(...r.trajectories);
        rejected.push(...r.rejected);
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
    else if (whole.includes('\u0000')) rejected.push({ file, line: 1, reason: 'the file looks binary (NUL bytes): expected JSON, JSONL or a text transcript' });
    else add(whole, { file }, base.replace(/\.[^.]*$/, ''));
  }

  const renamedIds = makeIdsUnique(trajectories);
  const duplicates = opts.variants === 'keep' ? [] : mergeActVariants(trajectories);
  const kept = duplicates.length ? trajectories.filter((t) => !duplicates.some((d) => d.dropped === t.id)) : trajectories;
  if (opts.env) for (const t of kept) t.env ??= opts.env;

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
    summary: { file, layout, trajectories: kept.length, steps, formats, selections, rejected, duplicates, withNotes, renamedIds },
  };
}

function makeIdsUnique(ts: Trajectory[]): number {
  const seen = new Map<string, number>();
  let renamed = 0;
  for (const t of ts) {
    const n = seen.get(t.id) ?? 0;
    seen.set(t.id, n + 1);
    if (n > 0) {
      let id = `${t.id}#${n + 1}`;
      while (seen.has(id)) id += '+';
      seen.set(id, 1);
      (t.provenance ??= {}).notes = [...(t.provenance.notes ?? []), `id "${t.id}" was already used in this file; renamed "${id}"`];
      t.id = id;
      renamed++;
    }
  }
  return renamed;
}

/** ALFWorld prompt files hold each task twice: react_X (with thoughts) and act_X (without).
 *  When act_X has exactly react_X's actions and observations it is the same trajectory, so it
 *  is reported as a duplicate and the react one (which has more) is kept. */
function mergeActVariants(ts: Trajectory[]): Duplicate[] {
  const byId = new Map(ts.map((t) => [t.id, t]));
  const out: Duplicate[] = [];
  for (const act of ts) {
    const m = /^act_(.+)$/.exec(act.id);
    const react = m ? byId.get(`react_${m[1]}`) : undefined;
    if (!react || react.source.file !== act.source.file || act.source.format !== 'react' || react.source.format !== 'react') continue;
    // An act transcript may keep the "OK." that answered a removed thought at the end of its opening.
    const stray = (x: string) => x.replace(/(\n[ \t]*ok\.?[ \t]*)+$/i, '');
    const sameInstruction = stray(act.instruction) === stray(react.instruction);
    const same =
      sameInstruction &&
      act.steps.length === react.steps.length &&
      act.steps.every((s, i) => s.thought === undefined && s.action === react.steps[i].action && s.observation === react.steps[i].observation);
    const notes = (react.provenance ??= {}).notes ?? (react.provenance.notes = []);
    if (same) {
      const strayOk = act.instruction !== react.instruction ? ' (its opening also ends with a stray "OK." line)' : '';
      out.push({ dropped: act.id, keptAs: react.id, reason: `same instruction, actions and observations as the kept one, without thoughts${strayOk}` });
      notes.push(`"${act.id}" in the same file is this trajectory without thoughts; it was not imported separately`);
    } else {
      notes.push(`"${act.id}" in the same file is a thought-less version that differs from this one; both were imported`);
    }
  }
  return out;
}
