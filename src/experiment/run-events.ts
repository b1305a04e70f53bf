// The run side of the event protocol (protocol.ts): every event a run sends is stamped with the
// id the page gave it, and the run fails at most once — the first failure is sent, and nothing
// of that run follows it (the dying run's rejected buffer maps, its 'stopped' status). Pure, so
// the worker uses it and tests drive it with plain functions.
import { GpuMemoryError } from '../engine/gpu/resources.ts';
import type { ExperimentEvent, RunEvent, RunFailure } from './protocol.ts';

/** A configuration or data the run cannot train on: reported as a bad-input failure. */
export class BadInputError extends Error {
  override name = 'BadInputError';
}

/** What a thrown error means to the page: its kind, from the error's class (never its text). */
export function failureOf(err: unknown): RunFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof GpuMemoryError) return { kind: 'out-of-memory', message };
  if (err instanceof BadInputError) return { kind: 'bad-input', message };
  return { kind: 'error', message };
}

/** The device's own account of its loss (GPUDeviceLostInfo) as a failure. */
export function deviceLost(info: { reason: string; message: string }): RunFailure {
  return { kind: 'device-lost', reason: info.reason, message: info.message };
}

export class RunReporter {
  private failure?: RunFailure;
  private closed = false;

  constructor(
    readonly runId: string,
    private readonly send: (e: ExperimentEvent) => void,
  ) {}

  /** Sends one event of the run, unless the run has already failed. */
  readonly emit = (e: RunEvent): void => {
    if (!this.failure && !this.closed) this.send({ ...e, runId: this.runId });
  };

  /** Ends the run with `f`; later failures (and every later event) are dropped. Returns
   *  whether this was the run's failure (false once it failed or ended). */
  fail(f: RunFailure): boolean {
    if (this.failure || this.closed) return false;
    this.failure = f;
    this.send({ ...f, runId: this.runId });
    return true;
  }

  /** The run ended: nothing of it is sent any more (a later loss of the device is not its failure). */
  close(): void {
    this.closed = true;
  }

  get failed(): RunFailure | undefined {
    return this.failure;
  }
}

/** What runReported needs of a GPU context: the device's loss. */
export interface LosableContext {
  device: { lost: Promise<{ reason: string; message: string }> };
}

/** How long a failing run waits for the device's loss before it reports its own error: a
 *  destroyed device first rejects the run's buffer maps, then resolves `lost` (the cause). */
export const LOSS_SETTLE_MS = 250;

/**
 * Runs `body` on the context `open` gives as `reporter`'s run. A loss of the device ends the run
 * with one device-lost failure and `stop()`s it — also when the run's own steps fail first, as
 * a destroyed device's rejected buffer maps do; any other thrown error ends it with its kind.
 */
export async function runReported<C extends LosableContext>(reporter: RunReporter, open: () => Promise<C>, body: (ctx: C) => Promise<void>, stop: () => void, settleMs = LOSS_SETTLE_MS): Promise<void> {
  let ctx: C | undefined;
  try {
    ctx = await open();
    void ctx.device.lost.then((info) => {
      if (reporter.fail(deviceLost(info))) stop();
    });
    await body(ctx);
  } catch (err) {
    const lost = ctx && (await Promise.race([ctx.device.lost, new Promise<undefined>((r) => setTimeout(r, settleMs))]));
    reporter.fail(lost ? deviceLost(lost) : failureOf(err));
  }
  reporter.close();
}
