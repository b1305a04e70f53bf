// Experiment events → per-arm series, chart data (uPlot's aligned columns), CSV/JSON and SVG.
// Pure: no DOM, so it is shared by the charts, the exports and tests.
import type { Arm } from '../../data/arms.ts';
import type { EvalMetrics, ExperimentEvent, RunStatus, TrainMetrics } from '../../experiment/protocol.ts';

export interface MetricsLog {
  arms: Arm[];
  train: Partial<Record<Arm, TrainMetrics[]>>;
  eval: Partial<Record<Arm, EvalMetrics[]>>;
  status: RunStatus | null;
  /** GPU bytes and adapter as last reported (kept when later statuses omit them). */
  gpuBytes?: number;
  adapter?: string;
  errors: string[];
  logs: string[];
}

export function emptyLog(arms: Arm[]): MetricsLog {
  return { arms: [...arms], train: {}, eval: {}, status: null, errors: [], logs: [] };
}

/** Appends a row; a run resumed from a checkpoint repeats steps after it, which replace the old ones. */
function pushStep<T extends { step: number }>(rows: T[], row: T): void {
  while (rows.length && rows[rows.length - 1].step >= row.step) rows.pop();
  rows.push(row);
}

export function addEvent(log: MetricsLog, e: ExperimentEvent): void {
  switch (e.kind) {
    case 'train':
      pushStep((log.train[e.arm] ??= []), e);
      if (!log.arms.includes(e.arm)) log.arms.push(e.arm);
      break;
    case 'eval':
      pushStep((log.eval[e.arm] ??= []), e);
      if (!log.arms.includes(e.arm)) log.arms.push(e.arm);
      break;
    case 'status':
      log.status = e;
      if (e.gpuBytes !== undefined) log.gpuBytes = e.gpuBytes;
      if (e.adapter !== undefined) log.adapter = e.adapter;
      break;
    case 'error':
      log.errors.push(e.message);
      break;
    case 'log':
      log.logs.push(e.message);
      if (log.logs.length > 500) log.logs.splice(0, log.logs.length - 500);
      break;
  }
}

export function logFromEvents(arms: Arm[], events: readonly ExperimentEvent[]): MetricsLog {
  const log = emptyLog(arms);
  for (const e of events) addEvent(log, e);
  return log;
}

/** A train or eval row seen through one type (each field present on one kind only). */
export type MetricRow = Partial<Omit<TrainMetrics, 'kind'>> & Partial<Omit<EvalMetrics, 'kind'>> & { step: number };

export interface ChartLine {
  /** Suffix after the arm name in the legend ('' for single-line charts). */
  suffix: string;
  dash?: number[];
  pick: (m: MetricRow) => number | undefined;
}

export interface ChartSpec {
  id: string;
  title: string;
  yLabel: string;
  /** What the chart shows and how to read it (shown beside the chart). */
  explain: string;
  source: 'train' | 'eval';
  lines: ChartLine[];
  /** y-axis from 0 to 1 (rates). */
  unitRange?: boolean;
}

export const CHARTS: readonly ChartSpec[] = [
  {
    id: 'train-loss',
    title: 'Training loss',
    yLabel: 'loss (nats/token)',
    explain: 'Cross-entropy on each arm’s own supervised tokens. Arms supervise different tokens, so compare shapes, not levels.',
    source: 'train',
    lines: [{ suffix: '', pick: (m) => m.loss }],
  },
  {
    id: 'heldout-loss',
    title: 'Held-out loss',
    yLabel: 'loss (nats/token)',
    explain: 'The same yardstick for every arm: loss on held-out expert trajectories — solid on the critical steps’ turns, dashed on all agent turns. Lower is better.',
    source: 'eval',
    lines: [
      { suffix: ' · critical', pick: (m) => m.heldOutLossCritical },
      { suffix: ' · all turns', dash: [6, 4], pick: (m) => m.heldOutLossAll },
    ],
  },
  {
    id: 'next-action',
    title: 'Next-action accuracy',
    yLabel: 'exact match',
    explain: 'Given the true history of a held-out expert trajectory, how often the model’s next action matches the expert’s exactly.',
    source: 'eval',
    unitRange: true,
    lines: [{ suffix: '', pick: (m) => m.nextActionAccuracy }],
  },
  {
    id: 'success',
    title: 'Rollout success',
    yLabel: 'success rate',
    explain: 'The model acts alone in the environments: solid = held-in tasks, dashed = held-out tasks (unseen task types and an unseen environment). This is the paper’s headline number.',
    source: 'eval',
    unitRange: true,
    lines: [
      { suffix: ' · held-in', pick: (m) => m.successHeldIn },
      { suffix: ' · held-out', dash: [6, 4], pick: (m) => m.successHeldOut },
    ],
  },
  {
    id: 'supervised-tokens',
    title: 'Supervised tokens seen',
    yLabel: 'tokens',
    explain: 'How many tokens carried loss so far. The critical arm learns from far fewer tokens than full — the point of the method.',
    source: 'train',
    lines: [{ suffix: '', pick: (m) => m.supervisedTokens }],
  },
  {
    id: 'throughput',
    title: 'Throughput',
    yLabel: 'tokens/s',
    explain: 'Training speed of each arm on this GPU (all tokens, including context). Arms take turns on one device.',
    source: 'train',
    lines: [{ suffix: '', pick: (m) => m.tokensPerSecond }],
  },
];

export interface SeriesInfo {
  arm: Arm;
  label: string;
  dash?: number[];
}

export interface Aligned {
  /** [x, y1, y2, …] — x is the training step. */
  data: (number | null)[][];
  series: SeriesInfo[];
}

/** One x column (union of steps) and one y column per arm × line; gaps are null. */
export function alignedData(log: MetricsLog, spec: ChartSpec): Aligned {
  const series: SeriesInfo[] = [];
  const columns: Map<number, number>[] = [];
  const xs = new Set<number>();
  for (const arm of log.arms) {
    const rows = (spec.source === 'train' ? log.train[arm] : log.eval[arm]) ?? [];
    for (const line of spec.lines) {
      const col = new Map<number, number>();
      for (const r of rows) {
        const v = line.pick(r as MetricRow);
        if (v !== undefined && v !== null && Number.isFinite(v)) {
          col.set(r.step, v);
          xs.add(r.step);
        }
      }
      // Every arm × line is a series from the start, even before it has a value (rollouts
      // arrive late): the chart's shape never changes, so it is only ever redrawn, not rebuilt.
      series.push({ arm, label: arm + line.suffix, dash: line.dash });
      columns.push(col);
    }
  }
  const x = [...xs].sort((a, b) => a - b);
  return { data: [x, ...columns.map((c) => x.map((s) => c.get(s) ?? null))], series };
}

/** Latest value of every figure per arm, for the summary cards and the results table. */
export interface ArmSummary
  extends Partial<Pick<TrainMetrics, 'loss' | 'supervisedTokens' | 'tokensPerSecond' | 'elapsedMs'>>,
    Partial<Omit<EvalMetrics, 'kind' | 'arm' | 'step'>> {
  arm: Arm;
  /** The later of the arm's last training step and last evaluation. */
  step: number;
}

export function armSummaries(log: MetricsLog): ArmSummary[] {
  return log.arms.map((arm) => {
    const t = log.train[arm]?.at(-1);
    const evals = log.eval[arm] ?? [];
    const e = evals.at(-1);
    const lastRollout = [...evals].reverse().find((x) => x.successHeldIn !== undefined || x.successHeldOut !== undefined);
    return {
      arm,
      step: Math.max(t?.step ?? 0, e?.step ?? 0),
      loss: t?.loss,
      supervisedTokens: t?.supervisedTokens,
      tokensPerSecond: t?.tokensPerSecond,
      elapsedMs: t?.elapsedMs,
      heldOutLossCritical: e?.heldOutLossCritical,
      heldOutLossAll: e?.heldOutLossAll,
      nextActionAccuracy: e?.nextActionAccuracy,
      successHeldIn: lastRollout?.successHeldIn,
      successHeldOut: lastRollout?.successHeldOut,
      rolloutSeeds: lastRollout?.rolloutSeeds,
      expertSuccessHeldIn: lastRollout?.expertSuccessHeldIn,
      expertSuccessHeldOut: lastRollout?.expertSuccessHeldOut,
    };
  });
}

const csvCell = (v: unknown) => {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Every train and eval row, one per line: kind, arm, step, then each metric. */
export function metricsCsv(log: MetricsLog): string {
  const cols = ['kind', 'arm', 'step', 'loss', 'lr', 'supervisedTokens', 'tokensPerSecond', 'elapsedMs', 'heldOutLossCritical', 'heldOutLossAll', 'nextActionAccuracy', 'successHeldIn', 'successHeldOut', 'rolloutSeeds', 'expertSuccessHeldIn', 'expertSuccessHeldOut'];
  const rows: string[] = [cols.join(',')];
  for (const arm of log.arms) {
    for (const r of [...(log.train[arm] ?? []), ...(log.eval[arm] ?? [])]) {
      rows.push(cols.map((c) => csvCell((r as unknown as Record<string, unknown>)[c])).join(','));
    }
  }
  return rows.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained SVG line chart of one spec (axes, ticks, legend), for download. */
export function chartSvg(spec: ChartSpec, aligned: Aligned, colors: Record<string, string>, width = 720, height = 360): string {
  const nonEmpty = (aligned.data.slice(1) as (number | null)[][]).filter((col) => col.some((v) => v !== null && Number.isFinite(v))).length;
  const legendRows = Math.max(1, Math.ceil(nonEmpty / 4));
  const m = { l: 64, r: 16, t: 36, b: 44 + legendRows * 16 };
  const [x, ...ys] = aligned.data as number[][];
  const values = ys.flat().filter((v) => v !== null && Number.isFinite(v));
  const xmin = x.length ? x[0] : 0;
  const xmax = x.length ? x[x.length - 1] : 1;
  let ymin = spec.unitRange ? 0 : values.length ? Math.min(...values) : 0;
  let ymax = spec.unitRange ? 1 : values.length ? Math.max(...values) : 1;
  if (ymax === ymin) {
    ymax += 1;
    ymin -= ymin === 0 ? 0 : 1;
  }
  const px = (v: number) => m.l + ((v - xmin) / (xmax - xmin || 1)) * (width - m.l - m.r);
  const py = (v: number) => height - m.b - ((v - ymin) / (ymax - ymin)) * (height - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.l}" y="22" font-size="15" font-weight="600" fill="#111">${esc(spec.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = ymin + ((ymax - ymin) * i) / 4;
    const y = py(v);
    out.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${esc(formatTick(v))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = xmin + ((xmax - xmin) * i) / 4;
    out.push(`<text x="${px(v).toFixed(1)}" y="${height - m.b + 16}" text-anchor="middle" fill="#333">${esc(formatTick(Math.round(v)))}</text>`);
  }
  out.push(`<text x="${(m.l + width - m.r) / 2}" y="${height - m.b + 32}" text-anchor="middle" fill="#333">step</text>`);
  out.push(`<text transform="translate(14 ${(m.t + height - m.b) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(spec.yLabel)}</text>`);
  const drawn = aligned.series.map((s, i) => ({ s, col: ys[i] })).filter(({ col }) => col.some((v) => v !== null && Number.isFinite(v)));
  drawn.forEach(({ s, col }, i) => {
    let d = '';
    let pen = false;
    col.forEach((v, j) => {
      if (v === null || !Number.isFinite(v)) return; // gaps are bridged, as in the live chart
      d += `${pen ? 'L' : 'M'}${px(x[j]).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
    });
    const dash = s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    out.push(`<path d="${d}" fill="none" stroke="${colors[s.arm] ?? '#000'}" stroke-width="2"${dash}/>`);
    const lx = m.l + (i % 4) * 160;
    const ly = height - m.b + 52 + Math.floor(i / 4) * 16;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colors[s.arm] ?? '#000'}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 28}" y="${ly}" fill="#111">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}
