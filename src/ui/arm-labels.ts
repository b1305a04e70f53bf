// Fixed arm colours (Okabe–Ito palette: distinguishable with colour-blindness, readable on
// light and dark backgrounds) and one-line explanations of each arm.
import type { Arm } from '../data/arms.ts';

export const ARM_COLORS: Record<Arm, string> = {
  critical: '#D55E00',
  full: '#0072B2',
  random: '#009E73',
  rejected: '#CC79A7',
  'highest-loss': '#E69F00',
};

export const ARM_LABELS: Record<Arm, string> = {
  critical: 'critical',
  full: 'full',
  random: 'random',
  rejected: 'rejected',
  'highest-loss': 'highest-loss',
};

export const ARM_EXPLAIN: Record<Arm, string> = {
  full: 'loss on every agent turn — ordinary behaviour cloning (the paper’s baseline).',
  critical: 'loss only on the critical steps the selector chose (≤ 30 % of steps) — ATLaS.',
  random: 'a seeded random sample of steps, as many as critical — is it the choice or just fewer steps?',
  rejected: 'steps the selector did not choose, as many as critical — the “routine” steps alone.',
  'highest-loss': 'the steps where the untrained model’s loss is highest — a model-based shortcut.',
};
