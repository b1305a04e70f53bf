// The local judge downloading a hub id in the page, through the "Hub mirror" setting, from a
// mock hub on 127.0.0.1 (test/unit/select/mock-hub.ts) that serves the real stories260K ONNX
// folder from ../shared at request time under /<org>/<name>/resolve/main/<file> (404 for anything
// else). Chromium runs behind the refusing proxy: loopback (the dev server, the mock hub)
// bypasses it, anything else would land in its log — so "nothing left for huggingface.co or a
// CDN" is asserted on real traffic. Scenarios, one page load each, in one browser context (so the
// second and third pages share the first one's Cache API):
//   1. download through the mirror (the link carries it as hub=…), label one trajectory;
//   2. a new page loads the same id again: from the browser cache, not the mock;
//   3. the mock is closed: the cached id still loads; an id not in the cache fails with an
//      error naming the hub id and the mirror, shown in the page.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHarness, CHROMIUM, CHROMIUM_ARGS, type BrowserHarness } from './harness.ts';
import { startRefusingProxy, pageTraffic, workerCanary, type RefusingProxy } from './refusing-proxy.ts';
import { startMockHub, downloads, type MockHub } from '../unit/select/mock-hub.ts';

const MODEL_DIR = resolve('../shared/models/stories260K/hf');
const haveModel = existsSync(join(MODEL_DIR, 'onnx', 'model.onnx'));
if (!haveModel) console.warn(`[judge-hub.test] ${MODEL_DIR} is missing: the hub-mirror download test is skipped`);

const REPO = 'atlas-test/stories260K';
/** One built-in household episode (6 steps), the judge on REPO from the mirror `hub`. */
const link = (hub: string) => `#preset=quick-demo&data=builtin:household:1/0:s1:m0.15&selector=judge&selectorModel=${encodeURIComponent(REPO)}&hub=${encodeURIComponent(hub)}&budget=0.3`;

describe.skipIf(!haveModel)('local judge from a hub mirror in the browser (mock hub, wasm, browser cache)', () => {
  let h: BrowserHarness;
  let browser: Browser;
  let context: BrowserContext;
  let proxy: RefusingProxy;
  let hub: MockHub;

  beforeAll(async () => {
    h = await startHarness();
    proxy = await startRefusingProxy();
    hub = await startMockHub(REPO, MODEL_DIR);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, `--proxy-server=http://127.0.0.1:${proxy.port}`] });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    proxy?.server.close();
    await h?.close();
  });

  /** Opens the link on a new page of the shared context, at the Select step with hub download ticked. */
  async function openJudge(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    await page.goto(h.baseUrl + '/' + link(hub.url));
    await page.click('#tab-select');
    await page.waitForSelector('[data-testid="panel-select"]:not([hidden])');
    expect(await page.getByLabel('Model (folder name or hub id)').inputValue()).toBe(REPO);
    await page.getByRole('combobox', { name: /^Mode/ }).selectOption('score');
    await page.getByLabel('Download from the Hugging Face hub (online)').check();
    // The mirror comes from the link.
    expect(await page.getByLabel('Hub mirror (base URL)').inputValue()).toBe(hub.url);
    return page;
  }

  /** Clicks Load judge; resolves with the "Loaded …" line or the alert's text. */
  async function loadJudge(page: Page): Promise<{ loaded?: string; alert?: string }> {
    await page.getByRole('button', { name: 'Load judge' }).click();
    const loaded = page.locator('[data-testid="judge-loaded"]');
    const alert = page.locator('[data-testid="panel-select"] [role="alert"]');
    await loaded.or(alert).first().waitFor({ timeout: 60_000 });
    return (await alert.count()) ? { alert: (await alert.textContent())!.trim() } : { loaded: (await loaded.textContent())!.trim() };
  }

  it('1 · downloads the model through the mirror and labels a trajectory, nothing leaving the machine', async () => {
    const page = await openJudge();
    expect(await workerCanary(page, 'http://judge-hub-canary.test/ping')).toBe('refused');
    await expect.poll(() => pageTraffic(proxy.seen)).toEqual(['GET http://judge-hub-canary.test/ping']);
    proxy.seen.length = 0;
    expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).get('hub')).toBe(hub.url);

    const started = Date.now();
    const result = await loadJudge(page);
    expect(result, `mock hub saw: ${hub.requests.map((r) => `${r.file} ${r.status}`).join(', ')}`).toEqual({ loaded: `Loaded ${REPO} (context 512, score mode) from the hub mirror ${hub.url}` });
    const loadMs = Date.now() - started;
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) expect(downloads(hub.requests, file), file).toBe(1);
    expect(hub.requests.every((r) => r.path.startsWith(`/${REPO}/resolve/main/`))).toBe(true);
    console.log(`[judge-hub] first load (${(loadMs / 1000).toFixed(1)} s), mock hub requests: ${hub.requests.map((r) => `${r.method} ${r.file} ${r.status}${r.range ? ` (${r.range})` : ''}`).join(', ')}`);

    await page.click('[data-testid="run-selector"]');
    const summary = page.locator('[data-testid="selection-summary"]');
    await expect.poll(() => summary.textContent().catch(() => ''), { timeout: 90_000, interval: 250 }).toMatch(new RegExp(`judge:${REPO}: 1 labelled, 0 failed`));
    expect(Number(/(\d+) requests/.exec((await summary.textContent())!)?.[1])).toBe(6); // one forward pass per step
    await page.locator('[data-testid="panel-select"] [data-testid="trajectory-item"]').first().click();
    await expect.poll(() => page.locator('[data-testid="trajectory-detail"] [data-testid="critical-badge"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await h.screenshot(page, 'judge-hub-labelled');
    expect(pageTraffic(proxy.seen)).toEqual([]);
    await page.close();
  }, 180_000);

  it('2 · a new page loads the same model from the browser cache', async () => {
    const page = await openJudge();
    const before = hub.requests.length;
    const result = await loadJudge(page);
    expect(result.loaded).toBe(`Loaded ${REPO} (context 512, score mode) from the hub mirror ${hub.url}`);
    const again = hub.requests.slice(before);
    console.log(`[judge-hub] second load, mock hub requests: ${again.length ? again.map((r) => `${r.method} ${r.file} ${r.status}`).join(', ') : 'none'}`);
    expect(again.filter((r) => r.status === 200).map((r) => r.file)).toEqual([]); // no file downloaded twice
    expect(again).toEqual([]);
    // What transformers.js keeps: the Cache API entries under the mirror's URLs.
    const cached = await page.evaluate(async () => (await (await caches.open('transformers-cache')).keys()).map((r) => r.url));
    for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) expect(cached).toContain(`${hub.url}/${REPO}/resolve/main/${file}`);
    expect(pageTraffic(proxy.seen)).toEqual([]);
    await page.close();
  }, 120_000);

  it('3 · with the mirror down: the cached model still loads; another id fails naming the id and the mirror', async () => {
    await hub.close();
    const page = await openJudge();
    const before = hub.requests.length;
    expect((await loadJudge(page)).loaded).toBe(`Loaded ${REPO} (context 512, score mode) from the hub mirror ${hub.url}`);

    const other = 'atlas-test/not-downloaded';
    await page.getByLabel('Model (folder name or hub id)').fill(other);
    const result = await loadJudge(page);
    expect(result.loaded).toBeUndefined();
    expect(result.alert).toMatch(new RegExp(`^cannot load the judge model from hub id "${other}" through the hub mirror ${hub.url.replace(/\./g, '\\.')}/: could not connect \\(the mirror is down or unreachable, or does not allow this page's origin by CORS\\): Failed to fetch$`));
    // The last judge is no longer shown as loaded, and the selector cannot run without one.
    expect(await page.locator('[data-testid="judge-loaded"]').count()).toBe(0);
    expect(await page.isEnabled('[data-testid="run-selector"]')).toBe(false);
    await h.screenshot(page, 'judge-hub-down');
    expect(hub.requests.length).toBe(before); // the closed mock saw nothing
    expect(pageTraffic(proxy.seen)).toEqual([]);
    console.log(`[judge-hub] mirror down: ${result.alert}`);
    await page.close();
  }, 120_000);
});
