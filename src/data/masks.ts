// Loss masks per arm, context windows and batches.
// Weight 1 covers exactly the tokens of the supervised agent turns — their content and the
// end-of-turn token that closes them — and never BOS, role headers, system text, the
// preamble, the instruction or observations (pretraining alone may weigh observations:
// MaskOptions.observationWeight). Windows: a trajectory longer than the context is
// cut into windows that each keep the whole prefix (BOS … instruction) and end at a supervised
// turn's end-of-turn token; each supervised turn is trained in exactly one window, with as much
// history before it as fits; cut history is counted in the report and marked in the window
// (render.ts OMITTED_TEXT, as a user turn after the prefix). Nothing is cut silently.
import { armSteps, type Arm } from './arms.ts';
import { renderTrajectory, tokenTexts, type RenderedTrajectory, type SegmentKind } from './render.ts';
import type { TextTokenizer } from './tokenize.ts';
import type { AgentTextStyle } from './agentText.ts';
import type { Trajectory } from './trajectory.ts';

export const IGNORE_LABEL = -100;

export type StepLossSource = Record<string, readonly number[]> | ((t: Trajectory) => readonly number[] | undefined);

export interface MaskOptions {
  arm: Arm;
  tokenizer: TextTokenizer;
  /** Model context T: an example holds at most T + 1 tokens (T positions, each predicting the next). */
  contextLength: number;
  seed?: number;
  budget?: number;
  /** Per-step base-model loss for the highest-loss arm, by trajectory id or as a function. */
  stepLoss?: StepLossSource;
  /** How agent turns are written: as imported (default) or "Thought: …\nAction: …". */
  agentText?: AgentTextStyle;
  /** Weight on the observation that answers each supervised turn, where the window holds it
   *  (default 0: the arms' masks). Pretraining only: predicting the environment's replies is
   *  where a small model learns to copy names out of its context (docs/base-agent.md). */
  observationWeight?: number;
}

export interface TrainingExample {
  trajectoryId: string;
  /** Tokens of the window (≤ contextLength + 1). */
  tokens: Int32Array;
  /** Weight of predicting each token (tokens[0] is never predicted, its weight is 0). */
  tokenWeights: Float32Array;
  /** Engine view: inputIds = tokens[:-1], labels = tokens[1:], weights = tokenWeights[1:]. */
  inputIds: Int32Array;
  labels: Int32Array;
  weights: Float32Array;
  /** Steps whose agent turn carries weight in this example. */
  supervisedSteps: number[];
  /** Per label position: the step whose weighted agent-turn token it predicts, or −1. */
  labelSteps: Int32Array;
  /** Token range [start, end) of the full rendering this window covers after the prefix. */
  window: { start: number; end: number };
  /** Tokens of history between the prefix and the window start left out of this example. */
  cutTokens: number;
}

export interface DroppedTurn {
  trajectoryId: string;
  step: number;
  reason: string;
}

export interface MaskReport {
  arm: Arm;
  contextLength: number;
  trajectories: number;
  examples: number;
  supervisedTurns: number;
  supervisedTokens: number;
  /** Trajectories that needed more than one window. */
  windowed: number;
  /** History tokens left out of windows, summed over examples. */
  cutTokens: number;
  /** Supervised turns that cannot fit any window (prefix + turn > context), with the reason. */
  droppedTurns: DroppedTurn[];
  /** Trajectories in which the arm selects no step (no example made). */
  withoutSupervisedSteps: string[];
}

function stepLossFor(t: Trajectory, src: StepLossSource | undefined): readonly number[] | undefined {
  if (!src) return undefined;
  return typeof src === 'function' ? src(t) : src[t.id];
}

/** Per-token weight over a full rendering for a set of supervised steps. */
export function tokenWeightsFor(r: RenderedTrajectory, supervised: Iterable<number>): Float32Array {
  const w = new Float32Array(r.ids.length);
  for (const s of supervised) {
    const span = r.steps[s];
    if (span) w.fill(1, span.agentStart, span.eotEnd);
  }
  return w;
}

function makeExample(r: RenderedTrajectory, fullWeights: Float32Array, assigned: number[], start: number, end: number, observationWeight: number): TrainingExample {
  // A window that leaves history out says so right after the prefix.
  const marker = start > r.prefixEnd ? r.omitted : new Int32Array(0);
  const head = r.prefixEnd + marker.length; // where ids[start] lands
  const n = head + (end - start);
  const tokens = new Int32Array(n);
  tokens.set(r.ids.subarray(0, r.prefixEnd), 0);
  tokens.set(marker, r.prefixEnd);
  tokens.set(r.ids.subarray(start, end), head);
  const tokenWeights = new Float32Array(n);
  // Only the turns assigned to this window carry weight (a turn is trained once).
  for (const s of assigned) {
    const span = r.steps[s];
    tokenWeights.set(fullWeights.subarray(span.agentStart, span.eotEnd), head + span.agentStart - start);
    // The observation after it, if this window reaches its end (the last turn's never does).
    if (observationWeight > 0 && span.end <= end) tokenWeights.fill(observationWeight, head + span.eotEnd - start, head + span.end - start);
  }
  tokenWeights[0] = 0;
  const labelSteps = new Int32Array(n - 1).fill(-1);
  for (const s of assigned) {
    const span = r.steps[s];
    labelSteps.fill(s, head + span.agentStart - start - 1, head + span.eotEnd - start - 1);
  }
  return {
    trajectoryId: r.trajectoryId,
    tokens,
    tokenWeights,
    inputIds: tokens.slice(0, n - 1),
    labels: tokens.slice(1),
    weights: tokenWeights.slice(1),
    supervisedSteps: assigned,
    labelSteps,
    window: { start, end },
    cutTokens: start - r.prefixEnd,
  };
}

/** Examples of one rendered trajectory for its supervised steps (sorted). */
export function windowExamples(r: RenderedTrajectory, supervised: number[], contextLength: number, dropped: DroppedTurn[], observationWeight = 0): TrainingExample[] {
  const cap = contextLength + 1;
  const full = tokenWeightsFor(r, supervised);
  // Tokens available after the prefix: a window that cuts history also holds the marker.
  const room = cap - r.prefixEnd;
  const roomCut = room - r.omitted.length;
  const examples: TrainingExample[] = [];
  const lastEnd = supervised.length ? r.steps[supervised[supervised.length - 1]].eotEnd : r.prefixEnd;
  if (supervised.length && lastEnd <= cap) return [makeExample(r, full, supervised, r.prefixEnd, lastEnd, observationWeight)];
  let i = 0;
  while (i < supervised.length) {
    const k = supervised[i];
    const turn = r.steps[k];
    const need = turn.eotEnd - turn.start; // header + agent turn + end-of-turn
    const fits = turn.start === r.prefixEnd ? need <= room : need <= roomCut;
    if (!fits) {
      const marker = turn.start === r.prefixEnd ? '' : ` and the ${r.omitted.length}-token marker of left-out steps`;
      dropped.push({
        trajectoryId: r.trajectoryId,
        step: k,
        reason: `the prefix (${r.prefixEnd} tokens: instruction and system text)${marker} plus this agent turn (${need} tokens) need ${r.prefixEnd + need + (marker ? r.omitted.length : 0)} tokens; the context holds ${cap} (contextLength ${contextLength} + 1)`,
      });
      i++;
      continue;
    }
    // A window starting right after the prefix needs no marker and may reach further.
    const reach = turn.start === r.prefixEnd ? room : roomCut;
    // Extend the window over following supervised turns while they still fit with turn k.
    let j = i;
    while (j + 1 < supervised.length && r.steps[supervised[j + 1]].eotEnd - turn.start <= reach) j++;
    const end = r.steps[supervised[j]].eotEnd;
    // Start as early as possible, at a step boundary (never mid-turn), but not after turn k's
    // header: right after the prefix if everything fits, else leaving room for the marker.
    const start = end - r.prefixEnd <= room ? r.prefixEnd : r.steps[firstStepFrom(r, end - roomCut, k)].start;
    examples.push(makeExample(r, full, supervised.slice(i, j + 1), start, end, observationWeight));
    i = j + 1;
  }
  return examples;
}

/** The first step (≤ k) whose start is at or after `earliest` (steps[k] always qualifies). */
function firstStepFrom(r: RenderedTrajectory, earliest: number, k: number): number {
  let lo = 0;
  let hi = k;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r.steps[mid].start >= earliest) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Training examples for an arm over many trajectories, with a report of everything cut or dropped. */
export function buildTrainingExamples(trajectories: readonly Trajectory[], opts: MaskOptions): { examples: TrainingExample[]; report: MaskReport } {
  if (!Number.isInteger(opts.contextLength) || opts.contextLength < 2) throw new Error(`contextLength must be an integer ≥ 2 (got ${opts.contextLength})`);
  const report: MaskReport = {
    arm: opts.arm,
    contextLength: opts.contextLength,
    trajectories: trajectories.length,
    examples: 0,
    supervisedTurns: 0,
    supervisedTokens: 0,
    windowed: 0,
    cutTokens: 0,
    droppedTurns: [],
    withoutSupervisedSteps: [],
  };
  const examples: TrainingExample[] = [];
  for (const t of trajectories) {
    const supervised = armSteps(opts.arm, t, { seed: opts.seed, budget: opts.budget, stepLoss: stepLossFor(t, opts.stepLoss) });
    if (supervised.length === 0) {
      report.withoutSupervisedSteps.push(t.id);
      continue;
    }
    const r = renderTrajectory(t, opts.tokenizer, opts.agentText);
    const ex = windowExamples(r, supervised, opts.contextLength, report.droppedTurns, opts.observationWeight ?? 0);
    if (ex.length > 1) report.windowed++;
    for (const e of ex) {
      report.supervisedTurns += e.supervisedSteps.length;
      for (const w of e.weights) report.supervisedTokens += w;
      report.cutTokens += e.cutTokens;
      examples.push(e);
    }
  }
  report.examples = examples.length;
  return { examples, report };
}

/** Per-step loss for the highest-loss arm, from a model's per-position cross-entropy on the
 *  examples of the FULL arm (which cover every trainable turn once): the mean over each agent
 *  turn's weighted positions. `positionLoss(i)` gives example i's loss per label position (e.g.
 *  its row of the engine's per-position CE). Steps with no example (dropped as too long) get
 *  −Infinity, so the highest-loss arm never picks a turn that cannot be trained; they are listed. */
export function aggregateStepLoss(trajectories: readonly Trajectory[], examples: readonly TrainingExample[], positionLoss: (exampleIndex: number) => ArrayLike<number>): { stepLoss: Record<string, number[]>; missing: { trajectoryId: string; step: number }[] } {
  const sums = new Map<string, { sum: Float64Array; count: Uint32Array }>();
  for (const t of trajectories) sums.set(t.id, { sum: new Float64Array(t.steps.length), count: new Uint32Array(t.steps.length) });
  examples.forEach((e, i) => {
    const acc = sums.get(e.trajectoryId);
    if (!acc) throw new Error(`example ${i} belongs to trajectory "${e.trajectoryId}", which is not in the list`);
    const loss = positionLoss(i);
    if (loss.length < e.labelSteps.length) throw new Error(`example ${i}: ${loss.length} losses for ${e.labelSteps.length} positions`);
    for (let p = 0; p < e.labelSteps.length; p++) {
      const s = e.labelSteps[p];
      if (s >= 0) {
        acc.sum[s] += loss[p];
        acc.count[s]++;
      }
    }
  });
  const stepLoss: Record<string, number[]> = {};
  const missing: { trajectoryId: string; step: number }[] = [];
  for (const [id, { sum, count }] of sums) {
    stepLoss[id] = Array.from(sum, (v, s) => {
      if (count[s] === 0) {
        missing.push({ trajectoryId: id, step: s });
        return -Infinity;
      }
      return v / count[s];
    });
  }
  return { stepLoss, missing };
}

/** B×T batches as the engine takes them (src/engine/batch.ts TokenBatch): one example per row,
 *  padded with padId, label −100 and weight 0. The last batch's missing rows are all padding. */
export function packBatches(examples: readonly TrainingExample[], opts: { batchSize: number; seqLen: number; padId: number }): { inputIds: Int32Array; labels: Int32Array; weights: Float32Array; batch: number; seqLen: number; rows: number }[] {
  const { batchSize: B, seqLen: T, padId } = opts;
  const out = [];
  for (let b0 = 0; b0 < examples.length; b0 += B) {
    const inputIds = new Int32Array(B * T).fill(padId);
    const labels = new Int32Array(B * T).fill(IGNORE_LABEL);
    const weights = new Float32Array(B * T);
    const rows = Math.min(B, examples.length - b0);
    for (let r = 0; r < rows; r++) {
      const e = examples[b0 + r];
      if (e.inputIds.length > T) throw new Error(`example of "${e.trajectoryId}" has ${e.inputIds.length} positions, more than seqLen ${T}; build examples with contextLength ≤ ${T}`);
      inputIds.set(e.inputIds, r * T);
      labels.set(e.labels, r * T);
      weights.set(e.weights, r * T);
    }
    out.push({ inputIds, labels, weights, batch: B, seqLen: T, rows });
  }
  return out;
}

export interface TokenViewEntry {
  id: number;
  /** Decoded text of the token (for display only; render it as text, never as HTML). Joined,
   *  the texts give the decoded rendering; special tokens a decoder prints as nothing show their name. */
  text: string;
  /** Character span [start, end) of `text` in the view's `text` (the texts joined). */
  start: number;
  end: number;
  segment: SegmentKind;
  step?: number;
  weight: number;
}

/** What the UI draws: every token of the full rendering with its text, segment, step and weight for an arm. */
export function tokenView(t: Trajectory, opts: Omit<MaskOptions, 'contextLength'>): { text: string; tokens: TokenViewEntry[]; supervisedSteps: number[] } {
  const supervised = armSteps(opts.arm, t, { seed: opts.seed, budget: opts.budget, stepLoss: stepLossFor(t, opts.stepLoss) });
  const r = renderTrajectory(t, opts.tokenizer, opts.agentText);
  const w = tokenWeightsFor(r, supervised);
  const texts = tokenTexts(r.ids, opts.tokenizer);
  // Special tokens some decoders print as nothing (llama2.c BOS/EOS) are shown by name.
  const specialName = new Map(Object.entries(opts.tokenizer.specialTokens).map(([name, id]) => [id, name]));
  texts.forEach((text, i) => {
    if (text === '' && specialName.has(r.ids[i])) texts[i] = specialName.get(r.ids[i])!;
  });
  const tokens: TokenViewEntry[] = [];
  let at = 0;
  for (const seg of r.segments) {
    for (let i = seg.start; i < seg.start + seg.length; i++) {
      tokens.push({ id: r.ids[i], text: texts[i], start: at, end: at + texts[i].length, segment: seg.kind, ...(seg.step !== undefined && { step: seg.step }), weight: w[i] });
      at += texts[i].length;
    }
  }
  return { text: texts.join(''), tokens, supervisedSteps: supervised };
}
