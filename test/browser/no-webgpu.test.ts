// Without WebGPU the playground explains how to enable it and still imports, selects and
// exports; training is refused with the reason. Also the dark colour scheme at a projector's
// 1024×768, and the stored-data panel. Screenshots under test-results/screenshots.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { startHarness, type BrowserHarness } from './harness.ts';

const ALFWORLD = resolve('../shared/data/alfworld-react/alfworld_3prompts.json');
const haveAlfworld = existsSync(ALFWORLD);
if (!haveAlfworld) console.warn(`[no-webgpu.test] ${ALFWORLD} is missing: the import step of this journey is skipped`);

describe('without WebGPU, dark, projector size', () => {
  let h: BrowserHarness;
  let page: Page;
  beforeAll(async () => {
    h = await startHarness();
    const context = await h.browser.newContext({ viewport: { width: 1024, height: 768 }, colorScheme: 'dark' });
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    // A browser without WebGPU: navigator.gpu is absent.
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('explains how to enable WebGPU and disables training, but data, selection and export work', async () => {
    await page.goto(h.baseUrl + '/');
    await page.waitForSelector('[data-testid="webgpu-missing"]', { timeout: 30_000 });
    expect(await page.textContent('[data-testid="webgpu-missing"]')).toMatch(/chrome:\/\/flags\/#enable-unsafe-webgpu/);
    expect(await page.textContent('[data-testid="gpu-status"]')).toMatch(/No WebGPU/);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(20, 21, 23)'); // the dark palette
    await h.screenshot(page, 'no-webgpu-dark-1024');
    if (haveAlfworld) {
      await page.setInputFiles('[data-testid="file-input"]', ALFWORLD);
      await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('18 trajectories');
      await page.click('#tab-select');
      await page.check('input[name="selector"][value="heuristic"]');
      await page.click('[data-testid="run-selector"]');
      await expect.poll(() => page.textContent('[data-testid="selection-summary"]'), { timeout: 30_000 }).toMatch(/18 labelled/);
      await h.screenshot(page, 'no-webgpu-dark-select');
    }
    await page.click('#tab-train');
    expect(await page.isDisabled('[data-testid="start"]')).toBe(true);
    await page.click('#tab-export');
    expect(await page.isEnabled('[data-testid="export-data"]')).toBe(true);
  }, 60_000);

  it('lists what is stored and deletes a dataset', async () => {
    await page.click('text=Stored data');
    await page.waitForSelector('[data-testid="stored-panel"] li');
    const before = await page.locator('[data-testid="stored-panel"] li', { hasText: 'trajectories' }).count();
    expect(before).toBeGreaterThan(0);
    await h.screenshot(page, 'stored-data-panel');
    await page.locator('[data-testid="stored-panel"] li', { hasText: 'trajectories' }).first().locator('button', { hasText: 'Delete' }).click();
    await expect.poll(() => page.locator('[data-testid="stored-panel"] li', { hasText: 'trajectories' }).count()).toBe(before - 1);
  }, 60_000);
});
