// `atlas select` at dataset scale: the input is read as a stream, and the output is written as
// it is made, in input order, to <out>.partial; every trajectory finished is also recorded at
// once in <out>.journal (its index, id and new selection — a few hundred bytes), whether or not
// it can be written in order yet. Killed at any moment (kill -9 included), the same command
// reads both back, keeps the partial output's complete lines, takes what the journal says was
// finished after them, and asks only for the rest: nothing finished is asked (or paid) twice,
// nothing is lost. At the end <out>.partial becomes <out> and the journal is removed, so <out>
// only ever exists complete. Memory holds neither file: the partial output is read line by line
// beside the input, and only the journal's entries past the written prefix are kept (at most
// one window of the runner, src/select/run.ts selectInOrder).
import { closeSync, createReadStream, existsSync, openSync, renameSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { readTrajectoriesJsonl, serializeTrajectory, trajectoryProblem } from '../data/jsonl.ts';
import type { Selection, Trajectory } from '../data/trajectory.ts';
import type { ResumeState } from '../select/run.ts';
import { fileLines } from '../select/file-lines.ts';

/** What makes two runs the same job: a partial output is resumed only by a run of the same job. */
export interface SelectJob {
  /** The input file, absolute. */
  input: string;
  inputBytes: number;
  trajectories: number;
  /** The name the selections carry ("oracle:gpt-4o"). */
  selector: string;
  budget: number;
  seed: number;
}

export function resumeFiles(out: string): { partial: string; journal: string } {
  return { partial: `${out}.partial`, journal: `${out}.journal` };
}

/** The trajectories of a JSONL file, read as a stream. */
export function readTrajectoryFile(file: string): AsyncGenerator<Trajectory> {
  return readTrajectoriesJsonl(createReadStream(file), file);
}

/** Reads every line of the input once (the first bad one throws file:line: reason) before anything is asked; returns the count. */
export async function checkInput(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readTrajectoryFile(file)) n++;
  return n;
}

export interface Resumed {
  state: ResumeState;
  /** The input, positioned after the trajectories the partial output holds. */
  input: AsyncIterator<Trajectory>;
}

interface JournalEntry {
  i: number;
  id: string;
  selection: Selection;
}

const JOB_KEYS: (keyof SelectJob)[] = ['input', 'inputBytes', 'trajectories', 'selector', 'budget', 'seed'];

/**
 * Where an interrupted run of this job left off; or a note saying why its files cannot be used
 * (the run then starts over); or neither when there is nothing to resume. Cuts a torn last line
 * off both files, so appending continues on whole lines.
 */
export async function findResume(out: string, job: SelectJob, openInput: () => AsyncGenerator<Trajectory>): Promise<{ resumed?: Resumed; note?: string }> {
  const { partial, journal } = resumeFiles(out);
  if (!existsSync(journal)) return existsSync(partial) ? { note: `${partial} has no journal beside it; starting over` } : {};
  const lines = fileLines(journal);
  const head = await lines.next();
  let earlier: Partial<SelectJob> | undefined;
  try {
    earlier = head.done || !head.value.complete ? undefined : (JSON.parse(head.value.bytes.toString('utf8')) as { job: SelectJob }).job;
  } catch {
    earlier = undefined;
  }
  if (!earlier) {
    await lines.return(undefined);
    return { note: `${journal} does not start with its job; starting over` };
  }
  const differs = JOB_KEYS.find((k) => earlier[k] !== job[k]);
  if (differs) {
    await lines.return(undefined);
    return { note: `${partial} is from another run (${differs} was ${JSON.stringify(earlier[differs])}, now ${JSON.stringify(job[differs])}); starting over` };
  }

  // The partial output, line by line beside the input: same ids in the same order, this run's selection last.
  const input = openInput();
  const state: ResumeState = { index: 0, labelled: 0, failed: [], repaired: 0, finished: new Map() };
  let keep = 0;
  if (existsSync(partial)) {
    for await (const { bytes, offset, complete } of fileLines(partial)) {
      let t: Trajectory | undefined;
      try {
        t = complete ? (JSON.parse(bytes.toString('utf8')) as Trajectory) : undefined;
      } catch {
        t = undefined;
      }
      if (!t || trajectoryProblem(t) !== null) break; // a torn (or damaged) line: kept up to here
      const sel = t.selections[t.selections.length - 1];
      const next = await input.next();
      if (next.done || next.value.id !== t.id || sel?.selector !== job.selector) {
        await input.return?.(undefined);
        await lines.return(undefined);
        const why = next.done ? 'the input has fewer trajectories' : next.value.id !== t.id ? `the input's is "${next.value.id}"` : `its last selection is ${JSON.stringify(sel?.selector)}`;
        return { note: `line ${state.index + 1} of ${partial} is "${t.id}" but ${why}; starting over` };
      }
      state.index++;
      if (sel.status === 'labelled') state.labelled++;
      else state.failed.push({ id: t.id, reason: sel.failure ?? 'unknown' });
      if (sel.repairs?.length) state.repaired++;
      keep = offset + bytes.length + 1;
    }
    truncateSync(partial, keep);
  }

  // The journal: what was finished after the written prefix.
  let journalKeep = head.value!.offset + head.value!.bytes.length + 1;
  for await (const { bytes, offset, complete } of lines) {
    if (!complete) break;
    journalKeep = offset + bytes.length + 1;
    try {
      const e = JSON.parse(bytes.toString('utf8')) as JournalEntry;
      if (Number.isInteger(e.i) && e.i >= state.index && typeof e.id === 'string' && e.selection && typeof e.selection.selector === 'string') {
        state.finished.set(e.i, { id: e.id, selection: e.selection });
      }
    } catch {
      // A damaged line: that trajectory is asked again.
    }
  }
  truncateSync(journal, journalKeep);
  return { resumed: { state, input } };
}

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
}

/**
 * The two files a run writes. Every write is a plain write(2) as the event happens (no buffer in
 * this process), so a killed process loses nothing it had recorded (not a guard against power loss: no fsync).
 */
export class ResumableOutput {
  private readonly files: { partial: string; journal: string };
  private readonly partialFd: number;
  private readonly journalFd: number;
  private closed = false;

  constructor(
    private readonly out: string,
    job: SelectJob,
    resumed: boolean,
  ) {
    this.files = resumeFiles(out);
    this.journalFd = openSync(this.files.journal, resumed ? 'a' : 'w');
    this.partialFd = openSync(this.files.partial, resumed ? 'a' : 'w');
    if (!resumed) writeAll(this.journalFd, JSON.stringify({ job }) + '\n');
  }

  /** Trajectory `i` is finished (called before it can be written in order). */
  finished(i: number, t: Trajectory, selection: Selection): void {
    writeAll(this.journalFd, JSON.stringify({ i, id: t.id, selection } satisfies JournalEntry) + '\n');
  }

  /** The next trajectory in input order. */
  write(t: Trajectory): void {
    writeAll(this.partialFd, serializeTrajectory(t) + '\n');
  }

  /** Leaves both files for a later run to resume from. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.partialFd);
    closeSync(this.journalFd);
  }

  /** All written: the partial output becomes the output; the journal goes. */
  complete(): void {
    this.close();
    renameSync(this.files.partial, this.out);
    unlinkSync(this.files.journal);
  }
}

/** The input's size in bytes (part of the job). */
export function fileBytes(file: string): number {
  return statSync(file).size;
}
