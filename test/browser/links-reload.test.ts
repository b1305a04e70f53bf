// Links and reloads in the page: a link without preset=/arms= is read (and one with only
// unknown keys says so), values the page cannot use are listed when the link opens, a reload
// comes back on the open step while a new link opens on Data, a reload that stopped a run says
// so on every step, the status and the arm cards count the same steps, and the step tabs
// follow the WAI-ARIA keyboard pattern. Screenshots under test-results/screenshots.
import { describe, it, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { pressStart } from './harness.ts';
import { sharedPage } from './shared-page.ts';

// quick-demo.test.ts's tiny setting, 12 steps, a checkpoint with each evaluation (every 4 steps).
const TINY_12 = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:household+grid:4/1:s1:m0.15&labels=heuristic&steps=12&batch=1&seq=512&lr=0.005&warmup=1&evalEvery=4&rolloutEvery=0&rolloutEpisodes=0&nextAction=4&turnTokens=16&time=none';

const stepOf = async (page: Page, arm: string) => Number((await page.textContent(`[data-testid="arm-step-${arm}"]`).catch(() => '0')) ?? 0);
const openTab = (page: Page) => page.getAttribute('[role="tab"][aria-selected="true"]', 'id');
const problems = async (page: Page) => (await page.locator('[data-testid="url-problems"] li').allTextContents()).map((t) => t.trim());

describe('links and reloads', () => {
  const shared = sharedPage();

  async function open(hash: string, p = shared.page) {
    await p.goto(`${shared.h.baseUrl}/${hash}`);
    await p.waitForSelector('[data-testid="panel-data"]', { state: 'attached' });
  }

  it('reads a link without preset= or arms=; reports one with only unknown keys; ignores #main', async () => {
    const { h, page } = shared;
    await page.goto(`${h.baseUrl}/?a=1#steps=70`);
    await page.click('#tab-train');
    await expect.poll(() => page.inputValue('[data-testid="hyper-steps"]')).toBe('70');
    expect(await page.locator('[data-testid="url-problems"]').count()).toBe(0);
    expect(new URLSearchParams((await page.evaluate(() => location.hash)).slice(1)).get('steps')).toBe('70');

    const other = await h.newPage();
    await open('#foo=1&bar=2', other);
    expect(await problems(other)).toEqual(['unknown key "foo" (ignored; the keys are listed in docs/playground.md)', 'unknown key "bar" (ignored; the keys are listed in docs/playground.md)']);
    await other.close();

    const anchor = await h.newPage();
    await open('#main', anchor);
    expect(await anchor.locator('[data-testid="url-problems"]').count()).toBe(0);
    await anchor.close();
  }, 60_000);

  it('lists a model, sequence length, warmup and dataset the page cannot use when the link opens', async () => {
    const { h } = shared;
    const p = await h.newPage();
    await open('#model=preset:nope&seq=99999&warmup=1000000000&data=dataset:doesnotexist', p);
    await p.waitForSelector('[data-testid="url-problems"] li');
    await expect.poll(() => problems(p)).toHaveLength(4);
    const list = await problems(p);
    expect(list[0]).toBe('model=preset:nope: no preset model "nope" (presets are test, S, M, default, small, base, tiny)');
    expect(list[1]).toBe('seq=99999 is longer than the context of preset model base (512 tokens): using 512');
    expect(list[2]).toBe('warmup=1000000000 is more than steps=60: using 60');
    expect(list[3]).toMatch(/^data=dataset:doesnotexist: this browser holds no such dataset .* the built-in data \(household \+ grid\) is open instead/);
    // The configuration names the data that is open, so a run never trains on other data unsaid.
    expect(await p.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('data'))).toMatch(/^builtin:household\+grid:/);
    await h.screenshot(p, 'links-problems');
    await p.close();
  }, 60_000);

  it('step tabs: arrows wrap, Home and End go to the first and last step', async () => {
    const { page } = shared;
    await open(TINY_12);
    await page.click('#tab-data');
    // A click opens the step and focuses its panel; the keys act on the focused tab.
    await page.focus('#tab-data');
    await page.keyboard.press('ArrowLeft');
    expect(await openTab(page)).toBe('tab-export');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-export');
    await page.keyboard.press('ArrowRight');
    expect(await openTab(page)).toBe('tab-data');
    await page.keyboard.press('End');
    expect(await openTab(page)).toBe('tab-export');
    await page.keyboard.press('Home');
    expect(await openTab(page)).toBe('tab-data');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-data');
  }, 30_000);

  it('a reload comes back on the open step; a new link opens on Data', async () => {
    const { h, page } = shared;
    await page.click('#tab-select');
    await page.reload();
    await expect.poll(() => openTab(page), { timeout: 30_000 }).toBe('tab-select');
    await page.click('#tab-compare');
    await page.reload();
    await expect.poll(() => openTab(page), { timeout: 30_000 }).toBe('tab-compare');
    // The same origin, another link: a new page opens it on Data.
    const other = await h.newPage();
    await open(TINY_12.replace('steps=12', 'steps=13'), other);
    expect(await openTab(other)).toBe('tab-data');
    await other.close();
  }, 60_000);

  it('a reload that stopped a run says so on every step; status, cards and log count agree', async () => {
    const { h, page } = shared;
    await open(TINY_12);
    await page.click('#tab-train');
    await pressStart(page);
    await expect.poll(() => stepOf(page, 'full'), { timeout: 90_000, interval: 250 }).toBeGreaterThanOrEqual(6);
    await page.reload();
    // Restored on Compare (where Start led); the notice shows on every step.
    await expect.poll(() => openTab(page), { timeout: 30_000 }).toBe('tab-compare');
    await page.click('#tab-data');
    const notice = page.locator('[data-testid="interrupted-run"]');
    await notice.waitFor({ state: 'visible' });
    expect(await notice.textContent()).toMatch(/reloaded while .* was training: it stopped at step \d+ of 12/);
    await page.click('#tab-export');
    expect(await notice.isVisible()).toBe(true);
    await h.screenshot(page, 'links-interrupted-notice');
    await page.click('[data-testid="open-interrupted-run"]');
    expect(await openTab(page)).toBe('tab-compare');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('resume-checkpoint');

    // The status counts the steps every arm finished; an arm a step ahead is named.
    const cards = { critical: await stepOf(page, 'critical'), full: await stepOf(page, 'full') };
    const status = (await page.textContent('[data-testid="run-status"]'))!.replace(/\s+/g, ' ');
    const done = Math.min(cards.critical, cards.full);
    expect(status).toContain(`step ${done} / 12`);
    if (cards.critical !== cards.full) expect(status).toContain(`(critical ${cards.critical}, full ${cards.full})`);
    else expect(status).not.toContain('(critical');
    expect(await notice.textContent()).toContain(`stopped at step ${done} of 12`);
    const logCount = async () => Number(await page.textContent('[data-testid="runner-log-count"]'));
    const shownLines = () => page.locator('[data-testid="runner-log"] li').count();
    const before = await logCount();
    expect(before).toBe(await shownLines());

    await page.click('[data-testid="resume-checkpoint"]');
    await expect.poll(() => notice.count()).toBe(0);
    await expect.poll(() => page.textContent('[data-testid="run-status"]'), { timeout: 120_000, interval: 500 }).toMatch(/done/);
    const finalStatus = (await page.textContent('[data-testid="run-status"]'))!.replace(/\s+/g, ' ');
    expect(finalStatus).toContain('step 12 / 12');
    expect(finalStatus).not.toContain('(critical');
    expect([await stepOf(page, 'critical'), await stepOf(page, 'full')]).toEqual([12, 12]);
    // The heading's count follows the log as it grows.
    const after = await logCount();
    expect(after).toBeGreaterThan(before);
    expect(await shownLines()).toBe(Math.min(after, 40));
    await h.screenshot(page, 'links-resumed');
  }, 300_000);
});
