// The Train step's hub model picker against a mock hub on 127.0.0.1 (test/unit/hub/
// mock-hub-server.ts) serving a tiny random Llama made here: type a hub id and the mirror,
// see the download size and the memory plan (only the file list and the small files are
// fetched), download with a progress bar — held by the mock in the middle, where Cancel stops
// it and a reload follows — find the part kept after the reload, resume it with a Range request, pick it
// for training, train two arms with LoRA from it and export the critical arm's adapter as a
// PEFT folder, reload and find it under Stored data, delete it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { pressStart, startHarness, waitForRunEnd, type BrowserHarness } from './harness.ts';
import { download, unzipToFolder } from './downloads.ts';
import { loraShapes } from '../../src/engine/lora.ts';
import { parseSafetensors } from '../../src/engine/weights/safetensors.ts';
import { startMockHubServer, type MockHubServer } from '../unit/hub/mock-hub-server.ts';
import { TINY_LLAMA, tinyHubModel } from '../unit/hub/tiny-hub-model.ts';

const REPO = 'atlas-test/tiny-llama';
// context 512: the built-in grid demonstrations' windows need it
const files = tinyHubModel({ ...TINY_LLAMA, maxSeqLen: 512 });
const weights = files.get('model.safetensors')!.length;
const small = [...files].filter(([n]) => n !== 'model.safetensors').reduce((n, [, b]) => n + b.length, 0);
const kB = (n: number) => `${(n / 1e3).toFixed(1)} kB`;
const CUT = 100_000;

describe('hub model picker (mock hub, OPFS cache)', () => {
  let h: BrowserHarness;
  let hub: MockHubServer;
  let page: Page;

  beforeAll(async () => {
    h = await startHarness();
    hub = await startMockHubServer([{ id: REPO, files }]);
    page = await h.newPage();
  }, 120_000);

  afterAll(async () => {
    await hub?.close();
    await h?.close();
  });

  /** The Train step with the mock's id and mirror typed into the picker. */
  async function pickMockModel() {
    await page.click('#tab-train');
    const picker = page.getByTestId('hub-picker');
    await picker.getByTestId('hub-suggested').selectOption({ label: 'another hub id…' });
    await picker.getByTestId('hub-id').fill(REPO);
    await picker.getByTestId('hub-model-mirror').fill(hub.url);
    await picker.getByTestId('hub-inspect').click();
    await picker.getByTestId('hub-size').waitFor({ timeout: 30_000 });
    return picker;
  }

  const weightRequests = () => hub.requests.filter((r) => r.file === 'model.safetensors');

  it('shows size and memory plan before downloading, then downloads with progress; Cancel mid-download, and a reload, keep the part', async () => {
    await page.goto(h.baseUrl + '/');
    // a mirror that does not answer: the error names it, and nothing is listed as downloaded
    await page.click('#tab-train');
    const offline = page.getByTestId('hub-picker');
    await offline.getByTestId('hub-suggested').selectOption({ label: 'another hub id…' });
    await offline.getByTestId('hub-id').fill(REPO);
    await offline.getByTestId('hub-model-mirror').fill('http://127.0.0.1:9');
    await offline.getByTestId('hub-inspect').click();
    await expect.poll(() => page.getByTestId('hub-error').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^${REPO}: could not reach the hub mirror \\(GET http://127\\.0\\.0\\.1:9/api/models/${REPO}/tree/main\\)`));
    expect(await page.getByTestId('hub-cached').count()).toBe(0);

    const picker = await pickMockModel();
    expect(await picker.getByTestId('hub-size').textContent()).toBe(`${REPO}: ${kB(weights + small)} in all (model.safetensors ${kB(weights)}; 4 small files ${kB(small)})`);
    expect(await picker.getByTestId('hub-shape').textContent()).toContain('llama · 2 layers · d_model 32 · 4 heads (2 KV) · vocab 1024 · context 512');
    await picker.getByTestId('hub-plan-total').waitFor();
    expect(await picker.getByTestId('hub-plan').textContent()).toMatch(/Memory plan for training it: batch \d+ × \d+ tokens.*weights.*MiB.*gradients.*optimizer.*total/s);
    expect(await picker.getByTestId('hub-plan-fits').textContent()).toMatch(/^Fits this GPU’s buffer limits \([\d,]+ trainable parameters\)\.$/);
    // Only the file list and the small files so far.
    expect(hub.requests.map((r) => r.file ?? r.path)).toEqual([`/api/models/${REPO}/tree/main`, 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']);
    expect(await picker.getByTestId('hub-download').textContent()).toBe('Download');

    const gate = hub.gate('model.safetensors', CUT);
    await picker.getByTestId('hub-download').click();
    await gate.reached;
    await expect.poll(() => page.getByTestId('hub-progress').getAttribute('value'), { timeout: 15_000 }).toBe(String(small + CUT));
    expect(await page.getByTestId('hub-progress').getAttribute('max')).toBe(String(small + weights));
    expect(await page.getByTestId('hub-progress-text').textContent()).toBe(`model.safetensors: ${kB(small + CUT)} of ${kB(small + weights)} (${Math.floor((100 * (small + CUT)) / (small + weights))} %)`);
    await h.screenshot(page, 'hub-picker-downloading');

    // Cancel stops the download and keeps what arrived
    await picker.getByTestId('hub-cancel').click();
    await expect.poll(() => page.getByTestId('hub-error').textContent(), { timeout: 15_000 }).toBe('download cancelled: what arrived is kept, and Download resumes from it');
    await expect.poll(() => page.getByTestId('hub-cached').textContent(), { timeout: 15_000 }).toContain(`${REPO} — ${kB(small + CUT)} of ${kB(small + weights)} (partly downloaded)`);
    expect(await picker.getByTestId('hub-cancel').count()).toBe(0);

    await page.reload();
    gate.release();
    await page.click('#tab-train');
    await expect.poll(() => page.getByTestId('hub-cached').textContent(), { timeout: 15_000 }).toContain(`${REPO} — ${kB(small + CUT)} of ${kB(small + weights)} (partly downloaded)`);
  });

  it('resumes with a Range request, trains two arms with LoRA from the model and exports an adapter, and after a reload lists it under Stored data, where it is deleted', async () => {
    const picker = await pickMockModel();
    expect(await picker.getByTestId('hub-download').textContent()).toBe('Resume download');
    const before = weightRequests().length;
    await picker.getByTestId('hub-download').click();
    await expect.poll(() => picker.getByTestId('hub-cached').textContent(), { timeout: 30_000 }).toContain(`${REPO} — ${kB(small + weights)} training from it`);
    expect(weightRequests().slice(before).map((r) => [r.range, r.status])).toEqual([[`bytes=${CUT}-`, 206]]);
    expect(await page.locator('fieldset', { has: page.locator('legend', { hasText: /^Model$/ }) }).textContent()).toContain(`Using ${REPO} (downloaded from the hub)`);
    expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).get('model')).toBe(`stored:hub:${REPO}@main`);

    // two arms with LoRA from the downloaded model, then the critical arm's adapter
    await page.goto(`${h.baseUrl}/#preset=quick-demo&arms=critical,full&model=stored:hub:${REPO}@main&data=builtin:grid:3/1:s1:m0.15&labels=heuristic&steps=2&batch=1&seq=512&lr=0.01&warmup=0&evalEvery=2&rolloutEvery=0&rolloutEpisodes=0&nextAction=0&turnTokens=16&time=none&lora=4&loraAlpha=8&loraTargets=q,v`);
    await page.click('#tab-train');
    await pressStart(page);
    expect(await waitForRunEnd(page, 240_000)).toMatch(/done/);
    expect(await page.textContent('body')).toMatch(/LoRA: 2 projections per layer, rank 4, alpha 8; one frozen base shared by 2 runs/);
    await page.click('#tab-export');
    const z = await download(page, () => page.click('[data-testid="export-adapter-critical"]'));
    expect(z.name).toMatch(/\.critical\.lora\.zip$/);
    const { dir: folder, files: names } = unzipToFolder(z.bytes, mkdtempSync(join(tmpdir(), 'hub-adapter-')));
    expect(names).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] });
    const st = parseSafetensors(readFileSync(join(folder, 'adapter_model.safetensors')), 'adapter_model.safetensors');
    expect(st.entries.map((e) => [e.name, e.shape])).toEqual(loraShapes({ ...TINY_LLAMA, maxSeqLen: 512 }, { rank: 4, alpha: 8, targets: ['q', 'v'] }).map((e) => [e.name, e.shape]));
    await h.screenshot(page, 'hub-model-lora-export');

    const requests = hub.requests.length;
    await page.reload();
    await page.click('text=Stored data');
    const stored = page.getByTestId('stored-hub-models');
    await expect.poll(() => stored.textContent(), { timeout: 15_000 }).toContain(`${REPO} — ${kB(small + weights)}`);
    expect(await stored.textContent()).not.toContain('partly');
    expect(hub.requests.length).toBe(requests); // listed from the cache, nothing fetched
    await stored.locator('li', { hasText: REPO }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => stored.locator('li').count()).toBe(0);
    await page.click('#tab-train');
    expect(await page.getByTestId('hub-cached').count()).toBe(0);
  });
});
