// LoRA in the page: a link with lora=4 and loraTargets=q,v,down fills the Train step's LoRA
// fields, the run trains each arm's adapters on those three projections over one frozen base
// (the log says so; the run card and the results say "LoRA rank 4") and ends; the Export step
// saves each arm's adapter as a zipped PEFT folder — adapter_config.json with r, lora_alpha and
// target_modules, adapter_model.safetensors with PEFT's tensor names and [r, in] / [out, r]
// shapes, which the engine's PEFT loader reads back — from the runner, and after a reload from
// the run's checkpoint (the same bytes); the merged weights export from the checkpoint too.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { openTrainStep, pressStart, waitForRunEnd } from './harness.ts';
import { sharedPage } from './shared-page.ts';
import { download, unzipToFolder } from './downloads.ts';
import { getPreset } from '../../models/presets.ts';
import { loraShapes, type LoraSpec } from '../../src/engine/lora.ts';
import { parseSafetensors } from '../../src/engine/weights/safetensors.ts';
import { loadPeftAdapter } from '../../src/engine/weights/peft.ts';
import { dirSource } from '../../src/engine/weights/file-source-node.ts';
import { modelFromFiles } from '../../src/experiment/model-source.ts';

const LINK = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:grid:3/1:s1:m0.15&labels=heuristic&steps=3&batch=1&seq=512&lr=0.01&warmup=0&evalEvery=3&rolloutEvery=0&rolloutEpisodes=0&nextAction=0&turnTokens=16&time=none&lora=4&loraAlpha=8&loraTargets=q,v,down';
const SPEC: LoraSpec = { rank: 4, alpha: 8, targets: ['q', 'v', 'down'] };
const tiny = getPreset('tiny').config;

describe('LoRA in the page', () => {
  const shared = sharedPage();
  const dir = mkdtempSync(join(tmpdir(), 'lora-page-'));
  let liveAdapter: Buffer | undefined;
  let liveMerged: Buffer | undefined;

  it('lora=4 on q,v,down: the form shows it, the run trains adapters over one frozen base and ends', async () => {
    const { h, page } = shared;
    await openTrainStep(page, h.baseUrl + '/' + LINK);
    await expect.poll(() => page.inputValue('[data-testid="lora-rank"]'), { timeout: 30_000 }).toBe('4');
    expect(await page.inputValue('[data-testid="lora-alpha"]')).toBe('8');
    for (const t of ['q', 'k', 'v', 'o', 'gate', 'up', 'down']) expect(await page.isChecked(`[data-testid="lora-target-${t}"]`), t).toBe(SPEC.targets.includes(t as LoraSpec['targets'][number]));
    await pressStart(page);
    expect(await waitForRunEnd(page, 240_000)).toMatch(/done/);
    const log = await page.textContent('body');
    expect(log).toMatch(/LoRA: 3 projections per layer, rank 4, alpha 8; one frozen base shared by 2 runs/);
    expect(await page.textContent('[data-testid="run-training"]')).toBe('LoRA rank 4 (alpha 8) on q, v, down');
    expect(await page.textContent('[data-testid="results-training"]')).toBe('LoRA rank 4 (alpha 8) on q, v, down');
    await h.screenshot(page, 'lora-run');
  }, 300_000);

  it('the Export step saves an arm’s adapter as a PEFT folder: its config and tensors are PEFT’s', async () => {
    const { h, page } = shared;
    await page.click('#tab-export');
    const z = await download(page, () => page.click('[data-testid="export-adapter-critical"]'));
    expect(z.name).toBe('quick-demo-critical-vs-full.critical.lora.zip');
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/one PEFT folder, quick-demo-critical-vs-full\.critical\.lora\/, with adapter_config\.json, adapter_model\.safetensors \(rank 4, alpha 8, 3 projections per layer; .*from the adapter the runner holds now\)/);
    const { dir: folder, files } = unzipToFolder(z.bytes, join(dir, 'live'));
    expect(files).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const config = JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'], base_model_name_or_path: 'preset:tiny', bias: 'none' });
    // PEFT's names and shapes: A [r, in], B [out, r] for each adapted projection of every layer
    const st = parseSafetensors(readFileSync(join(folder, 'adapter_model.safetensors')), 'adapter_model.safetensors');
    const expected = loraShapes(tiny, SPEC);
    expect(st.entries.map((e) => [e.name, e.shape])).toEqual(expected.map((e) => [e.name, e.shape]));
    expect(st.entries.map((e) => e.name)).toContain('base_model.model.model.layers.0.mlp.down_proj.lora_B.weight');
    for (const e of st.entries) expect(e.name.endsWith('lora_A.weight') ? e.shape[0] : e.shape[1], e.name).toBe(4);
    // trained: B moved from zero
    const back = await loadPeftAdapter(dirSource(folder), tiny);
    expect(back.spec).toEqual(SPEC);
    expect(back.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')!.some((x) => x !== 0)).toBe(true);
    liveAdapter = z.bytes;
    liveMerged = (await download(page, () => page.click('[data-testid="export-weights-critical"]'))).bytes;
    await h.screenshot(page, 'lora-export');
  }, 120_000);

  it('after a reload both exports come from the checkpoint: the adapter’s bytes, and the merged weights', async () => {
    const { h, page } = shared;
    expect(liveAdapter && liveMerged).toBeTruthy();
    await page.reload();
    await page.click('#tab-export');
    const z = await download(page, () => page.click('[data-testid="export-adapter-critical"]'));
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/from the checkpoint saved at step 3/);
    const files = (b: Buffer) => Object.fromEntries(Object.entries(unzipSync(new Uint8Array(b))).map(([n, d]) => [n, Buffer.from(d).toString('base64')]));
    expect(files(z.bytes)).toEqual(files(liveAdapter!));
    const merged = await download(page, () => page.click('[data-testid="export-weights-critical"]'));
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/from the checkpoint saved at step 3/);
    const live = await modelFromFiles(dirSource(unzipToFolder(liveMerged!, join(dir, 'merged-live')).dir));
    const stored = await modelFromFiles(dirSource(unzipToFolder(merged.bytes, join(dir, 'merged-stored')).dir));
    for (const [name, data] of live.model.tensors!) expect(stored.model.tensors!.get(name), name).toEqual(data);
    await h.screenshot(page, 'lora-export-after-reload');
  }, 120_000);
});
