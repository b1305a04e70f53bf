// The page's side of the event protocol: only the run it started last counts (a late event of
// an old run is dropped), and the run bar follows the events' kinds, never their text.
import { describe, it, expect } from 'vitest';
import type { ExperimentEvent, RunEvent } from '../../../src/experiment/protocol.ts';
import { upgradeStoredEvent } from '../../../src/store/runs.ts';
import { applyRunEvent, eventOfRun, newRunId, recoverableFailure, type RunView } from '../../../src/ui/state/run-view.ts';

const idle: RunView = { phase: 'starting', status: null, statusMessage: '', failure: null };

/** What experiment.svelte.ts's flush does with one frame's events while `live` is the run it started. */
function flush(view: RunView, batch: ExperimentEvent[], live: string): { view: RunView; applied: RunEvent[] } {
  const applied: RunEvent[] = [];
  for (const stamped of batch) {
    const e = eventOfRun(stamped, live);
    if (!e) continue;
    applied.push(e);
    view = applyRunEvent(view, e);
  }
  return { view, applied };
}

describe('the page reads run events', () => {
  it('ignores a late event of an old run once a new run has started', () => {
    const old = newRunId(new Date('2026-01-01T00:00:00Z'));
    const current = newRunId(new Date('2026-01-01T00:01:00Z'));
    expect(old).not.toBe(current);
    // The old run's last events arrive in the same frame as the new run's first.
    const batch: ExperimentEvent[] = [
      { kind: 'train', arm: 'full', step: 9, loss: 1, lr: 1e-3, supervisedTokens: 1, tokensPerSecond: 1, elapsedMs: 1, runId: old },
      { kind: 'status', state: 'preparing', runId: current },
      { kind: 'status', state: 'done', step: 9, runId: old },
      { kind: 'device-lost', reason: 'destroyed', message: 'Device was destroyed.', runId: old },
      // An event without an id (as runs stored before ids had them) is no event of this run either.
      { kind: 'status', state: 'stopped' },
    ];
    const { view, applied } = flush(idle, batch, current);
    expect(applied).toEqual([{ kind: 'status', state: 'preparing' }]);
    expect(view.phase).toBe('preparing');
    expect(view.failure).toBeNull();
  });

  it('a device-lost failure: phase error, the status says so, and it is the failure', () => {
    const { view } = flush(idle, [{ kind: 'status', state: 'training', step: 5, runId: 'r' }, { kind: 'device-lost', reason: 'destroyed', message: 'Device was destroyed.', runId: 'r' }], 'r');
    expect(view).toMatchObject({ phase: 'error', statusMessage: 'GPU device lost', failure: { kind: 'device-lost', reason: 'destroyed', message: 'Device was destroyed.' } });
    // Any other failure is its own kind, with its message.
    const oom = flush(idle, [{ kind: 'out-of-memory', message: 'Model does not fit this GPU', runId: 'r' }], 'r').view;
    expect(oom).toMatchObject({ phase: 'error', statusMessage: 'Model does not fit this GPU', failure: { kind: 'out-of-memory' } });
  });

  it('reads runs stored before failures had kinds: a lost device there still offers the resume', () => {
    // What the worker sent for a lost device before: an error sentence, then an error status.
    const stored: ExperimentEvent[] = [
      { kind: 'train', arm: 'full', step: 5, loss: 1, lr: 1e-3, supervisedTokens: 1, tokensPerSecond: 1, elapsedMs: 1 },
      { kind: 'error', message: 'mapAsync rejected' },
      { kind: 'error', message: 'The GPU device was lost (destroyed: Device was destroyed). Resume to continue from the last checkpoint.' },
      { kind: 'status', state: 'error', message: 'GPU device lost' },
    ];
    const events = stored.map(upgradeStoredEvent) as RunEvent[];
    expect(events[2]).toEqual({ kind: 'device-lost', reason: 'destroyed', message: 'Device was destroyed' });
    expect(events[1]).toEqual(stored[1]);
    expect(recoverableFailure('error', events)).toEqual(events[2]);
    expect(recoverableFailure('done', events)).toBeNull();
    const view = events.reduce(applyRunEvent, idle);
    expect(view).toMatchObject({ phase: 'error', statusMessage: 'GPU device lost', failure: { kind: 'device-lost' } });
  });
});
