// How the page reads the experiment worker's events (src/experiment/protocol.ts): only the run
// it started last counts — an event stamped with another run id is a late report of an earlier
// start and is dropped — and the run bar's phase, status line and failure follow from the
// events' kinds, never from their text. Pure: experiment.svelte.ts applies it once per frame.
import { isFailure, type ExperimentEvent, type RunEvent, type RunFailure, type RunStatus } from '../../experiment/protocol.ts';

export type RunPhase = 'idle' | 'starting' | RunStatus['state'];

export interface RunView {
  phase: RunPhase;
  /** The last status event (step, GPU memory, adapter). */
  status: RunStatus | null;
  statusMessage: string;
  /** Why the run ended early, if it did. */
  failure: RunFailure | null;
}

/** A fresh id for a run the page starts (a resume is a new start, with its own id). */
export function newRunId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[:.]/g, '-')}`;
}

/** The event without its run id if it belongs to run `runId`; undefined for any other run's. */
export function eventOfRun(e: ExperimentEvent, runId: string): RunEvent | undefined {
  if (e.runId !== runId) return undefined;
  const { runId: _id, ...event } = e;
  return event as RunEvent;
}

/** What the status line says about a failure. */
export function failureStatus(f: RunFailure): string {
  return f.kind === 'device-lost' ? 'GPU device lost' : f.message;
}

/** The view after one event of the live run. A lost device stays the run's failure even when
 *  another failure arrives after it (runs stored before failures were sent once hold both). */
export function applyRunEvent(v: RunView, e: RunEvent): RunView {
  if (e.kind === 'status') return { ...v, status: e, phase: e.state, statusMessage: e.message ?? '' };
  if (!isFailure(e)) return v;
  const failure = v.failure?.kind === 'device-lost' ? v.failure : e;
  return { ...v, failure, phase: e.kind === 'cancelled' ? 'stopped' : 'error', statusMessage: failureStatus(failure) };
}

/** The failure a stored run ended on that the page offers to recover from after a reload: a
 *  lost device (resume from the last checkpoint). Other failures were shown when they happened. */
export function recoverableFailure(state: string, events: readonly RunEvent[]): RunFailure | null {
  if (state !== 'error') return null;
  return events.findLast((e): e is RunFailure => e.kind === 'device-lost') ?? null;
}
