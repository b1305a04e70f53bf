// `atlas eval --model <hf-folder>`: a model saved in Hugging Face layout, with the default
// tokenizer beside it, plays the environments on WebGPU (KV-cache generation, prompts
// rendered as in training). Weak random weights: this checks the plumbing and the report.
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { getPreset } from '../../../models/presets.ts';
import { initParams } from '../../../src/engine/model.ts';
import { saveHfModel } from '../../../src/engine/weights/hf.ts';
import { dirSink } from '../../../src/engine/weights/file-source-node.ts';

describe('atlas eval --model', () => {
  it('rolls out a saved model and reports every episode, capped by --max-steps', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'atlas-eval-'));
    const { config } = getPreset('tiny');
    await saveHfModel(dirSink(dir), config, initParams(config, 3));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.resolve('models/default-tokenizer', f), path.join(dir, f));
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    let code: number;
    try {
      code = await main(['eval', '--model', dir, '--env', 'grid', '--split', 'held-in', '--episodes', '2', '--max-steps', '2', '--json']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(out.join('\n'));
    const all = report.rows.find((r: { taskType: string }) => r.taskType === 'all');
    expect(all).toMatchObject({ env: 'grid', split: 'held-in', episodes: 2 });
    expect(all.meanSteps).toBeLessThanOrEqual(2);
    expect(all.meanSteps).toBeGreaterThan(0);
    expect(report.policy).toBe(dir);
  });
});
