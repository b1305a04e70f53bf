// The base agent's pretraining loop: the explorer's corpus (pretrain-corpus.ts) through one
// Trainer, a metrics record per logged step, a validation loss and a checkpoint every so
// often. Storage and printing are the caller's (the CLI writes files, tests keep memory), so
// the loop is the same wherever it runs. A checkpoint holds the parameters, AdamW's moments,
// the step and the corpus position: resuming from it gives the same losses as never stopping.
import type { TokenBatch } from '../engine/batch.ts';
import type { Trainer, StepResult } from '../engine/trainer.ts';
import { InFlight } from '../engine/in-flight.ts';
import { heldOutLoss } from './held-out-loss.ts';
import { packParams } from '../engine/params.ts';
import { CorpusStream, type CorpusPosition } from './pretrain-corpus.ts';

export interface PretrainSettings {
  /** Optimizer steps in the whole run (the learning-rate schedule's length). */
  steps: number;
  logEvery: number;
  /** Validation loss and checkpoint every N steps (and at the end). */
  checkpointEvery: number;
  /** Stop (after a checkpoint) once this step is done, before `steps`. */
  stopAfter?: number;
}

export interface PretrainMetrics {
  step: number;
  steps: number;
  /** Token positions processed (batch × sequence length per step), and those carrying loss. */
  tokens: number;
  supervisedTokens: number;
  /** Mean training loss over the steps since the previous record. */
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedS: number;
  /** Seconds left at the current pace. */
  etaS: number;
  /** Loss on the held-back validation episodes (at checkpoints). */
  validationLoss?: number;
}

export interface PretrainProgress {
  step: number;
  position: CorpusPosition;
  tokens: number;
  supervisedTokens: number;
  /** Training time so far (wall clock, without validation), carried across resumes. */
  trainMs: number;
}

export interface PretrainCheckpoint extends PretrainProgress {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export interface PretrainHooks {
  record(m: PretrainMetrics): void;
  checkpoint(cp: PretrainCheckpoint): Promise<void>;
}

const supervised = (b: TokenBatch) => b.weights.reduce((n, w) => n + (w > 0 ? 1 : 0), 0);

/** A step the loop submitted, with what it adds to the progress once it has finished. */
interface Submitted {
  result: StepResult;
  tokens: number;
  supervised: number;
  position: CorpusPosition;
}

/** Trains from `from` (a fresh start or a checkpoint's progress) to `settings.steps`. */
export async function pretrainLoop(trainer: Trainer, stream: CorpusStream, validation: readonly TokenBatch[], settings: PretrainSettings, hooks: PretrainHooks, from: PretrainProgress): Promise<PretrainProgress> {
  const progress: PretrainProgress = { ...from, position: { ...from.position } };
  stream.position = { ...from.position };
  trainer.stepCount = from.step;
  let windowLoss = 0;
  let windowSteps = 0;
  let clock = performance.now();
  const startTokens = from.tokens;
  const startMs = from.trainMs;
  const settle = async (s: Submitted) => {
    const last = s.result;
    const now = performance.now();
    progress.trainMs += now - clock;
    clock = now;
    progress.step = last.step;
    progress.tokens += s.tokens;
    progress.supervisedTokens += s.supervised;
    progress.position = s.position;
    windowLoss += last.loss;
    windowSteps++;
    const atCheckpoint = isCheckpointStep(last.step, settings);
    if (last.step % settings.logEvery === 0 || atCheckpoint) {
      const rate = ((progress.tokens - startTokens) / Math.max(1, progress.trainMs - startMs)) * 1000;
      const m: PretrainMetrics = {
        step: last.step,
        steps: settings.steps,
        tokens: progress.tokens,
        supervisedTokens: progress.supervisedTokens,
        loss: windowLoss / windowSteps,
        lr: last.lr,
        gradNorm: last.gradNorm,
        tokensPerSecond: rate,
        elapsedS: progress.trainMs / 1000,
        etaS: rate > 0 ? ((settings.steps - last.step) * (s.tokens || 1)) / rate : 0,
      };
      windowLoss = 0;
      windowSteps = 0;
      if (atCheckpoint) {
        // The loop submits nothing after a checkpoint step until it is saved: the state is exactly this step's.
        m.validationLoss = await heldOutLoss(trainer, validation);
        const [params, opt] = await Promise.all([trainer.model.readParams(), trainer.readOptimizerState()]);
        await hooks.checkpoint({ ...progress, position: { ...progress.position }, params: packParams(trainer.model.layout, params), m: opt.m, v: opt.v });
        clock = performance.now();
      }
      hooks.record(m);
    }
  };
  const inFlight = new InFlight<Submitted>(settle);

  const end = Math.min(settings.steps, settings.stopAfter ?? Infinity);
  for (let step = from.step + 1; step <= end; step++) {
    const batch = stream.next();
    const position = { ...stream.position };
    inFlight.push(trainer.step([batch]).then((result) => ({ result, tokens: batch.batch * batch.seqLen, supervised: supervised(batch), position })));
    // Two steps in flight keep the GPU busy while the CPU prepares the next batch; none
    // after a checkpoint step, whose state is read back first.
    await inFlight.keep(isCheckpointStep(step, settings) ? 0 : 1);
  }
  await inFlight.drain();
  return progress;
}

function isCheckpointStep(step: number, s: PretrainSettings): boolean {
  return step % s.checkpointEvery === 0 || step === s.steps || step === s.stopAfter;
}
