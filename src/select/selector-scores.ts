// Scoring selectors: against the built-in environments' ground-truth roles (routine = not
// critical), and against each other (Cohen's kappa and Jaccard overlap over steps).
import { activeSelection, selectedSteps, CRITICAL_CATEGORIES, type CriticalCategory, type Selection, type Trajectory } from '../data/trajectory.ts';

export interface Prf {
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface CategoryScore extends Prf {
  /** Share of the category's ground-truth steps the selector chose at all, whatever category it gave. */
  detectionRecall: number | null;
}

export interface GroundTruthReport {
  trajectories: number;
  steps: number;
  /** Critical = any category; a step counts once. */
  overall: Prf;
  /** A step counts for category c when the selector gave it c and its true role is c. */
  perCategory: Record<CriticalCategory, CategoryScore>;
  skipped: { id: string; reason: string }[];
}

export interface AgreementReport {
  trajectories: number;
  steps: number;
  kappa: number | null;
  /** |A∩B| / |A∪B| over all steps of all paired trajectories. */
  jaccard: number | null;
  /** Mean of the per-trajectory Jaccard overlaps (trajectories where both chose nothing are left out). */
  meanJaccard: number | null;
  bothChose: number;
  onlyA: number;
  onlyB: number;
  neither: number;
  skipped: { id: string; reason: string }[];
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

function prf(tp: number, fp: number, fn: number): Prf {
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision, recall, f1 };
}

/** The selection to score: the latest labelled one by `selector` (exact name, or the part before ":"), else the active one. */
export function pickSelection(t: Trajectory, selector?: string): Selection | undefined {
  if (!selector) return activeSelection(t);
  const matches = t.selections.filter((s) => s.status === 'labelled' && (s.selector === selector || s.selector.split(':')[0] === selector));
  return matches[matches.length - 1];
}

export function scoreAgainstGroundTruth(trajectories: readonly Trajectory[], selector?: string): GroundTruthReport {
  let tp = 0, fp = 0, fn = 0, steps = 0, used = 0;
  const cat = Object.fromEntries(CRITICAL_CATEGORIES.map((c) => [c, { tp: 0, predicted: 0, truth: 0, detected: 0 }])) as Record<
    CriticalCategory,
    { tp: number; predicted: number; truth: number; detected: number }
  >;
  const skipped: { id: string; reason: string }[] = [];
  for (const t of trajectories) {
    const gt = t.groundTruth;
    if (!gt) {
      skipped.push({ id: t.id, reason: 'no ground-truth roles' });
      continue;
    }
    if (gt.length !== t.steps.length) {
      skipped.push({ id: t.id, reason: `ground truth has ${gt.length} roles for ${t.steps.length} steps` });
      continue;
    }
    const sel = pickSelection(t, selector);
    if (!sel) {
      skipped.push({ id: t.id, reason: selector ? `no labelled selection by "${selector}"` : 'no labelled selection' });
      continue;
    }
    used++;
    steps += gt.length;
    const chosen = new Set(selectedSteps(sel));
    const categoryOf = new Map(sel.critical.map((c) => [c.step, c.category]));
    gt.forEach((role, i) => {
      const critical = role !== 'routine';
      if (chosen.has(i) && critical) tp++;
      else if (chosen.has(i)) fp++;
      else if (critical) fn++;
      if (critical) {
        cat[role].truth++;
        if (chosen.has(i)) cat[role].detected++;
      }
      const given = chosen.has(i) ? categoryOf.get(i) : undefined;
      if (given) {
        cat[given].predicted++;
        if (given === role) cat[given].tp++;
      }
    });
  }
  const perCategory = Object.fromEntries(
    CRITICAL_CATEGORIES.map((c) => {
      const x = cat[c];
      return [c, { ...prf(x.tp, x.predicted - x.tp, x.truth - x.tp), detectionRecall: ratio(x.detected, x.truth) }];
    }),
  ) as Record<CriticalCategory, CategoryScore>;
  return { trajectories: used, steps, overall: prf(tp, fp, fn), perCategory, skipped };
}

/** Cohen's kappa for two binary raters from their 2×2 table. */
export function cohensKappa(both: number, onlyA: number, onlyB: number, neither: number): number | null {
  const n = both + onlyA + onlyB + neither;
  if (n === 0) return null;
  const po = (both + neither) / n;
  const pA = (both + onlyA) / n;
  const pB = (both + onlyB) / n;
  const pe = pA * pB + (1 - pA) * (1 - pB);
  if (pe === 1) return po === 1 ? 1 : null; // both raters constant: agreement is perfect or undefined
  return (po - pe) / (1 - pe);
}

/**
 * Agreement between selection A and B, paired by trajectory id. `a` and `b` may be the same
 * list with two selector names, or two lists (e.g. two labelled files).
 */
export function agreement(
  a: readonly Trajectory[],
  b: readonly Trajectory[],
  selectorA?: string,
  selectorB?: string,
): AgreementReport {
  const byId = new Map(b.map((t) => [t.id, t]));
  let both = 0, onlyA = 0, onlyB = 0, neither = 0, steps = 0, paired = 0;
  let jaccardSum = 0, jaccardCount = 0;
  const skipped: { id: string; reason: string }[] = [];
  for (const ta of a) {
    const tb = byId.get(ta.id);
    if (!tb) {
      skipped.push({ id: ta.id, reason: 'not in the other set' });
      continue;
    }
    if (tb.steps.length !== ta.steps.length) {
      skipped.push({ id: ta.id, reason: `step counts differ (${ta.steps.length} vs ${tb.steps.length})` });
      continue;
    }
    const sa = pickSelection(ta, selectorA);
    const sb = pickSelection(tb, selectorB);
    if (!sa || !sb) {
      skipped.push({ id: ta.id, reason: `no labelled selection in ${!sa ? 'the first' : 'the second'} set` });
      continue;
    }
    paired++;
    const A = new Set(selectedSteps(sa));
    const B = new Set(selectedSteps(sb));
    let inter = 0, union = 0;
    for (let i = 0; i < ta.steps.length; i++) {
      const x = A.has(i), y = B.has(i);
      if (x && y) both++, inter++;
      else if (x) onlyA++;
      else if (y) onlyB++;
      else neither++;
      if (x || y) union++;
    }
    steps += ta.steps.length;
    if (union > 0) {
      jaccardSum += inter / union;
      jaccardCount++;
    }
  }
  return {
    trajectories: paired,
    steps,
    kappa: cohensKappa(both, onlyA, onlyB, neither),
    jaccard: ratio(both, both + onlyA + onlyB),
    meanJaccard: ratio(jaccardSum, jaccardCount),
    bothChose: both,
    onlyA,
    onlyB,
    neither,
    skipped,
  };
}
