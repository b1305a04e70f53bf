// The labels file: one JSON line per trajectory with the selected step indices, their
// categories and reasons, the selector and the budget. Written by `atlas export --format labels`,
// read back with applyLabels() to put a selection onto trajectories (matched by id).
import { activeSelection, type Selection, type StepLabel, type Trajectory } from './trajectory.ts';
import { CRITICAL_CATEGORIES, type CriticalCategory } from './trajectory.ts';
import type { ArmOptions } from './arms.ts';

export interface LabelsRecord {
  id: string;
  /** Number of steps in the trajectory (so a mismatch is caught when applying). */
  nSteps: number;
  selector: string;
  budget: number | null;
  steps: number[];
  categories: (CriticalCategory | null)[];
  reasons: (string | null)[];
  createdAt?: string;
  plan?: string;
}

/** The labels line for `steps` (sorted); categories/reasons come from the active selection when it has them. */
export function labelsRecord(t: Trajectory, steps: number[], opts: ArmOptions & { arm?: string } = {}): LabelsRecord {
  const sel = activeSelection(t);
  const byStep = new Map<number, StepLabel>((sel?.critical ?? []).map((c) => [c.step, c]));
  const arm = opts.arm ?? 'critical';
  return {
    id: t.id,
    nSteps: t.steps.length,
    selector: arm === 'critical' ? (sel?.selector ?? 'none') : `arm:${arm}`,
    budget: arm === 'critical' ? (sel?.budget ?? null) : (opts.budget ?? null),
    steps,
    categories: steps.map((s) => byStep.get(s)?.category ?? null),
    reasons: steps.map((s) => byStep.get(s)?.reason ?? null),
    ...(arm === 'critical' && sel?.createdAt && { createdAt: sel.createdAt }),
    ...(arm === 'critical' && sel?.plan && { plan: sel.plan }),
  };
}

const CATS = new Set<string>(CRITICAL_CATEGORIES);

/** Validates one labels line; throws with the reason. */
export function parseLabelsRecord(value: unknown): LabelsRecord {
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null) throw new Error('not a JSON object');
  if (typeof v.id !== 'string') throw new Error('id must be a string');
  if (!Number.isInteger(v.nSteps)) throw new Error('nSteps must be an integer');
  if (typeof v.selector !== 'string') throw new Error('selector must be a string');
  if (!Array.isArray(v.steps) || !v.steps.every((s) => Number.isInteger(s) && s >= 0 && s < (v.nSteps as number))) throw new Error(`steps must be step indices in 0..${(v.nSteps as number) - 1}`);
  const n = v.steps.length;
  if (!Array.isArray(v.categories) || v.categories.length !== n || !v.categories.every((c) => c === null || CATS.has(c as string))) throw new Error(`categories must list one of ${CRITICAL_CATEGORIES.join('/')} or null per step`);
  if (!Array.isArray(v.reasons) || v.reasons.length !== n || !v.reasons.every((r) => r === null || typeof r === 'string')) throw new Error('reasons must list a string or null per step');
  if (v.budget !== null && v.budget !== undefined && typeof v.budget !== 'number') throw new Error('budget must be a number or null');
  return v as unknown as LabelsRecord;
}

export function labelsToSelection(rec: LabelsRecord, fallbackTime: string): Selection {
  return {
    selector: rec.selector,
    createdAt: rec.createdAt ?? fallbackTime,
    status: 'labelled',
    critical: rec.steps.map((step, i) => ({
      step,
      ...(rec.categories[i] !== null && { category: rec.categories[i]! }),
      ...(rec.reasons[i] !== null && { reason: rec.reasons[i]! }),
    })),
    ...(rec.budget !== null && rec.budget !== undefined && { budget: rec.budget }),
    ...(rec.plan !== undefined && { plan: rec.plan }),
  };
}

/** Adds each labels line's selection to the trajectory with the same id (made active).
 *  Returns the problems: unknown ids, step-count mismatches, bad lines. */
export function applyLabels(ts: Trajectory[], labelsJsonl: string, file = 'labels.jsonl'): { applied: number; problems: { file: string; line: number; reason: string }[] } {
  const byId = new Map(ts.map((t) => [t.id, t]));
  const problems: { file: string; line: number; reason: string }[] = [];
  let applied = 0;
  const now = new Date().toISOString();
  labelsJsonl.split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    const line = i + 1;
    try {
      const rec = parseLabelsRecord(JSON.parse(text));
      const t = byId.get(rec.id);
      if (!t) throw new Error(`no trajectory with id "${rec.id}"`);
      if (rec.selector === 'none') return; // the trajectory had no selection when exported: nothing to apply
      if (t.steps.length !== rec.nSteps) throw new Error(`trajectory "${rec.id}" has ${t.steps.length} steps, the labels were made for ${rec.nSteps}`);
      t.selections.push(labelsToSelection(rec, now));
      t.activeSelection = rec.selector;
      applied++;
    } catch (err) {
      problems.push({ file, line, reason: (err as Error).message });
    }
  });
  return { applied, problems };
}
