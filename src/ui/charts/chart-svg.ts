// A chart as a self-contained SVG file (the Export step's "SVG"): the same lines as the live
// uPlot chart — the mean per arm and line kind, the min–max band over seeds as a filled
// polygon, the untuned base as a grey dotted line — with axes, ticks and a legend. Pure.
import { BASE_COLOR, inLegend, type Aligned, type ChartSpec, type SeriesInfo } from './chart-data.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const isValue = (v: number | null): v is number => v !== null && Number.isFinite(v);

/** Band fill opacity: lighter for a dashed line kind's band, so two bands of one arm stay apart. */
export function bandAlpha(dashed: boolean): number {
  return dashed ? 0.1 : 0.18;
}

export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

interface Frame {
  px: (v: number) => number;
  py: (v: number) => number;
  x: number[];
}

/** A polyline through a column's values; gaps are bridged, as in the live chart. */
function linePath(f: Frame, col: (number | null)[]): string {
  let d = '';
  col.forEach((v, j) => {
    if (isValue(v)) d += `${d ? 'L' : 'M'}${f.px(f.x[j]).toFixed(1)},${f.py(v).toFixed(1)}`;
  });
  return d;
}

/** The band between two columns: along the upper edge, back along the lower one. */
function bandPath(f: Frame, upper: (number | null)[], lower: (number | null)[]): string {
  const idx = f.x.map((_, j) => j).filter((j) => isValue(upper[j]) && isValue(lower[j]));
  if (idx.length < 2) return '';
  const pt = (j: number, v: number) => `${f.px(f.x[j]).toFixed(1)},${f.py(v).toFixed(1)}`;
  const top = idx.map((j) => pt(j, upper[j]!));
  const bottom = [...idx].reverse().map((j) => pt(j, lower[j]!));
  return `M${[...top, ...bottom].join('L')}Z`;
}

function strokeOf(s: SeriesInfo, colors: Record<string, string>): string {
  return s.role === 'base' ? BASE_COLOR : (colors[s.arm ?? ''] ?? '#000');
}

/** A legend swatch: a filled square for a band, a short line (dashed or dotted as drawn) otherwise. */
function legendSwatch(s: SeriesInfo, colors: Record<string, string>, lx: number, ly: number, dashed: boolean): string {
  const color = strokeOf(s, colors);
  if (s.role === 'max') return `<rect x="${lx + 4}" y="${ly - 10}" width="14" height="12" fill="${color}" fill-opacity="${bandAlpha(dashed) * 2}"/>`;
  const dash = s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
  return `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`;
}

/** A self-contained SVG chart of one spec (axes, ticks, bands, base line, legend), for download. */
export function chartSvg(spec: ChartSpec, aligned: Aligned, colors: Record<string, string>, width = 720, height = 360): string {
  const [x, ...ys] = aligned.data as (number | null)[][] as [number[], ...(number | null)[][]];
  const legend = aligned.series.map((s, i) => ({ s, i })).filter(({ s, i }) => inLegend(s) && ys[i].some(isValue));
  const columns = legend.some(({ s }) => s.label.length > 24) ? 2 : 4;
  const legendRows = Math.max(1, Math.ceil(legend.length / columns));
  const m = { l: 64, r: 16, t: 36, b: 44 + legendRows * 16 };
  const values = ys.flat().filter(isValue);
  const xmin = x.length ? x[0] : 0;
  const xmax = x.length ? x[x.length - 1] : 1;
  let ymin = spec.unitRange ? 0 : values.length ? Math.min(...values) : 0;
  let ymax = spec.unitRange ? 1 : values.length ? Math.max(...values) : 1;
  if (ymax === ymin) {
    ymax += 1;
    ymin -= ymin === 0 ? 0 : 1;
  }
  const f: Frame = {
    x,
    px: (v) => m.l + ((v - xmin) / (xmax - xmin || 1)) * (width - m.l - m.r),
    py: (v) => height - m.b - ((v - ymin) / (ymax - ymin)) * (height - m.t - m.b),
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.l}" y="22" font-size="15" font-weight="600" fill="#111">${esc(spec.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = ymin + ((ymax - ymin) * i) / 4;
    const y = f.py(v);
    out.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${esc(formatTick(v))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = xmin + ((xmax - xmin) * i) / 4;
    out.push(`<text x="${f.px(v).toFixed(1)}" y="${height - m.b + 16}" text-anchor="middle" fill="#333">${esc(formatTick(Math.round(v)))}</text>`);
  }
  out.push(`<text x="${(m.l + width - m.r) / 2}" y="${height - m.b + 32}" text-anchor="middle" fill="#333">step</text>`);
  out.push(`<text transform="translate(14 ${(m.t + height - m.b) / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(spec.yLabel)}</text>`);
  // Bands first, under every line.
  for (const b of aligned.bands) {
    const d = bandPath(f, ys[b.upper], ys[b.lower]);
    if (d) out.push(`<path class="band" d="${d}" fill="${colors[b.arm] ?? '#000'}" fill-opacity="${bandAlpha(b.dashed)}" stroke="none"/>`);
  }
  aligned.series.forEach((s, i) => {
    if (s.role !== 'mean' && s.role !== 'base') return;
    const d = linePath(f, ys[i]);
    if (!d) return;
    const dash = s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    if (s.role === 'base') out.push(`<path class="base" d="${d}" fill="none" stroke="${BASE_COLOR}" stroke-width="1.5"${dash}/>`);
    else out.push(`<path d="${d}" fill="none" stroke="${strokeOf(s, colors)}" stroke-width="2"${dash}/>`);
  });
  const columnWidth = (width - m.l - m.r) / columns;
  legend.forEach(({ s, i }, k) => {
    const lx = m.l + (k % columns) * columnWidth;
    const ly = height - m.b + 52 + Math.floor(k / columns) * 16;
    const dashed = aligned.bands.find((b) => b.upper === i)?.dashed ?? false;
    out.push(legendSwatch(s, colors, lx, ly, dashed));
    out.push(`<text x="${lx + 28}" y="${ly}" fill="#111">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
