// Pre-tokenized training windows in the Hugging Face convention, from the engine's own
// examples (masks.ts buildTrainingExamples — the windows `atlas train` packs into batches):
// one line per window with `input_ids`, `labels` and `attention_mask`, for a generic HF
// Trainer / TRL that must not re-apply a chat template.
//
// How the engine's weights become HF labels. The engine does not shift: for a window of
// tokens x[0..n) its row has T = n − 1 positions, inputIds[t] = x[t], labels[t] = x[t + 1] and
// weights[t] = the weight of predicting x[t + 1] from x[0..t]. Hugging Face's causal-LM loss
// shifts inside the model: the logits at position t are scored against labels[t + 1], and
// labels = −100 are ignored. So the HF line holds all n tokens, input_ids = x, and
//   labels[0]     = −100                                   (x[0], BOS, is never predicted)
//   labels[t + 1] = x[t + 1] if weights[t] > 0, else −100   (t = 0 … T − 1)
// i.e. labels[j] = input_ids[j] exactly where the engine puts weight on predicting token j
// (the weight at engine position j − 1). HF labels say only whether a token counts, not how
// much: this holds because the engine's masks are 0/1 (masks.ts gives weight 1 to every token
// of a supervised agent turn and its end-of-turn token, 0 elsewhere); a fractional weight is
// refused here rather than rounded. Both sides then average over the counted tokens: the
// engine's loss is Σ w·CE / Σ w over every row of an optimizer step, HF's the mean
// cross-entropy over labels ≠ −100 of the batch.
//
// A line has n ≤ seqLen tokens; the HF model sees all n (the last one's logits are unused), so
// the windows are built at the engine context seqLen − 1: the same windows as
// `atlas train --seq <seqLen − 1>` (each keeps the prefix up to the instruction and ends at a
// supervised turn's end-of-turn token).
import { IGNORE_LABEL, type TrainingExample } from './masks.ts';

export interface TokenizedLine {
  input_ids: number[];
  labels: number[];
  attention_mask: number[];
}

/** The HF line of one engine example; `padTo` right-pads it (pad id, label −100, mask 0). */
export function tokenizedLine(e: Pick<TrainingExample, 'trajectoryId' | 'inputIds' | 'labels' | 'weights'>, opts: { padTo?: number; padId: number }): TokenizedLine {
  const T = e.inputIds.length;
  if (T < 1 || e.labels.length !== T || e.weights.length !== T) throw new Error(`example of "${e.trajectoryId}": inputIds, labels and weights must have the same length ≥ 1`);
  const inputIds = [e.inputIds[0]];
  const labels = [IGNORE_LABEL];
  for (let t = 0; t < T; t++) {
    const next = e.labels[t];
    // The engine's label at t is the next token of the same window (masks.ts makeExample).
    if (t + 1 < T && next !== e.inputIds[t + 1]) throw new Error(`example of "${e.trajectoryId}": label ${t} (${next}) is not input ${t + 1} (${e.inputIds[t + 1]}); not a window of consecutive tokens`);
    const w = e.weights[t];
    if (w !== 0 && w !== 1) throw new Error(`example of "${e.trajectoryId}": weight ${w} at position ${t}; Hugging Face labels carry only 0/1 (a token counts or not), so fractional weights cannot be exported`);
    inputIds.push(next);
    labels.push(w > 0 ? next : IGNORE_LABEL);
  }
  const attention = inputIds.map(() => 1);
  if (opts.padTo !== undefined) {
    if (inputIds.length > opts.padTo) throw new Error(`example of "${e.trajectoryId}" has ${inputIds.length} tokens, more than the ${opts.padTo} to pad to`);
    while (inputIds.length < opts.padTo) {
      inputIds.push(opts.padId);
      labels.push(IGNORE_LABEL);
      attention.push(0);
    }
  }
  return { input_ids: inputIds, labels, attention_mask: attention };
}

/** Counted tokens (labels ≠ −100) of a line. */
export const supervisedCount = (l: TokenizedLine) => l.labels.reduce((n, x) => n + (x === IGNORE_LABEL ? 0 : 1), 0);
