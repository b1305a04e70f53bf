// The import pipeline, pure: bytes in (Node file stream or browser File.stream()), trajectories
// and a report out. The file's shape is detected from its start (importLayouts.ts):
//   '['                       one JSON list, split element by element while streaming
//   '{' or '"' and the first (or second) line is complete JSON   → JSONL, one record per line
//   '{' otherwise             one (pretty-printed) JSON object, split member by member
//   anything else             a plain-text ReAct transcript (one per file, up to maxDocumentChars)
// The import, step by step: read the layout's records → group, filter and dedupe → summarise.
// Every record that fails is reported with file, line and/or JSON path and a reason; nothing
// good is dropped. After reading: step records of one episode are grouped (episodes.ts), runs
// whose record says they failed are left out unless kept, an "Observation:" label the file
// writes on its observations is removed (observationPrefix.ts), clashing ids are renamed,
// duplicates reported (duplicates.ts), and a file made only of records of an unread layout is
// refused once (unknownRecord.ts). See docs/data.md.
import type { ImportFormat, Rejection } from './formats.ts';
import { BINARY_FILE_REASON, DEFAULT_MAX_LINE_CHARS, decodeText, type ByteSource, type StreamOptions } from './lines.ts';
import { peekLayout, readJsonDocuments, readJsonl, readTranscript, RecordSink, type Layout } from './importLayouts.ts';
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

/** Imports every record of a byte source. Never throws on bad data (only on cancel). */
export async function importTrajectories(source: ByteSource, opts: ImportOptions): Promise<ImportResult> {
  const sink = new RecordSink(opts.file, { format: opts.format, importedAt: opts.importedAt ?? new Date().toISOString() });
  const layout = await readRecords(source, opts, sink);
  return finishImport(sink.trajectories, sink.rejected, layout, opts);
}

/** Reads the file's records into `sink` by its layout; returns the layout to report. */
async function readRecords(source: ByteSource, opts: ImportOptions, sink: RecordSink): Promise<Layout> {
  const { file } = opts;
  const maxLine = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const { layout, text } = await peekLayout(decodeText(source, opts)[Symbol.asyncIterator](), maxLine);
  if (layout === 'empty') sink.reject({ file, reason: 'the file is empty: no records' });
  else if (layout === 'binary') sink.reject({ file, line: 1, reason: `${BINARY_FILE_REASON}: expected JSON, JSONL or a text transcript` });
  else if (layout === 'jsonl') return readJsonl(text, sink, maxLine);
  else if (layout === 'json-array' || layout === 'json-object') await readJsonDocuments(text, sink, maxLine);
  else await readTranscript(text, sink, opts.maxDocumentChars ?? 64 * 1024 * 1024);
  return layout;
}

/** After reading: step records grouped into episodes, failed runs left out unless kept, labels
 *  stripped, ids made unique, act variants merged, duplicates found; the summary. */
function finishImport(trajectories: Trajectory[], rejected: Rejection[], layout: Layout, opts: ImportOptions): ImportResult {
  const file = opts.file;
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
  const { steps, formats, selections, withNotes } = counts(kept);
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

/** Steps, trajectories per format and per import selection, and those with notes. */
function counts(kept: readonly Trajectory[]): Pick<ImportSummary, 'steps' | 'formats' | 'selections' | 'withNotes'> {
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
  return { steps, formats, selections, withNotes };
}
