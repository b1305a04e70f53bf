// Pause, resume and cancel for a selection run. Pausing stops new requests from starting
// (requests already in flight finish); cancelling aborts in-flight requests and every
// trajectory not yet finished ends as failed with reason "cancelled".
export class RunControl {
  private readonly abort = new AbortController();
  private pausedWaiters: (() => void)[] = [];
  // Cancel callbacks kept here rather than as listeners on the signal: a run with many
  // requests in flight would otherwise trip Node's listener-leak warning.
  private cancelCallbacks = new Set<() => void>();
  private paused = false;

  get signal(): AbortSignal {
    return this.abort.signal;
  }
  get isPaused() {
    return this.paused;
  }
  get isCancelled() {
    return this.abort.signal.aborted;
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
    const waiters = this.pausedWaiters;
    this.pausedWaiters = [];
    waiters.forEach((w) => w());
  }
  cancel() {
    if (this.isCancelled) return;
    this.abort.abort(new CancelledError());
    const callbacks = [...this.cancelCallbacks];
    this.cancelCallbacks.clear();
    callbacks.forEach((cb) => cb());
    this.resume();
  }
  /** Calls `cb` when the run is cancelled; returns the function that unregisters it. */
  onCancel(cb: () => void): () => void {
    if (this.isCancelled) {
      cb();
      return () => {};
    }
    this.cancelCallbacks.add(cb);
    return () => this.cancelCallbacks.delete(cb);
  }
  /** Resolves when not paused; rejects with CancelledError once cancelled. */
  async whenRunning(): Promise<void> {
    while (this.paused && !this.isCancelled) await new Promise<void>((r) => this.pausedWaiters.push(r));
    if (this.isCancelled) throw new CancelledError();
  }
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Waits `ms`, or rejects with CancelledError as soon as the run is cancelled. */
export function sleep(ms: number, control?: RunControl): Promise<void> {
  return new Promise((resolve, reject) => {
    if (control?.isCancelled) return reject(new CancelledError());
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      resolve();
    }, Math.max(0, ms));
    off = control?.onCancel(() => {
      clearTimeout(timer);
      reject(new CancelledError());
    }) ?? off;
  });
}
