// The run side of the event protocol: every event carries the run's id, and a run fails once —
// a lost device is one device-lost failure, also when the run's own steps fail first.
import { describe, it, expect } from 'vitest';
import { GpuMemoryError } from '../../../src/engine/gpu/resources.ts';
import type { ExperimentEvent } from '../../../src/experiment/protocol.ts';
import { BadInputError, failureOf, RunReporter, runReported } from '../../../src/experiment/run-events.ts';

/** A device whose loss the test triggers, like `device.destroy()`. */
function fakeDevice() {
  let lose!: (info: { reason: string; message: string }) => void;
  const lost = new Promise<{ reason: string; message: string }>((r) => (lose = r));
  return { ctx: { device: { lost } }, lose: () => lose({ reason: 'destroyed', message: 'Device was destroyed.' }) };
}

const failures = (events: ExperimentEvent[]) => events.filter((e) => !['train', 'eval', 'baseline', 'status', 'log'].includes(e.kind));

describe('run events', () => {
  it('stamps every event with the run id and sends one failure, then nothing of that run', () => {
    const sent: ExperimentEvent[] = [];
    const run = new RunReporter('run-a', (e) => sent.push(e));
    run.emit({ kind: 'log', message: 'hello' });
    expect(run.fail({ kind: 'bad-input', message: 'no arm' })).toBe(true);
    expect(run.fail({ kind: 'error', message: 'again' })).toBe(false);
    run.emit({ kind: 'status', state: 'stopped' });
    expect(sent).toEqual([
      { kind: 'log', message: 'hello', runId: 'run-a' },
      { kind: 'bad-input', message: 'no arm', runId: 'run-a' },
    ]);
  });

  it('tells failures apart by the error class, never by the text', () => {
    expect(failureOf(new GpuMemoryError('Model does not fit this GPU: …'))).toEqual({ kind: 'out-of-memory', message: 'Model does not fit this GPU: …' });
    expect(failureOf(new BadInputError('dataset "x" holds no trajectories'))).toEqual({ kind: 'bad-input', message: 'dataset "x" holds no trajectories' });
    // The words of a device loss in an ordinary error do not make it one.
    expect(failureOf(new Error('The GPU device was lost (destroyed: x). Resume'))).toEqual({ kind: 'error', message: 'The GPU device was lost (destroyed: x). Resume' });
    expect(failureOf('plain')).toEqual({ kind: 'error', message: 'plain' });
  });

  it('a lost device mid-run: exactly one failure, of the device-lost kind, and the run is stopped', async () => {
    const sent: ExperimentEvent[] = [];
    const run = new RunReporter('run-a', (e) => sent.push(e));
    const { ctx, lose } = fakeDevice();
    let stopped = false;
    let finish!: () => void;
    const done = runReported(run, async () => ctx, async () => {
      run.emit({ kind: 'train', arm: 'full', step: 1, loss: 2, lr: 1e-3, supervisedTokens: 10, tokensPerSecond: 1, elapsedMs: 1 });
      lose();
      await new Promise<void>((r) => (finish = r));
      // The stopped runner's last words are not sent: the run already failed.
      run.emit({ kind: 'status', state: 'stopped' });
    }, () => {
      stopped = true;
      finish();
    });
    await done;
    expect(stopped).toBe(true);
    expect(failures(sent)).toEqual([{ kind: 'device-lost', reason: 'destroyed', message: 'Device was destroyed.', runId: 'run-a' }]);
    expect(sent.map((e) => e.kind)).toEqual(['train', 'device-lost']);
  });

  it('a lost device that first rejects the run\'s own steps is still one device-lost failure', async () => {
    const sent: ExperimentEvent[] = [];
    const run = new RunReporter('run-b', (e) => sent.push(e));
    const { ctx, lose } = fakeDevice();
    await runReported(run, async () => ctx, async () => {
      // A destroyed device rejects the buffer map before `lost` resolves.
      setTimeout(lose, 20);
      throw new Error('mapAsync: buffer is destroyed');
    }, () => undefined);
    expect(failures(sent)).toEqual([{ kind: 'device-lost', reason: 'destroyed', message: 'Device was destroyed.', runId: 'run-b' }]);
  });

  it('any other failure is one event of its kind; a loss after the run ended is not the run\'s', async () => {
    const sent: ExperimentEvent[] = [];
    const run = new RunReporter('run-c', (e) => sent.push(e));
    const { ctx, lose } = fakeDevice();
    await runReported(run, async () => ctx, async () => {
      throw new GpuMemoryError('GPU buffer "workspace.att" needs 2.00 GiB');
    }, () => undefined, 10);
    expect(sent).toEqual([{ kind: 'out-of-memory', message: 'GPU buffer "workspace.att" needs 2.00 GiB', runId: 'run-c' }]);

    const after: ExperimentEvent[] = [];
    const ended = new RunReporter('run-d', (e) => after.push(e));
    await runReported(ended, async () => ctx, async () => ended.emit({ kind: 'status', state: 'done' }), () => undefined);
    lose();
    await new Promise((r) => setTimeout(r, 0));
    expect(after).toEqual([{ kind: 'status', state: 'done', runId: 'run-d' }]);
  });
});
