// The experiment's numeric settings, once: name, link key, CLI flag, type, where the default
// comes from, range, unit and a line of help. The link (src/ui/state/playground-config.ts), the Train
// step's form (src/ui/steps/SettingsFields.svelte), the CLI options (`atlas experiment`,
// `atlas train`), the trainer's options (trainerHyper) and the table in docs/playground.md are
// generated from it; test/unit/experiment/settings.test.ts fails if any of them drifts. The
// values themselves come from the presets (presets.ts) or, for `atlas train`, the trainer's
// DEFAULT_HYPER. Pure data and pure functions.
import { ALL_LORA_TARGETS, type ExperimentConfig, type Hyperparameters } from './protocol.ts';
import type { TrainHyper } from '../engine/trainer.ts';
import type { LoraTarget } from '../engine/lora.ts';

/** Longest agent turn a model may write in evaluation: the built-in demonstrations' opening
 *  plans take up to ≈ 140 tokens of the default tokenizer (48, the old default, cut every
 *  household plan before its "Action:"). */
export const DEFAULT_TURN_TOKENS = 144;
/** Held-out next-action queries per evaluation when a configuration names none. */
export const DEFAULT_NEXT_ACTION_QUERIES = 32;

/** The optional numbers of ExperimentConfig a setting may hold. */
type ExperimentNumber = 'budget' | 'seed' | 'seeds' | 'timeBudgetSeconds' | 'evalEvery' | 'rolloutEvery' | 'rolloutEpisodes' | 'nextActionQueries' | 'rolloutMaxSteps' | 'maxTurnTokens' | 'loraRank' | 'loraAlpha';
export type SettingName = keyof Hyperparameters | ExperimentNumber;

export interface Range {
  min: number;
  max?: number;
  /** The bound itself is outside the range. */
  minOpen?: boolean;
  maxOpen?: boolean;
}

export interface SettingSpec {
  /** The field: `config.hyper[name]` for a hyperparameter, else `config[name]`. */
  name: SettingName;
  hyper: boolean;
  /** Key in a link (`#steps=60`). */
  link: string;
  /** Option of the CLI commands that take it (`--steps 60`), without the dashes. */
  cli: string;
  /** The commands with that option: `atlas experiment` takes every setting, `atlas train` the trainer's. */
  commands: readonly ('experiment' | 'train')[];
  type: 'int' | 'number';
  range: Range;
  /** What a good value is, in the words a link's problem uses: "steps=-3 is not a positive whole number". */
  what: string;
  unit: string;
  /** The Train step's label. */
  label: string;
  /** One line of help for the docs. */
  help: string;
  /** Where the value comes from when the link, form or command leaves it out. */
  defaultFrom: string;
  /** An optional field: absent means `absent`. */
  absent?: string;
  /** Written to a link as this word when absent (`time=none`), so a link can undo a preset's value. */
  noneWord?: string;
  /** Out-of-range values in a link and the form are clamped into the range (and said so). */
  clamp?: boolean;
  /** `--flag 0` on the command line means absent (the environment's own limit). */
  cliZeroIsAbsent?: boolean;
  /** The trainer's option it sets (src/engine/trainer.ts TrainHyper). */
  trainer?: keyof TrainHyper;
  /** The Train step's field: its step and placeholder, its data-testid, and its label when a time budget is set. */
  form?: { step?: string; placeholder?: string; testid?: string; budgetLabel?: string } | false;
}

const POSITIVE_INT = { type: 'int', range: { min: 1 }, what: 'a positive whole number' } as const;
const NON_NEGATIVE_INT = { type: 'int', range: { min: 0 }, what: 'a whole number ≥ 0' } as const;
const BOTH = ['experiment', 'train'] as const;
const EXPERIMENT = ['experiment'] as const;

/** In the order of the Train step's form and of a link's keys. */
export const SETTINGS: readonly SettingSpec[] = [
  { name: 'timeBudgetSeconds', hyper: false, link: 'time', cli: 'time-budget', commands: EXPERIMENT, type: 'number', range: { min: 0, minOpen: true }, what: 'a number of seconds > 0, or "none"', unit: 's', label: 'Time budget, seconds (empty = exactly the steps)', help: 'wall-clock budget for training and evaluation: the run measures its first steps and takes as many as fit (at most `steps`)', defaultFrom: 'preset (Quick demo: 120)', absent: 'exactly `steps` steps', noneWord: 'none', form: { placeholder: 'none', testid: 'time-budget' } },
  { name: 'steps', hyper: true, link: 'steps', cli: 'steps', commands: BOTH, ...POSITIVE_INT, unit: 'steps', label: 'Steps per arm', help: 'optimizer steps per arm (the most, under a time budget)', defaultFrom: 'preset', trainer: 'totalSteps', form: { testid: 'hyper-steps', budgetLabel: 'Steps per arm, at most' } },
  { name: 'batchSize', hyper: true, link: 'batch', cli: 'batch', commands: BOTH, ...POSITIVE_INT, unit: 'sequences', label: 'Batch size', help: 'sequences per micro-batch', defaultFrom: 'preset' },
  { name: 'seqLen', hyper: true, link: 'seq', cli: 'seq', commands: BOTH, ...POSITIVE_INT, unit: 'tokens', label: 'Sequence length (tokens)', help: "tokens per training sequence (at most the model's context)", defaultFrom: 'preset' },
  { name: 'lr', hyper: true, link: 'lr', cli: 'lr', commands: BOTH, type: 'number', range: { min: 0, max: 1, minOpen: true, maxOpen: true }, what: 'a learning rate in (0, 1)', unit: '', label: 'Learning rate', help: 'peak AdamW learning rate', defaultFrom: 'preset', trainer: 'lr', form: { step: '0.0001' } },
  { name: 'warmupSteps', hyper: true, link: 'warmup', cli: 'warmup', commands: BOTH, ...NON_NEGATIVE_INT, unit: 'steps', label: 'Warm-up steps', help: 'linear warm-up before the cosine decay (at most `steps`)', defaultFrom: 'preset', trainer: 'warmupSteps' },
  { name: 'minLrRatio', hyper: true, link: 'minlr', cli: 'min-lr-ratio', commands: BOTH, type: 'number', range: { min: 0, max: 1 }, what: 'a ratio in [0, 1]', unit: '× lr', label: 'Final LR ratio (cosine)', help: 'learning rate at the last step, as a fraction of the peak', defaultFrom: 'preset', trainer: 'minLrRatio', form: { step: '0.05' } },
  { name: 'weightDecay', hyper: true, link: 'wd', cli: 'weight-decay', commands: BOTH, type: 'number', range: { min: 0, max: 1, maxOpen: true }, what: 'a weight decay in [0, 1)', unit: '', label: 'Weight decay', help: 'AdamW weight decay (matrices only)', defaultFrom: 'preset', trainer: 'weightDecay', form: { step: '0.01' } },
  { name: 'gradClip', hyper: true, link: 'clip', cli: 'grad-clip', commands: BOTH, type: 'number', range: { min: 0 }, what: 'a number ≥ 0 (0 = no clipping)', unit: 'norm', label: 'Gradient clip (0 = off)', help: 'global gradient-norm clip (0 = none)', defaultFrom: 'preset', trainer: 'gradClip', form: { step: '0.1' } },
  { name: 'accumSteps', hyper: true, link: 'accum', cli: 'accum', commands: BOTH, ...POSITIVE_INT, unit: 'micro-batches', label: 'Gradient accumulation', help: 'micro-batches per optimizer step', defaultFrom: 'preset', trainer: 'accumSteps' },
  { name: 'seed', hyper: false, link: 'seed', cli: 'seed', commands: BOTH, ...NON_NEGATIVE_INT, unit: '', label: 'Seed', help: "seed of the built-in data, the evaluation and a random model's weights; the first training seed", defaultFrom: 'preset' },
  { name: 'seeds', hyper: false, link: 'seeds', cli: 'seeds', commands: EXPERIMENT, type: 'int', range: { min: 1, max: 10 }, what: 'a whole number from 1 to 10', unit: 'seeds', label: 'Training seeds (1–10)', help: 'training seeds per arm (seed, seed + 1, …): the charts show their mean and min–max', defaultFrom: 'preset', absent: '1', clamp: true, form: { step: '1', testid: 'train-seeds' } },
  { name: 'evalEvery', hyper: false, link: 'evalEvery', cli: 'eval-every', commands: EXPERIMENT, ...NON_NEGATIVE_INT, unit: 'steps', label: 'Held-out evaluation every N steps', help: 'held-out loss and next-action accuracy every N steps (0 = never)', defaultFrom: 'preset' },
  { name: 'rolloutEvery', hyper: false, link: 'rolloutEvery', cli: 'rollout-every', commands: EXPERIMENT, ...NON_NEGATIVE_INT, unit: 'steps', label: 'Rollouts every N steps (0 = at the end)', help: 'rollouts in the environments every N steps (0 = at the end only)', defaultFrom: 'preset' },
  { name: 'rolloutEpisodes', hyper: false, link: 'rolloutEpisodes', cli: 'rollout-episodes', commands: EXPERIMENT, ...NON_NEGATIVE_INT, unit: 'episodes', label: 'Rollout episodes (per environment and split)', help: 'rollout episodes per environment and split', defaultFrom: 'preset' },
  { name: 'rolloutMaxSteps', hyper: false, link: 'rolloutMaxSteps', cli: 'rollout-max-steps', commands: EXPERIMENT, ...POSITIVE_INT, unit: 'turns', label: 'Turns per rollout episode (empty = the environment’s limit)', help: 'agent turns per rollout episode before it fails', defaultFrom: 'preset', absent: "the environment's limit", cliZeroIsAbsent: true, form: { placeholder: 'limit', testid: 'rollout-max-steps' } },
  { name: 'nextActionQueries', hyper: false, link: 'nextAction', cli: 'next-action', commands: EXPERIMENT, ...NON_NEGATIVE_INT, unit: 'queries', label: 'Next-action queries per evaluation', help: 'held-out next-action queries per evaluation', defaultFrom: 'preset', absent: String(DEFAULT_NEXT_ACTION_QUERIES), form: { placeholder: String(DEFAULT_NEXT_ACTION_QUERIES) } },
  { name: 'maxTurnTokens', hyper: false, link: 'turnTokens', cli: 'turn-tokens', commands: EXPERIMENT, ...POSITIVE_INT, unit: 'tokens', label: 'Tokens per generated turn', help: 'new tokens a model may write per agent turn in evaluation', defaultFrom: 'preset', absent: String(DEFAULT_TURN_TOKENS), form: { placeholder: String(DEFAULT_TURN_TOKENS) } },
  { name: 'loraRank', hyper: false, link: 'lora', cli: 'lora', commands: EXPERIMENT, type: 'int', range: { min: 4 }, what: 'a LoRA rank: a multiple of 4, at least 4', unit: 'rank', label: 'LoRA rank (empty = train every weight)', help: 'train rank-r LoRA adapters on the projections `loraTargets` names (default all seven: q, k, v, o, gate, up, down) over one frozen copy of the base, instead of every weight; a multiple of 4', defaultFrom: 'preset (none)', absent: 'full fine-tuning (every weight)', noneWord: 'none', cliZeroIsAbsent: true, form: { placeholder: 'none', testid: 'lora-rank' } },
  { name: 'loraAlpha', hyper: false, link: 'loraAlpha', cli: 'lora-alpha', commands: EXPERIMENT, type: 'number', range: { min: 0, minOpen: true }, what: 'a number > 0', unit: '', label: 'LoRA alpha (empty = 2 × rank)', help: 'LoRA scale numerator: the update is (alpha / rank)·B·A', defaultFrom: 'preset (2 × rank)', absent: '2 × rank', form: { placeholder: '2 × rank', testid: 'lora-alpha' } },
  // Set in the Select step (its own field), beside the selection it sizes.
  { name: 'budget', hyper: false, link: 'budget', cli: 'budget', commands: BOTH, type: 'number', range: { min: 0, max: 1, minOpen: true }, what: 'a fraction in (0, 1]', unit: 'of steps', label: 'Budget', help: 'the most a selection may mark critical, as a fraction of a trajectory’s steps', defaultFrom: 'preset (0.3)', form: false },
];

/** The one list setting: the projections of every layer that get LoRA adapters. Absent = all
 *  seven; a link writes it only when it is not all seven (`loraTargets=q,v,down`), so links
 *  made before it existed, and links without it, train every projection. The Train step shows
 *  it as seven check boxes (src/ui/components/LoraTargetsField.svelte). */
export const LORA_TARGETS_SETTING = {
  name: 'loraTargets',
  link: 'loraTargets',
  cli: 'lora-targets',
  label: 'LoRA target projections',
  help: 'the projections of every layer that get LoRA adapters, a comma list (with a LoRA rank; without one every weight trains)',
  defaultFrom: 'all seven',
  absent: ALL_LORA_TARGETS.join(','),
} as const;

/** A list of targets as the configuration holds it: in the engine's order, undefined for all seven. */
export function loraTargetsValue(targets: readonly LoraTarget[]): LoraTarget[] | undefined {
  const ordered = ALL_LORA_TARGETS.filter((t) => targets.includes(t));
  return ordered.length === ALL_LORA_TARGETS.length ? undefined : ordered;
}

/** A comma list of targets from a link: the known ones (null when none is), and what was wrong
 *  with the rest, in a link problem's words. */
export function readLoraTargets(text: string): { targets: LoraTarget[] | null; problem?: string } {
  const names = text.split(',').map((t) => t.trim()).filter(Boolean);
  const known = (n: string): n is LoraTarget => (ALL_LORA_TARGETS as readonly string[]).includes(n);
  const unknown = names.filter((n) => !known(n));
  const good = names.filter(known);
  const choices = `the targets are ${ALL_LORA_TARGETS.join(', ')}`;
  const problem = unknown.length ? `unknown target${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n.slice(0, 20)}"`).join(', ')} (${choices})` : good.length ? undefined : `no target (${choices})`;
  return { targets: good.length ? ALL_LORA_TARGETS.filter((t) => good.includes(t)) : null, problem };
}

export function getSetting(name: SettingName): SettingSpec {
  const s = SETTINGS.find((x) => x.name === name);
  if (!s) throw new Error(`no setting "${name}"`);
  return s;
}

/** The settings the Train step shows, in order. */
export const FORM_SETTINGS: readonly SettingSpec[] = SETTINGS.filter((s) => s.form !== false);

/** Whether `n` is a good value of `s` (its type and range). */
export function inRange(s: SettingSpec, n: number): boolean {
  const r = s.range;
  if (!Number.isFinite(n) || (s.type === 'int' && !Number.isInteger(n))) return false;
  if (r.minOpen ? !(n > r.min) : !(n >= r.min)) return false;
  if (r.max !== undefined && (r.maxOpen ? !(n < r.max) : !(n <= r.max))) return false;
  return true;
}

/** `n` moved into a setting's closed range (clamped settings only have closed ones). */
export function clampToRange(s: SettingSpec, n: number): number {
  return Math.min(s.range.max ?? Infinity, Math.max(s.range.min, n));
}

/** The range in words for a CLI error: "at least 1", "between 1 and 10", "in (0, 1)", "above 0". */
export function rangeText(s: SettingSpec): string {
  const r = s.range;
  if (r.max === undefined) return r.minOpen ? `above ${r.min}` : `at least ${r.min}`;
  if (!r.minOpen && !r.maxOpen && s.type === 'int') return `between ${r.min} and ${r.max}`;
  return `in ${r.minOpen ? '(' : '['}${r.min}, ${r.max}${r.maxOpen ? ')' : ']'}`;
}

/** The range in interval notation, for the docs: "≥ 1 (whole)", "(0, 1)". */
function rangeDoc(s: SettingSpec): string {
  const r = s.range;
  const whole = s.type === 'int' ? ' whole' : '';
  if (r.max === undefined) return `${r.minOpen ? '>' : '≥'} ${r.min}${whole}`;
  return `${r.minOpen ? '(' : '['}${r.min}, ${r.max}${r.maxOpen ? ')' : ']'}${whole}`;
}

/** A setting's value in a configuration (undefined, or null from an emptied field, when absent). */
export function settingValue(c: ExperimentConfig, s: SettingSpec): number | null | undefined {
  return s.hyper ? c.hyper[s.name as keyof Hyperparameters] : c[s.name as ExperimentNumber];
}

/** Sets a setting; `undefined` removes an optional one (a required one cannot be absent). */
export function setSettingValue(c: ExperimentConfig, s: SettingSpec, value: number | undefined): void {
  if (s.hyper) {
    if (value !== undefined) c.hyper[s.name as keyof Hyperparameters] = value;
  } else if (value === undefined) {
    if (s.absent !== undefined || s.noneWord !== undefined) delete c[s.name as ExperimentNumber];
  } else c[s.name as ExperimentNumber] = value;
}

/** The trainer's options from the experiment's hyperparameters (its schedule `totalSteps` long). */
export function trainerHyper(h: Hyperparameters, totalSteps: number): Partial<TrainHyper> {
  const out: Partial<TrainHyper> = {};
  for (const s of SETTINGS) if (s.hyper && s.trainer) out[s.trainer] = h[s.name as keyof Hyperparameters];
  out.totalSteps = totalSteps;
  return out;
}

/** The settings table of docs/playground.md (between its "settings table" markers). */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((s) => {
    const key = s.noneWord ? `\`${s.link}\` (or \`${s.link}=${s.noneWord}\`)` : `\`${s.link}\``;
    const absent = s.absent ? `; absent: ${s.absent}` : '';
    return `| ${s.name} | ${key} | \`--${s.cli}\`${s.commands.includes('train') ? '' : ' (experiment)'} | ${s.type === 'int' ? 'whole number' : 'number'} | ${s.defaultFrom}${absent} | ${rangeDoc(s)}${s.clamp ? ', clamped' : ''} | ${s.unit || '—'} | ${s.help} |`;
  });
  const t = LORA_TARGETS_SETTING;
  rows.push(`| ${t.name} | \`${t.link}\` | \`--${t.cli}\` (experiment) | comma list | ${t.defaultFrom}; absent: ${t.absent} | any of ${ALL_LORA_TARGETS.join(', ')}, at least one | projections | ${t.help} |`);
  return ['| setting | link key | CLI flag | type | default | range | unit | what it does |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}
