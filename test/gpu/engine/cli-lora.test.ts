// LoRA through the CLI: `atlas grad --adapter` writes the adapter's gradients under PEFT's
// names, equal to the PyTorch reference; `atlas train --lora` trains only the adapter and
// saves it as a PEFT folder beside the merged model; `--adapter` continues it; bad LoRA
// options are refused before any GPU work.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as grad } from '../../../src/cli/commands/grad.ts';
import { command as train } from '../../../src/cli/commands/train.ts';
import { saveHfModel, loadHfModel } from '../../../src/engine/weights/hf.ts';
import { dirSink, dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { parseSafetensors } from '../../../src/engine/weights/safetensors.ts';
import { loadPeftAdapter, savePeftAdapter } from '../../../src/engine/weights/peft.ts';
import { mergeLora } from '../../../src/engine/lora.ts';
import { initParams } from '../../../src/engine/model.ts';
import { getPreset } from '../../../models/presets.ts';
import { loadLoraFixture, relErr } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'atlas-cli-lora-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return { code: await fn(), out };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('atlas grad --adapter', () => {
  it('writes every LoRA matrix gradient under its PEFT name, equal to PyTorch (base frozen)', async () => {
    const name = 'lora_qv_r8_qwen2_V97_T6_B2';
    const fx = loadLoraFixture(name);
    const modelDir = join(dir, 'base');
    const adapterDir = join(dir, 'adapter');
    await saveHfModel(dirSink(modelDir), fx.config, fx.params);
    await savePeftAdapter(dirSink(adapterDir), fx.config, fx.spec, fx.adapter, 'test-base');
    writeFileSync(join(dir, 'batch.json'), JSON.stringify(JSON.parse(readFileSync(`test/fixtures/engine/${name}.json`, 'utf8')).batch));
    const out = join(dir, 'grads.safetensors');
    const { code, out: lines } = await capture(() => grad.run(['--model', modelDir, '--batch', join(dir, 'batch.json'), '--out', out, '--adapter', adapterDir]));
    expect(code).toBe(0);
    expect(Math.abs(JSON.parse(lines.at(-1)!).loss - fx.loss) / fx.loss).toBeLessThan(1e-5);
    const file = parseSafetensors(readFileSync(out));
    expect(file.entries.map((e) => e.name).sort()).toEqual([...fx.adapterGrads.keys()].sort());
    for (const [t, ref] of fx.adapterGrads) expect(relErr(file.read(t), ref), t).toBeLessThan(1e-4);
  });
});

describe('atlas train --lora', () => {
  const data = join(dir, 'data.jsonl');
  const lines = Array.from({ length: 4 }, (_, i) => JSON.stringify({ input_ids: Array.from({ length: 14 + i }, (_, t) => (t * 5 + i) % 64) }));

  it('trains only the adapter, saves it as PEFT beside the merged model, and --adapter continues it', async () => {
    writeFileSync(data, lines.join('\n') + '\n');
    // a starting model on disk, so the frozen base can be compared with what was saved
    const config = getPreset('test').config;
    const baseDir = join(dir, 'start');
    const base = initParams(config, 3);
    await saveHfModel(dirSink(baseDir), config, base);
    const outDir = join(dir, 'lora-out');
    const args = ['--model', baseDir, '--data', data, '--steps', '10', '--lr', '2e-2', '--batch', '2', '--seq', '8', '--out', outDir];
    const { code, out } = await capture(() => train.run([...args, '--lora', '4', '--lora-targets', 'q,v,down']));
    expect(code).toBe(0);
    const metrics = out.map((l) => JSON.parse(l));
    expect(metrics.at(-1).loss).toBeLessThan(metrics[0].loss);
    const adapter = await loadPeftAdapter(dirSource(join(outDir, 'adapter')), config);
    expect(adapter.spec).toEqual({ rank: 4, alpha: 8, targets: ['q', 'v', 'down'] });
    expect(JSON.parse(readFileSync(join(outDir, 'adapter', 'adapter_config.json'), 'utf8')).target_modules).toEqual(['q_proj', 'v_proj', 'down_proj']);
    // B moved away from zero: the adapter trained
    expect([...adapter.tensors].some(([n, t]) => n.endsWith('lora_B.weight') && t.some((x) => x !== 0))).toBe(true);
    // the merged folder is the untouched base plus s·B·A, and nothing else changed
    const merged = await loadHfModel(dirSource(outDir));
    const expected = mergeLora(config, base, adapter.spec, adapter.tensors);
    for (const [n, t] of expected) expect(Array.from(merged.tensors.get(n)!), n).toEqual(Array.from(t));
    expect(Array.from(merged.tensors.get('model.norm.weight')!)).toEqual(Array.from(base.get('model.norm.weight')!));
    // --adapter continues from the saved adapter: its first loss is the trained adapter's, below a fresh start
    const cont = await capture(() => train.run([...args, '--steps', '1', '--out', join(dir, 'cont'), '--adapter', join(outDir, 'adapter')]));
    expect(JSON.parse(cont.out[0]).loss).toBeLessThan(metrics[0].loss);
  });

  it('refuses bad LoRA options before any GPU work', async () => {
    writeFileSync(data, lines.join('\n') + '\n');
    const args = ['--model', 'preset:test', '--data', data, '--steps', '1'];
    await expect(train.run([...args, '--lora', '6'])).rejects.toThrow(/--lora 6: Invalid LoRA settings: rank must be a positive multiple of 4/);
    await expect(train.run([...args, '--lora-alpha', '8'])).rejects.toThrow(/--lora-alpha need --lora R/);
    await expect(train.run([...args, '--lora', '4', '--lora-targets', 'q,qkv'])).rejects.toThrow(/unknown target "qkv"/);
    await expect(train.run([...args, '--lora', '4', '--adapter', dir])).rejects.toThrow(/give one of them/);
  });
});
