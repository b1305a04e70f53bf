// The loss of a model on batches it does not train on: Σ w·CE / Σ w over all of them (NaN when
// no token carries weight). The experiment's held-out evaluation and the base agent's
// validation loss both read it.
import type { TokenBatch } from '../engine/batch.ts';
import type { Trainer } from '../engine/trainer.ts';

export async function heldOutLoss(trainer: Trainer, batches: readonly TokenBatch[]): Promise<number> {
  let num = 0;
  let den = 0;
  for (const b of batches) {
    const r = await trainer.forwardLoss(b);
    num += r.loss * r.weightSum;
    den += r.weightSum;
  }
  return den > 0 ? num / den : NaN;
}
