// Experiment events → the run's log: every run (one arm trained with one seed) kept apart, the
// untuned baseline, status and messages; per-arm summaries (means over seeds), CSV and JSON.
// Pure: no DOM, so it is shared by the charts, the exports and tests. Chart columns are built
// from it in chart-data.ts, the SVG export in chart-svg.ts.
import type { Arm } from '../../data/arms.ts';
import { failureMessage, type BaselineMetrics, type EvalMetrics, type ExperimentConfig, type ExperimentEvent, type RunStatus, type TrainMetrics } from '../../experiment/protocol.ts';
import { spreadOf, type Spread } from '../../experiment/results.ts';

/** One arm trained with one seed: its own rows, in step order. */
export interface RunLog {
  arm: Arm;
  /** The run's training seed; absent only for events without one in a log that knows no seeds. */
  trainSeed?: number;
  train: TrainMetrics[];
  eval: EvalMetrics[];
}

export interface MetricsLog {
  arms: Arm[];
  /** The run's training seeds (trainingSeeds(config)), plus any an event brought. An event without
   *  `trainSeed` (runs stored before seeds existed) belongs to the first: config.seed. */
  seeds: number[];
  /** Every (arm, seed) run, in the order of their first event. */
  runs: RunLog[];
  /** The untuned starting weights, measured once before step 1. */
  baseline?: BaselineMetrics;
  status: RunStatus | null;
  /** GPU bytes and adapter as last reported (kept when later statuses omit them). */
  gpuBytes?: number;
  adapter?: string;
  errors: string[];
  logs: string[];
}

export function emptyLog(arms: readonly Arm[], seeds: readonly number[] = []): MetricsLog {
  return { arms: [...arms], seeds: [...seeds], runs: [], status: null, errors: [], logs: [] };
}

/** Appends a row; a run resumed from a checkpoint repeats steps after it, which replace the old ones. */
function pushStep<T extends { step: number }>(rows: T[], row: T): void {
  while (rows.length && rows[rows.length - 1].step >= row.step) rows.pop();
  rows.push(row);
}

/** The run an event belongs to, created on its first event. */
function runFor(log: MetricsLog, arm: Arm, eventSeed: number | undefined): RunLog {
  const trainSeed = eventSeed ?? log.seeds[0];
  let run = log.runs.find((r) => r.arm === arm && r.trainSeed === trainSeed);
  if (!run) {
    run = { arm, trainSeed, train: [], eval: [] };
    log.runs.push(run);
    if (!log.arms.includes(arm)) log.arms.push(arm);
    if (trainSeed !== undefined && !log.seeds.includes(trainSeed)) log.seeds = [...log.seeds, trainSeed].sort((a, b) => a - b);
  }
  return run;
}

export function addEvent(log: MetricsLog, e: ExperimentEvent): void {
  switch (e.kind) {
    case 'train':
      pushStep(runFor(log, e.arm, e.trainSeed).train, e);
      break;
    case 'eval':
      pushStep(runFor(log, e.arm, e.trainSeed).eval, e);
      break;
    case 'baseline':
      log.baseline = e;
      break;
    case 'status':
      log.status = e;
      if (e.gpuBytes !== undefined) log.gpuBytes = e.gpuBytes;
      if (e.adapter !== undefined) log.adapter = e.adapter;
      break;
    case 'log':
      log.logs.push(e.message);
      if (log.logs.length > 500) log.logs.splice(0, log.logs.length - 500);
      break;
    default:
      log.errors.push(failureMessage(e));
  }
}

export function logFromEvents(arms: readonly Arm[], events: readonly ExperimentEvent[], seeds: readonly number[] = []): MetricsLog {
  const log = emptyLog(arms, seeds);
  for (const e of events) addEvent(log, e);
  return log;
}

/** A resume restarts every run at the checkpoint's step: each run's rows after it go (the baseline stays). */
export function dropRowsAfter(log: MetricsLog, step: number): void {
  for (const run of log.runs) {
    while (run.train.length && run.train[run.train.length - 1].step > step) run.train.pop();
    while (run.eval.length && run.eval[run.eval.length - 1].step > step) run.eval.pop();
  }
}

/** The arm's runs, by seed. */
export function runsOf(log: MetricsLog, arm: Arm): RunLog[] {
  return log.runs.filter((r) => r.arm === arm).sort((a, b) => (a.trainSeed ?? 0) - (b.trainSeed ?? 0));
}

/** A run's last step: the later of its last training step and its last evaluation. */
function lastStep(run: RunLog | undefined): number {
  return Math.max(run?.train.at(-1)?.step ?? 0, run?.eval.at(-1)?.step ?? 0);
}

/** The last step every seed of each arm finished (a seed that has not reported yet counts 0). */
export function armSteps(log: MetricsLog): { arm: Arm; step: number }[] {
  return log.arms.map((arm) => {
    const expected = log.seeds.length ? log.seeds.map((s) => log.runs.find((r) => r.arm === arm && r.trainSeed === s)) : runsOf(log, arm);
    return { arm, step: expected.length ? Math.min(...expected.map(lastStep)) : 0 };
  });
}

/** The run's progress: the last step every run (arm × seed) finished. Runs interleave, so one may be a step ahead. */
export function stepEveryRunDid(log: MetricsLog): number {
  const steps = armSteps(log);
  return steps.length ? Math.min(...steps.map((a) => a.step)) : 0;
}

/** Every evaluation, each with its run's training seed filled in (for resultsTable). */
export function allEvals(log: MetricsLog): EvalMetrics[] {
  return log.runs.flatMap((run) => run.eval.map((e) => (e.trainSeed === run.trainSeed ? e : { ...e, trainSeed: run.trainSeed })));
}

/** Each list's latest row no later than the step every list reached, so a mean never mixes one seed's step 6 with another's step 5. */
function latestCommonRows<T extends { step: number }>(lists: readonly T[][]): T[] {
  const nonEmpty = lists.filter((l) => l.length);
  if (!nonEmpty.length) return [];
  const common = Math.min(...nonEmpty.map((l) => l[l.length - 1].step));
  return nonEmpty.map((l) => l.findLast((r) => r.step <= common)).filter((r): r is T => r !== undefined);
}

const hasRollout = (e: EvalMetrics) => e.successHeldIn !== undefined || e.successHeldOut !== undefined;

/** Each figure of an arm as mean and range over its seeds, for the cards. */
export interface ArmSummary {
  arm: Arm;
  /** The last step every seed of the arm finished. */
  step: number;
  /** Runs (training seeds) of this arm that reported. */
  seeds: number;
  loss?: Spread;
  supervisedTokens?: Spread;
  tokensPerSecond?: Spread;
  /** Training time so far (the longest of the arm's runs; they share one clock). */
  elapsedMs?: number;
  heldOutLossCritical?: Spread;
  heldOutLossAll?: Spread;
  nextActionAccuracy?: Spread;
  successHeldIn?: Spread;
  successHeldOut?: Spread;
}

export function armSummaries(log: MetricsLog): ArmSummary[] {
  const steps = armSteps(log);
  return log.arms.map((arm, i) => {
    const runs = runsOf(log, arm);
    const train = latestCommonRows(runs.map((r) => r.train));
    const evals = latestCommonRows(runs.map((r) => r.eval));
    const rollouts = latestCommonRows(runs.map((r) => r.eval.filter(hasRollout)));
    const elapsed = runs.map((r) => r.train.at(-1)?.elapsedMs).filter((v): v is number => v !== undefined);
    return {
      arm,
      step: steps[i].step,
      seeds: runs.length,
      loss: spreadOf(train.map((r) => r.loss)),
      supervisedTokens: spreadOf(train.map((r) => r.supervisedTokens)),
      tokensPerSecond: spreadOf(train.map((r) => r.tokensPerSecond)),
      elapsedMs: elapsed.length ? Math.max(...elapsed) : undefined,
      heldOutLossCritical: spreadOf(evals.map((r) => r.heldOutLossCritical)),
      heldOutLossAll: spreadOf(evals.map((r) => r.heldOutLossAll)),
      nextActionAccuracy: spreadOf(evals.map((r) => r.nextActionAccuracy)),
      successHeldIn: spreadOf(rollouts.map((r) => r.successHeldIn)),
      successHeldOut: spreadOf(rollouts.map((r) => r.successHeldOut)),
    };
  });
}

const csvCell = (v: unknown) => {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

const CSV_COLUMNS = ['kind', 'arm', 'step', 'loss', 'lr', 'supervisedTokens', 'tokensPerSecond', 'elapsedMs', 'heldOutLossCritical', 'heldOutLossAll', 'nextActionAccuracy', 'successHeldIn', 'successHeldOut', 'rolloutSeeds', 'expertSuccessHeldIn', 'expertSuccessHeldOut', 'trainSeed'] as const;

function csvRow(row: object, trainSeed: number | undefined): string {
  const cells: Record<string, unknown> = { ...row, trainSeed };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',');
}

/** The baseline (kind `baseline`, step 0, no arm), then every run's train and eval rows, arm by arm and seed by seed. */
export function metricsCsv(log: MetricsLog): string {
  const rows: string[] = [CSV_COLUMNS.join(',')];
  if (log.baseline) rows.push(csvRow(log.baseline, undefined));
  for (const arm of log.arms) {
    for (const run of runsOf(log, arm)) for (const r of [...run.train, ...run.eval]) rows.push(csvRow(r, run.trainSeed));
  }
  return rows.join('\n') + '\n';
}

/** The metrics JSON export: the config and link that reproduce the run, the baseline and every run's rows. */
export function metricsJson(log: MetricsLog, config: ExperimentConfig | null, link: string): string {
  const runs = log.arms.flatMap((arm) => runsOf(log, arm));
  return JSON.stringify({ config, link, baseline: log.baseline ?? null, runs, status: log.status, errors: log.errors }, null, 2);
}
