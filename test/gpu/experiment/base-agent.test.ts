// The shipped base agent (models/base, preset:base): the files a Hugging Face folder needs, the
// preset's shape, a provenance record, at most 16 MB — and it still acts as recorded: greedy
// rollouts on the seeded episodes of models/base/eval-check.json (made by make-eval-check.sh)
// give exactly the recorded success.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getPreset } from '../../../models/presets.ts';
import { loadModelFromArg, loadModelPolicy } from '../../../src/cli/model-arg.ts';
import { evaluatePolicy } from '../../../src/envs/evaluate.ts';
import { ENVIRONMENTS } from '../../../src/envs/registry.ts';

const DIR = 'models/base';

interface CheckRow {
  env: string;
  split: string;
  taskType: string;
  episodes: number;
  successRate: number;
  invalidRate: number;
}

describe('preset:base, the shipped base agent', () => {
  it('is a complete Hugging Face folder of the preset\'s shape, under 16 MB, with its provenance', async () => {
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'provenance.json']) expect(existsSync(join(DIR, f)), f).toBe(true);
    const bytes = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'provenance.json'].reduce((n, f) => n + statSync(join(DIR, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(16 * 2 ** 20);
    const p = JSON.parse(readFileSync(join(DIR, 'provenance.json'), 'utf8'));
    expect(p.command[0]).toMatch(/^npx atlas pretrain --out models\/base/);
    expect(p.tokens).toBeGreaterThan(1_000_000);
    for (const k of ['trainSeconds', 'wallSeconds', 'finalLoss', 'validationLoss']) expect(p[k], k).toBeGreaterThan(0);
    expect(p.adapter).toBeTruthy();
    expect(p.machine).toMatch(/CPUs/);
    const { model, tokenizer } = await loadModelFromArg('preset:base');
    expect(model.config).toMatchObject({ ...getPreset('base').config, tiedEmbeddings: true });
    expect(tokenizer.vocabSize).toBe(1024);
  });

  it('reproduces its recorded success on the seeded check episodes', async () => {
    const check = JSON.parse(readFileSync(join(DIR, 'eval-check.json'), 'utf8')) as { episodes: number; seed: number; maxSteps: number; rows: CheckRow[] };
    const policy = await loadModelPolicy('preset:base');
    const { report } = await evaluatePolicy(ENVIRONMENTS, policy, { episodes: check.episodes, seed: check.seed, maxSteps: check.maxSteps });
    const summary = (rows: CheckRow[]) => rows.filter((r) => r.taskType === 'all').map((r) => `${r.env} ${r.split}: ${r.successRate} success, ${r.invalidRate} invalid`);
    expect(summary(report.rows as CheckRow[])).toEqual(summary(check.rows));
  });
});
