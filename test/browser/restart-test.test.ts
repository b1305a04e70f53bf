// The Select step's restart test panel: plans the restarts on the page, runs them in its own
// worker with the run's model (preset:tiny here: random weights, so only the plumbing is
// checked) and shows one row per category with the comparisons.
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { SCREENSHOT_DIR } from './harness.ts';
import { sharedPage } from './shared-page.ts';

describe('restart test panel', () => {
  const shared = sharedPage();

  it('runs a tiny restart test on the built-in data in a worker and shows every category', async () => {
    const { h, page } = shared;
    await page.goto(`${h.baseUrl}/#preset=quick-demo&model=preset:tiny`);
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toMatch(/^\d+ trajectories$/);
    await page.click('#tab-select');
    const panel = page.locator('[data-testid="panel-select"] [data-testid="restart-test"]');
    await panel.waitFor();
    await panel.locator('[data-testid="restart-episodes"]').fill('1');
    await panel.locator('[data-testid="restart-per-trajectory"]').fill('1');
    await panel.locator('[data-testid="restart-max-steps"]').fill('1');
    const run = panel.locator('[data-testid="run-restart-test"]');
    await expect.poll(() => run.textContent()).toMatch(/^\s*Run 4 restarts on 1 trajectory\s*$/);
    await run.click();
    const table = panel.locator('[data-testid="restart-results"]');
    await table.waitFor({ timeout: 240_000 });
    const rows = await table.locator('tbody tr td:first-child').allTextContents();
    expect(rows).toEqual(['from the start', 'after selected', 'after random', 'after rejected']);
    expect(await table.locator('caption').textContent()).toMatch(/selection heuristic: 1 trajectory, at most 1 restart per trajectory and category, at most 1 model turn /);
    expect(await panel.locator('li').first().textContent()).toMatch(/^after selected steps vs from the start: /);
    await panel.screenshot({ path: resolve(SCREENSHOT_DIR, 'restart-test-panel.png') });
  }, 300_000);
});
