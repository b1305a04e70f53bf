// The Data step's import report in words (src/ui/components/ImportReport.svelte): rejections
// counted per record, duplicates told apart (merged variants vs identical records both kept),
// failed runs left out or kept, step records rebuilt into episodes. Reports saved by older
// versions lack the newer fields and still read right. Pure.
import type { Duplicate, ImportSummary } from '../data/importer.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** Records rejected: a rejection may stand for several records (older reports: one each). */
export function rejectedCount(r: Pick<ImportSummary, 'rejected'> & { rejectedRecords?: number }): number {
  return r.rejectedRecords ?? r.rejected.length;
}

/** Duplicates split by what happened: merged (one copy dropped) or kept (both copies stayed). */
export function duplicateGroups(ds: readonly Duplicate[]): { merged: Duplicate[]; keptBoth: Duplicate[] } {
  return { merged: ds.filter((d) => !d.kept), keptBoth: ds.filter((d) => d.kept) };
}

/** The heading of the duplicates list, saying what was done with each kind. */
export function duplicatesHeading(ds: readonly Duplicate[]): string {
  const { merged, keptBoth } = duplicateGroups(ds);
  const parts: string[] = [];
  if (merged.length) parts.push(`${plural(merged.length, 'duplicate variant')} merged (one copy kept)`);
  if (keptBoth.length) parts.push(`${plural(keptBoth.length, 'identical record')} found twice — both copies kept`);
  return parts.join('; ');
}

/** One line per duplicate. */
export function duplicateLine(d: Duplicate): string {
  return d.kept ? `${d.dropped} is the same as ${d.keptAs}; both were kept: ${d.reason}` : `${d.dropped} → kept as ${d.keptAs}: ${d.reason}`;
}

/** What happened to runs whose record says they failed, or undefined when the file had none. */
export function failedRunsText(r: Pick<ImportSummary, 'failedRuns'>): string | undefined {
  const f = r.failedRuns;
  if (!f || (f.leftOut === 0 && f.kept === 0)) return undefined;
  if (f.leftOut > 0) {
    const ids = f.leftOutIds.length ? ` (${f.leftOutIds.slice(0, 5).join(', ')}${f.leftOut > 5 ? ', …' : ''})` : '';
    return `${plural(f.leftOut, 'failed run')} left out${ids}: the record says the run failed (reward / success), so it is not expert data to imitate.`;
  }
  return `${plural(f.kept, 'failed run')} kept, as you asked: each is marked failed in its outcome, and trains like the others.`;
}

/** Step-level records rebuilt into trajectories, or undefined when the file had none. */
export function stepRecordsText(r: Pick<ImportSummary, 'stepRecords'>): string | undefined {
  const s = r.stepRecords;
  if (!s) return undefined;
  return `${plural(s.records, 'step record')} (one per step, each with the history so far) rebuilt into ${plural(s.episodes, 'trajectory', 'trajectories')}: the longest history of each episode plus its output.`;
}
