// What `atlas train` trains on: token sequences ({"input_ids": […], "labels"?: […],
// "weights"?: […]} per line) cut into windows, or the project's trajectories with an arm's loss
// masks (src/data/masks.ts), reported on stderr; and the tokenizer files an output folder needs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IGNORE_LABEL } from '../engine/batch.ts';
import { ARMS, type Arm } from '../data/arms.ts';
import { buildTrainingExamples, packBatches, type MaskReport, type TrainingExample } from '../data/masks.ts';
import { parseTrajectoriesJsonl } from '../data/jsonl.ts';
import { activeSelection, type Trajectory } from '../data/trajectory.ts';
import type { TextTokenizer } from '../data/tokenize.ts';
import type { AgentTextStyle } from '../data/agentText.ts';

/** One training row of exactly T positions. */
export interface Row {
  ids: number[];
  labels: number[];
  weights: number[];
}

export function parseTrainingJsonl(text: string, file: string, vocabSize: number): Row[] {
  const rows: Row[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${file}:${i + 1}`;
    let v: { input_ids?: unknown; labels?: unknown; weights?: unknown };
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new Error(`${where}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const ids = numbers(v.input_ids, `${where} input_ids`, true);
    if (ids.length < 1) throw new Error(`${where}: input_ids is empty`);
    const labels = v.labels === undefined ? ids.map((_, t) => (t + 1 < ids.length ? ids[t + 1] : IGNORE_LABEL)) : numbers(v.labels, `${where} labels`, true);
    const weights = v.weights === undefined ? ids.map(() => 1) : numbers(v.weights, `${where} weights`, false);
    if (labels.length !== ids.length) throw new Error(`${where}: labels has ${labels.length} values, input_ids ${ids.length}`);
    if (weights.length !== ids.length) throw new Error(`${where}: weights has ${weights.length} values, input_ids ${ids.length}`);
    ids.forEach((id, t) => {
      if (id < 0 || id >= vocabSize) throw new Error(`${where}: input_ids[${t}] = ${id} is outside the vocabulary [0, ${vocabSize})`);
    });
    ids.forEach((_, t) => {
      const l = labels[t];
      if (l !== IGNORE_LABEL && (l < 0 || l >= vocabSize)) throw new Error(`${where}: labels[${t}] = ${l} is outside the vocabulary`);
      if (!(weights[t] >= 0)) throw new Error(`${where}: weights[${t}] = ${weights[t]} must be ≥ 0`);
    });
    rows.push({ ids, labels, weights });
  });
  if (!rows.length) throw new Error(`${file}: no sequences`);
  return rows;
}

function numbers(v: unknown, where: string, integers: boolean): number[] {
  if (!Array.isArray(v)) throw new Error(`${where} must be an array`);
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || (integers && !Number.isInteger(x))) throw new Error(`${where}[${i}] = ${JSON.stringify(x)} is not ${integers ? 'an integer' : 'a number'}`);
    return x;
  });
}

/** Cuts rows into windows of T (keeping every position) and pads the last with weight 0. */
export function windows(rows: Row[], T: number): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    for (let s = 0; s < r.ids.length; s += T) {
      const w: Row = { ids: r.ids.slice(s, s + T), labels: r.labels.slice(s, s + T), weights: r.weights.slice(s, s + T) };
      while (w.ids.length < T) {
        w.ids.push(0);
        w.labels.push(IGNORE_LABEL);
        w.weights.push(0);
      }
      out.push(w);
    }
  }
  return out;
}

export type DataKind = 'tokens' | 'trajectories' | 'unknown';

/** Which kind of JSONL `text` holds: token sequences carry "input_ids", trajectory records
 *  "version" (and no "input_ids"). A file with both kinds is refused, naming a line of each;
 *  lines with neither (or bad JSON) are left to the parser of the detected kind, which names
 *  file:line. */
export function detectDataKind(text: string, file: string): DataKind {
  let firstTrajectory = 0;
  let firstTokens = 0;
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    // "input_ids" decides first, so every token file that trained before still does.
    if ('input_ids' in v) firstTokens ||= i + 1;
    else if ('version' in v) firstTrajectory ||= i + 1;
  });
  if (firstTrajectory && firstTokens) {
    throw new Error(`${file} mixes trajectory records (line ${firstTrajectory} has "version") and token sequences (line ${firstTokens} has "input_ids"); train on one kind per file`);
  }
  return firstTrajectory ? 'trajectories' : firstTokens ? 'tokens' : 'unknown';
}

export function parseArm(value: string | undefined): Arm {
  if (value === undefined) throw new Error(`--arm is required when --data holds trajectories (one of ${ARMS.join(', ')})`);
  if (!ARMS.includes(value as Arm)) throw new Error(`unknown --arm "${value}" (one of ${ARMS.join(', ')})`);
  return value as Arm;
}

/** With --selection NAME only that selector's labelled selection counts (no fallback to
 *  another selector's): the other selections are left out of the copy that is trained on. */
export function withSelection(ts: readonly Trajectory[], name: string | undefined): Trajectory[] {
  if (name === undefined) return [...ts];
  return ts.map((t) => ({ ...t, selections: t.selections.filter((s) => s.selector === name), activeSelection: name }));
}

const firstIds = (ids: readonly string[], n = 3) => ids.slice(0, n).map((id) => JSON.stringify(id)).join(', ') + (ids.length > n ? `, … (${ids.length - n} more)` : '');

/** Human-readable mask report lines (stderr). Every skipped trajectory and dropped turn is counted and named. */
export function describeMaskReport(r: MaskReport, skippedNoSelection: readonly string[], budgetFallback: readonly string[]): string[] {
  const lines = [
    `mask report: ${JSON.stringify({ arm: r.arm, contextLength: r.contextLength, trajectories: r.trajectories, skippedWithoutSelection: skippedNoSelection.length, examples: r.examples, supervisedTurns: r.supervisedTurns, supervisedTokens: r.supervisedTokens, windowed: r.windowed, cutTokens: r.cutTokens, droppedTurns: r.droppedTurns.length, withoutSupervisedSteps: r.withoutSupervisedSteps.length })}`,
  ];
  if (skippedNoSelection.length) lines.push(`skipped ${skippedNoSelection.length} trajectories with no labelled selection for --arm critical: ${firstIds(skippedNoSelection)}`);
  if (budgetFallback.length) lines.push(`note: ${budgetFallback.length} trajectories have no labelled selection; --arm ${r.arm} takes the budget count of steps for them: ${firstIds(budgetFallback)}`);
  if (r.withoutSupervisedSteps.length) lines.push(`no example from ${r.withoutSupervisedSteps.length} trajectories where --arm ${r.arm} selects no step: ${firstIds(r.withoutSupervisedSteps)}`);
  for (const d of r.droppedTurns.slice(0, 3)) lines.push(`dropped turn: "${d.trajectoryId}" step ${d.step}: ${d.reason}`);
  if (r.droppedTurns.length > 3) lines.push(`… ${r.droppedTurns.length - 3} more dropped turns`);
  return lines;
}

/** The tokenizer files to copy into the output folder so it loads back with its tokenizer. */
export function tokenizerFilesOf(modelArg: string, tokenizerArg: string | undefined, vocabSize: number): { from: string; to: string }[] {
  const pick = (dir: string, names: string[]) => names.filter((n) => existsSync(path.join(dir, n))).map((n) => ({ from: path.join(dir, n), to: n }));
  const hfPair = (dir: string) => pick(dir, ['tokenizer.json', 'tokenizer_config.json']);
  const bin = (file: string) => [{ from: file, to: path.basename(file) === `tok${vocabSize}.bin` ? path.basename(file) : 'tokenizer.bin' }];
  const spec = tokenizerArg ?? (modelArg.startsWith('preset:') ? 'default' : modelArg);
  if (spec === 'default') return hfPair(fileURLToPath(new URL('../../models/default-tokenizer/', import.meta.url)));
  if (spec.endsWith('.bin')) {
    if (tokenizerArg) return bin(spec);
    const dir = path.dirname(spec);
    const found = pick(dir, [`tok${vocabSize}.bin`, 'tokenizer.bin'])[0];
    return found ? bin(found.from) : [];
  }
  if (spec.endsWith('.json')) return [{ from: spec, to: 'tokenizer.json' }, ...pick(path.dirname(spec), ['tokenizer_config.json'])];
  const pair = hfPair(spec);
  return pair.length ? pair : pick(spec, [`tok${vocabSize}.bin`, 'tokenizer.bin']);
}

export interface PreparedTrajectories {
  file: string;
  arm: Arm;
  /** Trajectories in the file (after --selection). */
  all: Trajectory[];
  /** The ones the arm trains on. */
  used: Trajectory[];
  /** Skipped by the critical arm for want of a labelled selection. */
  skipped: string[];
  /** random / rejected / highest-loss without a selection: the budget count applies. */
  budgetFallback: string[];
}

/** Parses trajectories and decides which the arm uses; refuses a critical arm with nothing labelled. */
export function prepareTrajectories(text: string, file: string, arm: Arm, selection?: string): PreparedTrajectories {
  return prepareParsed(parseTrajectoriesJsonl(text, file).trajectories, file, arm, selection);
}

/** prepareTrajectories on trajectories already parsed (e.g. after an export's split rule). */
export function prepareParsed(parsed: readonly Trajectory[], file: string, arm: Arm, selection?: string): PreparedTrajectories {
  if (!parsed.length) throw new Error(`${file}: no trajectories`);
  const all = withSelection(parsed, selection);
  const noSelection = all.filter((t) => !activeSelection(t)).map((t) => t.id);
  // The critical arm needs a labelled selection: trajectories without one are skipped (and reported).
  const used = arm === 'critical' ? all.filter((t) => activeSelection(t)) : all;
  if (!used.length) {
    throw new Error(`${file}: none of the ${all.length} trajectories has a labelled selection${selection ? ` named "${selection}"` : ''}, which --arm critical trains on (label them with "atlas select")`);
  }
  return { file, arm, all, used, skipped: arm === 'critical' ? noSelection : [], budgetFallback: arm === 'random' || arm === 'rejected' || arm === 'highest-loss' ? noSelection : [] };
}

/** The arm's masked examples of ≤ T positions (src/data/masks.ts), the report on stderr; what
 *  `atlas train` packs into rows and `atlas export --format tokenized` writes. */
export function trajectoryExamples(p: PreparedTrajectories, opts: { tokenizer: TextTokenizer; T: number; seed: number; budget: number; stepLoss?: Record<string, readonly number[]>; agentText?: AgentTextStyle }): { examples: TrainingExample[]; report: MaskReport } {
  const { examples, report } = buildTrainingExamples(p.used, { arm: p.arm, tokenizer: opts.tokenizer, contextLength: opts.T, seed: opts.seed, budget: opts.budget, stepLoss: opts.stepLoss, agentText: opts.agentText });
  for (const line of describeMaskReport(report, p.skipped, p.budgetFallback)) console.error(line);
  if (!examples.length) throw new Error(`${p.file}: --arm ${p.arm} gives no training example (see the mask report above)`);
  return { examples, report };
}

/** Masked examples of ≤ T positions (src/data/masks.ts), reported on stderr, each packed as
 *  one padded row of `packLen` positions (default: the longest example's, so short data trains
 *  on short rows). */
export function trajectoryRows(p: PreparedTrajectories, opts: { tokenizer: TextTokenizer; T: number; packLen?: number; seed: number; budget: number; stepLoss?: Record<string, readonly number[]>; agentText?: AgentTextStyle }): { rows: Row[]; seqLen: number; examples: TrainingExample[]; report: MaskReport } {
  const { examples, report } = trajectoryExamples(p, opts);
  const seqLen = opts.packLen ?? examples.reduce((m, e) => Math.max(m, e.inputIds.length), 0);
  const rows = packBatches(examples, { batchSize: 1, seqLen, padId: opts.tokenizer.padId }).map((b) => ({ ids: Array.from(b.inputIds), labels: Array.from(b.labels), weights: Array.from(b.weights) }));
  return { rows, seqLen, examples, report };
}
