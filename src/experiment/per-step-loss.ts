// Per-step loss of a model on trajectories: the mean cross-entropy over each agent turn's
// tokens (content + end-of-turn), given the history before it. Used for the highest-loss arm
// (the base model's "perplexity" choice in the paper). Steps that fit no context window get
// −Infinity (never chosen as highest-loss).
import { aggregateStepLoss, buildTrainingExamples, packBatches } from '../data/masks.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { Trainer } from '../engine/trainer.ts';

export async function perStepLoss(trainer: Trainer, ts: readonly Trajectory[], tok: TextTokenizer, seqLen: number, batchSize: number): Promise<Record<string, number[]>> {
  const { examples } = buildTrainingExamples(ts, { arm: 'full', tokenizer: tok, contextLength: seqLen });
  const batches = packBatches(examples, { batchSize, seqLen, padId: tok.padId });
  const perExample: Float32Array[] = [];
  for (const batch of batches) {
    const { tokenLoss } = await trainer.forwardLoss(batch);
    for (let row = 0; row < batch.rows; row++) perExample.push(tokenLoss.subarray(row * seqLen, (row + 1) * seqLen));
  }
  return aggregateStepLoss(ts, examples, (i) => perExample[i]).stepLoss;
}
