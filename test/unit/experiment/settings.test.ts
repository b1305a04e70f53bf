// One spec for the experiment's numeric settings (src/experiment/settings-spec.ts): the link, the
// Train step's form, the CLI options, the trainer's options and the docs table are generated
// from it or checked against it here, so none of them can drift.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { EXPERIMENT_OPTIONS, EXPERIMENT_USAGE, experimentConfigFromOptions } from '../../../src/cli/commands/experiment.ts';
import { TRAIN_OPTIONS, TRAIN_USAGE } from '../../../src/cli/commands/train.ts';
import { DEFAULT_HYPER } from '../../../src/engine/trainer.ts';
import { EXPERIMENT_PRESET_NAMES, experimentPreset } from '../../../src/experiment/presets.ts';
import { FORM_SETTINGS, inRange, LORA_TARGETS_SETTING, SETTINGS, settingsMarkdown, settingValue, trainerHyper, type SettingSpec } from '../../../src/experiment/settings-spec.ts';
import { ALL_LORA_TARGETS } from '../../../src/experiment/protocol.ts';
import { LORA_TARGET_NAMES } from '../../../src/engine/lora.ts';
import { configFromHash, configToHash, LINK_KEYS, presetConfig } from '../../../src/ui/state/playground-config.ts';
import { generatedBlock } from '../../../scripts/generated-block.ts';

const read = (file: string) => readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');

/** A good value of the setting that no preset uses. */
function goodValue(s: SettingSpec): number {
  const { min, max } = s.range;
  if (max !== undefined) return s.type === 'int' ? Math.min(max, min + 2) : min + (max - min) * 0.375;
  if (s.name === 'loraRank') return min + 12; // a LoRA rank is a multiple of 4
  return s.type === 'int' ? min + 7 : min + 45.5;
}

/** Options a setting needs beside it (the warm-up is at most a tenth of the steps; LoRA's alpha needs a rank). */
const companions = (s: SettingSpec): Record<string, string> => (s.name === 'warmupSteps' ? { steps: '100' } : s.name === 'loraAlpha' ? { lora: '8' } : {});

/** A value outside the setting's range. */
const badValue = (s: SettingSpec) => (s.range.max !== undefined ? s.range.max + 5 : s.range.min - 1);

describe('the settings table', () => {
  it('names every hyperparameter and every number of the experiment configuration once', () => {
    const c = experimentPreset('paper-arms');
    expect(SETTINGS.filter((s) => s.hyper).map((s) => s.name).sort()).toEqual(Object.keys(c.hyper).sort());
    for (const key of ['link', 'cli', 'name'] as const) expect(new Set(SETTINGS.map((s) => s[key])).size).toBe(SETTINGS.length);
    for (const s of SETTINGS) {
      expect(inRange(s, goodValue(s)), s.name).toBe(true);
      expect(inRange(s, badValue(s)), s.name).toBe(false);
      expect(s.help.length, s.name).toBeGreaterThan(10);
    }
    // Every preset's values are within the table's ranges.
    for (const name of EXPERIMENT_PRESET_NAMES) {
      for (const s of SETTINGS) {
        const v = settingValue(experimentPreset(name), s);
        if (v != null) expect(inRange(s, v), `${name} ${s.name}=${v}`).toBe(true);
        else expect(s.absent ?? s.noneWord, `${name} leaves out ${s.name}, which is not optional`).toBeDefined();
      }
    }
  });

  it('the link writes and reads every setting by its key, and reports a bad value by key', () => {
    for (const s of SETTINGS) expect(LINK_KEYS, s.link).toContain(s.link);
    for (const s of SETTINGS) {
      const c = presetConfig('quick-demo');
      const v = goodValue(s);
      const hash = configFromHash(`#${s.link}=${v}`)!;
      expect(hash.problems, s.link).toEqual([]);
      expect(settingValue(hash.config.experiment, s), s.link).toBe(v);
      // The written link carries the value under the same key, and reads back the same config.
      const e = hash.config.experiment;
      if (s.name === 'steps') e.hyper.warmupSteps = Math.min(e.hyper.warmupSteps, v);
      expect(new URLSearchParams(configToHash(hash.config).slice(1)).get(s.link), s.link).toBe(String(v));
      expect(configFromHash(configToHash(hash.config))!.config, s.link).toEqual(hash.config);
      const bad = configFromHash(`#${s.link}=${badValue(s)}`)!;
      expect(bad.problems.join(' '), s.link).toContain(`${s.link}=${badValue(s)}`);
      if (!s.clamp) expect(settingValue(bad.config.experiment, s), s.link).toEqual(settingValue(c.experiment, s));
    }
  });

  it('the Train step shows one field per row of the table, and no hand-written one', () => {
    const fields = read('src/ui/components/SettingsFields.svelte');
    const step = read('src/ui/steps/TrainStep.svelte');
    expect(fields).toContain('{#each FORM_SETTINGS as s (s.name)}');
    expect(step).toContain('<SettingsFields />');
    // No number field of a setting is written by hand in the step.
    expect(step).not.toMatch(/type="number"/);
    expect(step).not.toMatch(/experiment\.config\.experiment\.(hyper|seed|seeds|evalEvery|rollout|nextAction|maxTurnTokens|timeBudgetSeconds)\b[^}]*bind/);
    // The budget is the Select step's field; every other setting is in the form.
    expect(SETTINGS.filter((s) => !FORM_SETTINGS.includes(s)).map((s) => s.name)).toEqual(['budget']);
    // The ids the browser tests use.
    const ids = FORM_SETTINGS.map((s) => (s.form ? s.form.testid : undefined)).filter(Boolean);
    expect(ids).toEqual(expect.arrayContaining(['hyper-steps', 'time-budget', 'rollout-max-steps', 'train-seeds']));
  });

  it('atlas experiment takes every setting as an option, and atlas train the trainer\'s', () => {
    for (const s of SETTINGS) {
      expect(Object.keys(EXPERIMENT_OPTIONS), s.cli).toContain(s.cli);
      expect(EXPERIMENT_USAGE, s.cli).toContain(`--${s.cli} `);
      const v = goodValue(s);
      const c = experimentConfigFromOptions({ [s.cli]: String(v), ...companions(s) });
      expect(settingValue(c, s), s.cli).toBe(v);
      // (0 is the environment's own limit for --rollout-max-steps: a value below it is refused.)
      const bad = s.cliZeroIsAbsent ? badValue(s) - 1 : badValue(s);
      expect(() => experimentConfigFromOptions({ [s.cli]: String(bad), ...companions(s) }), s.cli).toThrow(`--${s.cli} must be`);
    }
    const trainer = SETTINGS.filter((s) => s.trainer);
    for (const s of SETTINGS.filter((x) => x.commands.includes('train'))) {
      expect(Object.keys(TRAIN_OPTIONS), s.cli).toContain(s.cli);
      expect(TRAIN_USAGE, s.cli).toContain(`--${s.cli}`);
    }
    // Every trainer option the table sets is an option of `atlas train`.
    for (const s of trainer) expect(s.commands, s.name).toContain('train');
  });

  it('the trainer gets its options from the table, by its own names', () => {
    const h = experimentPreset('paper-arms').hyper;
    const t = trainerHyper(h, 17);
    for (const s of SETTINGS.filter((x) => x.trainer)) expect(Object.keys(DEFAULT_HYPER), s.name).toContain(s.trainer);
    expect(t).toEqual({ lr: h.lr, warmupSteps: h.warmupSteps, totalSteps: 17, minLrRatio: h.minLrRatio, weightDecay: h.weightDecay, gradClip: h.gradClip, accumSteps: h.accumSteps });
  });

  it('the docs list every link key and hold the generated table (npm run docs)', () => {
    const doc = read('docs/playground.md');
    expect(generatedBlock(doc, 'settings').trim()).toBe(settingsMarkdown());
    for (const key of LINK_KEYS.filter((k) => !['key', 'apiKey', 'api_key'].includes(k))) expect(doc, key).toContain(`\`${key}\``);
    // README's command table names only options the experiment command has.
    const row = read('README.md').split('\n').find((l) => l.startsWith('| `experiment '))!;
    const flags = [...row.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(3);
    for (const f of flags) expect(Object.keys(EXPERIMENT_OPTIONS), f).toContain(f);
  });

  it('the list setting loraTargets: one link key, the CLI option, the engine\'s targets, and the Train step\'s check boxes', () => {
    const t = LORA_TARGETS_SETTING;
    expect(LINK_KEYS).toContain(t.link);
    expect(SETTINGS.map((s) => s.link)).not.toContain(t.link);
    expect(Object.keys(EXPERIMENT_OPTIONS)).toContain(t.cli);
    expect(EXPERIMENT_USAGE).toContain(`--${t.cli} `);
    expect(ALL_LORA_TARGETS).toEqual(LORA_TARGET_NAMES);
    expect(experimentConfigFromOptions({ lora: '8', [t.cli]: 'v,q' }).loraTargets).toEqual(['q', 'v']);
    expect(() => experimentConfigFromOptions({ lora: '8', [t.cli]: 'q,qkv' })).toThrow(/unknown target "qkv"/);
    expect(read('src/ui/steps/TrainStep.svelte')).toContain('<LoraTargetsField />');
  });
});
