// Ground truth as a selector: the built-in environments' experts record each step's role
// (src/envs/expert-turns.ts); this selector takes the critical ones, cut to the budget (plans
// first, then the other categories in step order) so it obeys the same 30 % rule as any
// selector. Only built-in demonstrations carry roles; any other trajectory fails with the reason.
import type { Selection, StepLabel, Trajectory } from '../data/trajectory.ts';
import { budgetCount } from '../data/arms.ts';
import { defineSelector, type Picked } from './selector.ts';

function groundTruthPick(t: Trajectory, budget: number): Picked & { repairs: string[] } {
  if (!t.groundTruth) throw new Error('no ground-truth roles (only built-in environment data has them)');
  const labels: StepLabel[] = [];
  t.groundTruth.forEach((role, step) => {
    if (role !== 'routine') labels.push({ step, category: role, reason: `ground truth: ${role}` });
  });
  const rank = (l: StepLabel) => (l.category === 'plan' ? 0 : 1);
  labels.sort((a, b) => rank(a) - rank(b) || a.step - b.step);
  const k = budgetCount(t.steps.length, budget);
  const repairs = labels.length > k ? [`budget: ${k} of ${labels.length} ground-truth critical steps kept; left out ${labels.slice(k).map((l) => l.step).join(', ')}`] : [];
  return { critical: labels.slice(0, k), budget, repairs };
}

export const groundTruth = defineSelector({
  kind: 'rule',
  name: 'ground-truth',
  label: 'Ground truth — the built-in expert’s own labels (built-in data only)',
  origin: 'the built-in expert’s ground truth',
  rebuiltFromSeed: true,
  criticalArm: true,
  select: (t, { budget }) => groundTruthPick(t, budget),
});

/** The ground-truth selection of one trajectory (throws when it has no roles). */
export function groundTruthSelection(t: Trajectory, budget: number, now: string): Selection {
  const { critical, repairs } = groundTruthPick(t, budget);
  return { selector: groundTruth.name, createdAt: now, status: 'labelled', critical, budget, repairs };
}
