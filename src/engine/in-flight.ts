// Training steps kept in flight: the trainer resolves a step's promise when the GPU has
// finished it, so a loop that submits the next step before awaiting the last keeps the GPU busy
// while the CPU prepares the next batch, and a bound on the steps in flight keeps memory (and
// the staging ring) bounded. One helper for every training loop: the experiment runner (per arm),
// `atlas train` and the base agent's pretraining.

export class InFlight<T> {
  private readonly pending: Promise<T>[] = [];

  /** `settle` sees each step's result, oldest first, as keep() and drain() await it. */
  constructor(private readonly settle: (result: T) => void | Promise<void> = () => undefined) {}

  /** A submitted step. Its rejection is marked handled here (whoever awaits it still sees it):
   *  steps left in flight when a run fails (e.g. on a lost device) raise no unhandled rejection. */
  push(step: Promise<T>): void {
    step.catch(() => undefined);
    this.pending.push(step);
  }

  /** Awaits (and settles) the oldest steps until at most `n` are left in flight. */
  async keep(n: number): Promise<void> {
    while (this.pending.length > n) await this.settle(await this.pending.shift()!);
  }

  /** Awaits every step in flight. */
  drain(): Promise<void> {
    return this.keep(0);
  }

  get size(): number {
    return this.pending.length;
  }
}
