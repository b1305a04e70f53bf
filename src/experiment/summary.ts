// The results in plain words, generated from the numbers (never written by hand): what each
// arm reached on the headline measures against the untuned base and the expert, with what
// share of the full arm's supervised tokens, and whether a difference is larger than the
// spread over seeds. Shown under the page's table and printed by `atlas experiment`.
import type { Arm } from '../data/arms.ts';
import { MEASURES, formatValue, withinSpread, type Measure, type ResultsTable, type Spread } from './results.ts';

const HEADLINE: readonly Measure[] = ['successHeldIn', 'successHeldOut'];

function describe(s: Spread, percent: boolean): string {
  const v = (x: number) => formatValue(x, percent) + (percent ? ' %' : '');
  return s.n > 1 ? `${v(s.mean)} (${v(s.min)}–${v(s.max)} over ${s.n} seeds)` : v(s.mean);
}

/** How two arms compare on a measure, judged against their spread. */
export function comparison(a: Arm, sa: Spread, b: Arm, sb: Spread, percent: boolean, higherIsBetter: boolean): string {
  const diff = sa.mean - sb.mean;
  const size = percent ? `${Math.abs(100 * diff).toFixed(1)} points` : Math.abs(diff).toFixed(3);
  if (diff === 0) return `${a} and ${b} are equal`;
  const better = (diff > 0) === higherIsBetter ? a : b;
  const worse = better === a ? b : a;
  const within = withinSpread(sa, sb);
  const verdict = within === undefined ? 'one seed gives no spread to judge this by: run more seeds before reading anything into it' : within ? 'smaller than the spread over seeds (their ranges overlap): this run cannot tell them apart' : 'larger than the spread over seeds (their ranges do not overlap)';
  return `${better} is ahead of ${worse} by ${size} — ${verdict}`;
}

/** Sentences for the results; `supervisedTokens` is each arm's mean supervised tokens at the end. */
export function summarizeResults(table: ResultsTable, supervisedTokens: Partial<Record<Arm, number>> = {}): string[] {
  const out: string[] = [];
  for (const key of HEADLINE) {
    const m = MEASURES.find((x) => x.key === key)!;
    const measured = table.rows.filter((r) => r.cells[key]);
    if (!measured.length) continue;
    const arms = measured.map((r) => `${r.arm} ${describe(r.cells[key]!, true)}`).join(', ');
    const base = table.base?.[key] !== undefined ? `; the untuned base ${formatValue(table.base[key], true)} %` : '';
    const expertRate = key === 'successHeldIn' ? table.expert?.successHeldIn : table.expert?.successHeldOut;
    const expert = expertRate !== undefined ? `; the expert ${formatValue(expertRate, true)} % on the same episodes` : '';
    out.push(`${m.label[0].toUpperCase()}${m.label.slice(1)}: ${arms}${base}${expert}.`);
    const critical = measured.find((r) => r.arm === 'critical');
    const full = measured.find((r) => r.arm === 'full');
    if (critical && full) out.push(`On ${m.label}, ${comparison('critical', critical.cells[key]!, 'full', full.cells[key]!, true, true)}.`);
  }
  const fullTokens = supervisedTokens.full;
  if (fullTokens) {
    const shares = (Object.entries(supervisedTokens) as [Arm, number][]).filter(([arm]) => arm !== 'full').map(([arm, n]) => `${arm} ${Math.round((100 * n) / fullTokens)} %`);
    if (shares.length) out.push(`Supervised tokens, as a share of the full arm's: ${shares.join(', ')}.`);
  }
  return out;
}
