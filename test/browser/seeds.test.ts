// Training seeds in the page: a tiny link with seeds=2 trains every arm twice (seeds 1 and 2),
// and each cell of the results table is the mean and min–max of the per-seed evaluations the
// metrics CSV holds; the summary under the table is generated from the same numbers.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { openTrainStep, pressStart, waitForRunEnd } from './harness.ts';
import { sharedPage } from './shared-page.ts';

const LINK = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:household+grid:4/1:s1:m0.15&labels=heuristic&steps=4&batch=1&seq=512&lr=0.005&warmup=1&evalEvery=4&rolloutEvery=0&rolloutEpisodes=0&nextAction=0&turnTokens=16&time=none&seeds=2';

async function download(page: Page, click: () => Promise<void>): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]);
  return readFileSync((await d.path())!, 'utf8');
}

describe('training seeds in the page', () => {
  const shared = sharedPage();

  it('seeds=2: every table cell is the mean (min–max) of the per-seed runs in the CSV', async () => {
    const { h, page } = shared;
    await openTrainStep(page, h.baseUrl + '/' + LINK);
    await expect.poll(() => page.inputValue('[data-testid="train-seeds"]'), { timeout: 30_000 }).toBe('2');
    await pressStart(page);
    expect(await waitForRunEnd(page, 240_000)).toMatch(/done/);
    await page.click('#tab-export');
    const csv = (await download(page, () => page.click('[data-testid="export-csv"]'))).trim().split('\n');
    const cols = csv[0].split(',');
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    // Two runs per arm, four steps each.
    for (const arm of ['critical', 'full']) for (const seed of ['1', '2']) expect(rows.filter((r) => r.kind === 'train' && r.arm === arm && r.trainSeed === seed).length).toBe(4);
    await page.click('#tab-compare');
    const table = page.locator('[data-testid="results-table"] table').first();
    const header = (await table.locator('thead th').allTextContents()).map((t) => t.trim());
    const col = header.indexOf('held-out loss, all turns');
    expect(col).toBeGreaterThan(0);
    for (const arm of ['critical', 'full']) {
      const values = rows.filter((r) => r.kind === 'eval' && r.arm === arm && r.step === '4').map((r) => Number(r.heldOutLossAll));
      expect(values).toHaveLength(2);
      const mean = (values[0] + values[1]) / 2;
      const cell = (await table.locator('tbody tr', { hasText: arm }).first().locator('td').nth(col).textContent())!.replace(/\s+/g, ' ').replace(/^≈ /, '').trim();
      expect(cell).toBe(`${mean.toFixed(3)} (${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)})`);
    }
    expect(await page.textContent('[data-testid="spread-note"]')).toMatch(/mean over 2 training seeds \(1, 2\)/);
    await h.screenshot(page, 'seeds-two');
  }, 300_000);
});
