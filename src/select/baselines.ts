// The baseline arms' selections (the paper's ablation: random, rejected, highest-loss, full),
// run as selectors to look at them. Their steps are the arms' own (armSteps in src/data/arms.ts),
// so what the Select step shows is what those arms train on. Never the critical arm's choice
// unless a user picks one by hand (criticalArm: false), never rebuilt from the seed.
import { activeSelection } from '../data/trajectory.ts';
import { armSteps, budgetCount } from '../data/arms.ts';
import { defineSelector, labelled, type RuleSelectorDef } from './selector.ts';

function baseline<const N extends string>(name: N, label: string, select: RuleSelectorDef['select'], needsModel?: 'base-model') {
  return defineSelector({ kind: 'rule', name, label, origin: `the ${name} baseline`, ...(needsModel && { needsModel }), rebuiltFromSeed: false, criticalArm: false, select });
}

export const random = baseline('random', 'Random — a seeded sample of the budget (a baseline arm: shown, never the critical arm’s unless you choose it below)', (t, { budget, seed }) => {
  const basis = activeSelection(t);
  const why = basis ? `as many as "${basis.selector}" chose` : `budget ${budgetCount(t.steps.length, budget)} of ${t.steps.length}`;
  return { critical: labelled(armSteps('random', t, { seed, budget }), `seeded random sample (seed ${seed}; ${why})`), budget };
});

export const rejected = baseline('rejected', 'Rejected — steps the active selection did not choose (a baseline arm, shown only)', (t, { budget, seed }) => {
  const basis = activeSelection(t);
  if (!basis) throw new Error('the rejected arm needs a labelled selection on the trajectory to take the complement of');
  return { critical: labelled(armSteps('rejected', t, { seed, budget }), `not chosen by "${basis.selector}" (seeded sample, seed ${seed})`), budget };
});

export const highestLoss = baseline(
  'highest-loss',
  'Highest loss — needs the base model: chosen by the Train step’s highest-loss arm',
  (t, { budget, stepLoss }) => {
    if (!stepLoss) throw new Error('highest-loss needs the base model per-step loss (pass --model; options.stepLoss)');
    const steps = armSteps('highest-loss', t, { budget, stepLoss });
    return { critical: steps.map((step) => ({ step, reason: `base-model loss ${stepLoss[step].toFixed(4)}` })), budget };
  },
  'base-model',
);

export const full = baseline('full', 'Full — every step (a baseline arm, shown only)', (t) => ({ critical: labelled(armSteps('full', t), 'full trajectory'), budget: undefined }));
