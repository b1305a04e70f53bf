// `atlas export <trajectories.jsonl> --format tokenized --model <…> --out <file.jsonl>`: the
// arm's training windows as Hugging Face token lines ({input_ids, labels, attention_mask}),
// built by the code `atlas train` builds its rows with (train-data.ts prepareParsed +
// trajectoryExamples → masks.ts buildTrainingExamples), converted by src/data/tokenized.ts
// (which explains the label mapping), plus a side file `<out>.meta.json` naming the tokenizer,
// the chat layout, the arm, the sequence length and the counts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Arm } from '../data/arms.ts';
import type { AgentTextStyle } from '../data/agentText.ts';
import { chooseSplit, type ExportSplit, type SplitChoice } from '../data/exportSplit.ts';
import { supervisedCount, tokenizedLine } from '../data/tokenized.ts';
import type { Trajectory } from '../data/trajectory.ts';
import { stepLossFromJsonl } from '../select/step-loss-file.ts';
import { modelStepLoss, modelTokenizerFromArg } from './model-arg.ts';
import { prepareParsed, trajectoryExamples } from './train-data.ts';

export const TOKENIZED_META_VERSION = 1;

export interface TokenizedRequest {
  /** The trajectories file (for messages and the meta file). */
  file: string;
  trajectories: readonly Trajectory[];
  out: string;
  modelArg: string;
  arm: Arm;
  seed: number;
  budget: number;
  /** Tokens per line (default: the model's context). */
  seqLen?: number;
  pad: boolean;
  selection?: string;
  stepLossFile?: string;
  agentText: AgentTextStyle;
  split: ExportSplit;
}

export interface TokenizedResult {
  text: string;
  sideFiles: Record<string, string>;
  lines: number;
  trajectories: number;
  withoutSelectedSteps: string[];
  split: SplitChoice;
  summary: { seqLen: number; supervisedTokens: number; tokens: number; droppedTurns: number; skippedWithoutSelection: number };
}

const first = (ids: readonly string[], n = 100) => (ids.length > n ? [...ids.slice(0, n), `… ${ids.length - n} more`] : [...ids]);

export async function tokenizedExport(r: TokenizedRequest): Promise<TokenizedResult> {
  const { trajectories: chosen, choice } = chooseSplit(r.trajectories, r.split);
  if (!chosen.length) throw new Error(`${r.file}: no trajectories left after --split ${r.split}`);
  const prepared = prepareParsed(chosen, r.file, r.arm, r.selection);
  const model = await modelTokenizerFromArg(r.modelArg);
  const { tokenizer } = model;
  const seqLen = r.seqLen ?? model.contextLength;
  if (seqLen === undefined) throw new Error(`--seq-len is required: ${r.modelArg} has no config.json with max_position_embeddings to take the context from`);
  if (!Number.isInteger(seqLen) || seqLen < 3) throw new Error(`--seq-len must be an integer ≥ 3 (got ${seqLen})`);
  if (model.contextLength !== undefined && seqLen > model.contextLength) throw new Error(`--seq-len ${seqLen} is longer than the model's context (${model.contextLength} positions)`);
  if (model.vocabSize !== undefined && tokenizer.vocabSize > model.vocabSize) {
    throw new Error(`tokenizer "${tokenizer.name}" has ${tokenizer.vocabSize} tokens but the model ${r.modelArg} only ${model.vocabSize}: its ids would fall outside the embedding`);
  }
  // Every line holds ≤ seqLen tokens: the engine's windows of seqLen − 1 positions plus the
  // last token they predict (src/data/tokenized.ts).
  const context = seqLen - 1;

  let stepLoss: Record<string, readonly number[]> | undefined;
  let stepLossSource: string | undefined;
  if (r.stepLossFile !== undefined) {
    if (r.arm !== 'highest-loss') throw new Error('--step-loss applies to --arm highest-loss only');
    const fromFile = stepLossFromJsonl(await readFile(r.stepLossFile, 'utf8'), r.stepLossFile);
    stepLoss = Object.fromEntries(await Promise.all(prepared.used.map(async (t) => [t.id, await fromFile(t)] as const)));
    stepLossSource = `file ${r.stepLossFile}`;
  } else if (r.arm === 'highest-loss') {
    // As `atlas train` does: the model's own per-step loss at the windows' context (WebGPU).
    console.error(`computing ${r.modelArg}'s per-step loss on ${prepared.used.length} trajectories (highest-loss arm)…`);
    const fn = await modelStepLoss(r.modelArg, prepared.used, { seed: r.seed, contextLength: context });
    stepLoss = Object.fromEntries(prepared.used.map((t) => [t.id, fn(t)] as const));
    stepLossSource = `the model's per-step loss at context ${context} (seed ${r.seed} for random weights)`;
  }

  const { examples, report } = trajectoryExamples(prepared, { tokenizer, T: context, seed: r.seed, budget: r.budget, stepLoss, agentText: r.agentText });
  const lines = examples.map((e) => tokenizedLine(e, { padTo: r.pad ? seqLen : undefined, padId: tokenizer.padId }));
  const supervisedTokens = lines.reduce((n, l) => n + supervisedCount(l), 0);
  const tokens = lines.reduce((n, l) => n + l.attention_mask.reduce((a, b) => a + b, 0), 0);

  const chat = tokenizer.chat;
  const meta = {
    format: 'atlas-tokenized',
    version: TOKENIZED_META_VERSION,
    data: path.basename(r.out),
    trajectoriesFile: r.file,
    model: r.modelArg,
    tokenizer: {
      name: tokenizer.name,
      files: model.files.map((f) => ({ path: f.path, sha256: createHash('sha256').update(readFileSync(f.abs)).digest('hex') })),
      vocabSize: tokenizer.vocabSize,
      bosId: tokenizer.bosId ?? null,
      eosId: tokenizer.eosId ?? null,
      padId: tokenizer.padId,
    },
    template: {
      source: chat.source,
      ...(chat.note && { note: chat.note }),
      headers: chat.header,
      endOfTurn: { text: chat.eotText, id: chat.eotId },
      afterEndOfTurn: chat.afterEot,
      bos: tokenizer.bosId !== undefined,
      agentText: r.agentText,
      rendering: 'BOS, then per turn: role header, content, end-of-turn token (+ afterEndOfTurn), in the order system, preamble, instruction, (agent turn, observation) per step; each piece tokenized on its own (src/data/render.ts). Windows: src/data/masks.ts',
    },
    arm: r.arm,
    ...(r.selection !== undefined && { selection: r.selection }),
    seed: r.seed,
    budget: r.budget,
    ...(stepLossSource && { stepLoss: stepLossSource }),
    seqLen,
    engineContextLength: context,
    sameWindowsAs: `atlas train --model ${r.modelArg} --data ${r.file} --arm ${r.arm} --seq ${context} --seed ${r.seed} --budget ${r.budget}${r.selection !== undefined ? ` --selection ${r.selection}` : ''}`,
    padded: r.pad,
    labels: 'Hugging Face causal-LM convention, unshifted: labels[j] = input_ids[j] where predicting token j counts in the loss, -100 elsewhere (labels[0] is always -100); the model shifts. Do not re-apply a chat template.',
    weights: 'every counted token has weight 1: the engine masks are 0/1 (fractional weights cannot be written as labels and are refused); the engine loss is the mean cross-entropy over the counted tokens of a batch, as Hugging Face computes it',
    counts: {
      trajectoriesInFile: r.trajectories.length,
      trajectories: chosen.length,
      used: prepared.used.length,
      skippedWithoutSelection: prepared.skipped.length,
      withoutSupervisedSteps: report.withoutSupervisedSteps.length,
      lines: lines.length,
      tokens,
      supervisedTokens,
      supervisedTurns: report.supervisedTurns,
      windowed: report.windowed,
      cutTokens: report.cutTokens,
      droppedTurns: report.droppedTurns.length,
    },
    droppedTurns: report.droppedTurns.slice(0, 100),
    skippedWithoutSelection: first(prepared.skipped),
    withoutSupervisedSteps: first(report.withoutSupervisedSteps),
    budgetFallback: first(prepared.budgetFallback),
    split: choice,
  };
  return {
    text: lines.map((l) => JSON.stringify(l) + '\n').join(''),
    sideFiles: { 'meta.json': JSON.stringify(meta, null, 1) + '\n' },
    lines: lines.length,
    trajectories: chosen.length,
    withoutSelectedSteps: report.withoutSupervisedSteps,
    split: choice,
    summary: { seqLen, supervisedTokens, tokens, droppedTurns: report.droppedTurns.length, skippedWithoutSelection: prepared.skipped.length },
  };
}
