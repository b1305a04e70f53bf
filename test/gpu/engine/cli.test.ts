// `atlas grad` and `atlas train` end to end (the command modules, run in-process).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as grad } from '../../../src/cli/commands/grad.ts';
import { command as train } from '../../../src/cli/commands/train.ts';
import { saveHfModel, loadHfModel } from '../../../src/engine/weights/hf.ts';
import { dirSink, dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { parseSafetensors } from '../../../src/engine/weights/safetensors.ts';
import { loadGradFixture, relErr } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'atlas-engine-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  try {
    return { code: await fn(), out };
  } finally {
    spy.mockRestore();
  }
}

describe('atlas grad', () => {
  it('writes every gradient under its HF name and prints the loss (untied head)', async () => {
    const fx = loadGradFixture('mha_untied_T5_B3');
    const modelDir = join(dir, 'mha');
    await saveHfModel(dirSink(modelDir), fx.config, fx.params);
    const meta = JSON.parse(readFileSync('test/fixtures/engine/mha_untied_T5_B3.json', 'utf8'));
    writeFileSync(join(dir, 'batch.json'), JSON.stringify(meta.batch));
    const out = join(dir, 'grads.safetensors');
    const { code, out: lines } = await capture(() => grad.run(['--model', modelDir, '--batch', join(dir, 'batch.json'), '--out', out]));
    expect(code).toBe(0);
    const { loss } = JSON.parse(lines.at(-1)!);
    expect(Math.abs(loss - fx.loss) / fx.loss).toBeLessThan(1e-5);
    const file = parseSafetensors(readFileSync(out));
    const names = file.entries.map((e) => e.name).sort();
    expect(names).toEqual([...fx.grads.keys()].sort());
    expect(names).toContain('lm_head.weight');
    for (const [name, ref] of fx.grads) expect(relErr(file.read(name), ref), name).toBeLessThan(1e-4);
  });
});

describe('atlas train', () => {
  it('trains a preset on JSONL, prints one JSON line per step and saves a loadable HF folder', async () => {
    const data = join(dir, 'data.jsonl');
    const lines = [];
    for (let i = 0; i < 4; i++) lines.push(JSON.stringify({ input_ids: Array.from({ length: 12 + i }, (_, t) => (t * 7 + i) % 64), weights: Array.from({ length: 12 + i }, (_, t) => (t % 3 === 0 ? 0 : 1)) }));
    writeFileSync(data, lines.join('\n') + '\n');
    const outDir = join(dir, 'trained');
    const { code, out } = await capture(() => train.run(['--model', 'preset:test', '--data', data, '--steps', '12', '--lr', '1e-2', '--batch', '2', '--seq', '8', '--out', outDir]));
    expect(code).toBe(0);
    const metrics = out.map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(metrics.at(-1).loss).toBeLessThan(metrics[0].loss);
    const saved = await loadHfModel(dirSource(outDir));
    expect(saved.config.dModel).toBe(32);
    expect(saved.tensors.get('model.norm.weight')!.some((x) => x !== 1)).toBe(true); // it trained
    writeFileSync(data, JSON.stringify({ input_ids: [1, 2, 300] }) + '\n');
    await expect(train.run(['--model', 'preset:test', '--data', data, '--steps', '1'])).rejects.toThrow(/data.jsonl:1: input_ids\[2\] = 300 is outside the vocabulary \[0, 64\)/);
  });
});
