// The oracle selector from the page: an OpenAI-compatible endpoint (answered here by a
// Playwright route, so no server and no network), progress, usage and cost; and the API key
// never leaving memory unless "remember" is ticked: not in the URL, the exports, or any
// IndexedDB store (selection cache included).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startHarness, type BrowserHarness } from './harness.ts';
import { goodReply } from '../unit/select/mock-openai.ts';

const ALFWORLD = resolve('../shared/data/alfworld-react/alfworld_3prompts.json');
const haveAlfworld = existsSync(ALFWORLD);
if (!haveAlfworld) console.warn(`[oracle.test] ${ALFWORLD} is missing: the oracle journey is skipped`);

const KEY = 'sk-test-SECRET-4242';
const ENDPOINT = 'http://oracle.test/v1';

/** Every value in every IndexedDB database of the page, as one string. */
async function dumpIndexedDb(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const out: string[] = [];
    for (const info of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((res, rej) => {
        const r = indexedDB.open(info.name!);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const all = await new Promise<unknown[]>((res, rej) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        out.push(`${info.name}/${store}: ${JSON.stringify(all)}`);
      }
      db.close();
    }
    return out.join('\n');
  });
}

describe.skipIf(!haveAlfworld)('oracle selector in the page', () => {
  let h: BrowserHarness;
  let context: BrowserContext;
  let page: Page;
  const auth: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    context = await h.browser.newContext({ viewport: { width: 1440, height: 900 } });
    // The endpoint: CORS preflight and chat completions with a valid selection.
    await context.route(`${ENDPOINT}/**`, async (route) => {
      const req = route.request();
      const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'POST, OPTIONS' };
      if (req.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
      auth.push(req.headers()['authorization'] ?? '');
      const body = req.postDataJSON() as { messages: { role: string; content: string }[] };
      const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
      const nSteps = (user.match(/^Step \d+$/gm) ?? []).length;
      const content = goodReply(nSteps);
      return route.fulfill({
        status: 200,
        headers: { ...cors, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 100 } }),
      });
    });
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err.message));
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('labels 18 trajectories through the endpoint, shows usage and cost, and keeps the key out of URL, exports and storage', async () => {
    await page.goto(h.baseUrl + '/');
    await page.setInputFiles('[data-testid="file-input"]', ALFWORLD);
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('18 trajectories');
    await page.click('#tab-select');
    await page.check('input[name="selector"][value="oracle"]');
    await page.fill('[data-testid="oracle-url"]', ENDPOINT);
    await page.fill('[data-testid="oracle-model"]', 'mock-4o');
    await page.fill('[data-testid="oracle-key"]', KEY);
    await page.fill('[data-testid="price-prompt"]', '2');
    await page.fill('[data-testid="price-completion"]', '8');
    await page.click('[data-testid="run-selector"]');
    await expect.poll(() => page.textContent('[data-testid="selection-summary"]'), { timeout: 45_000 }).toMatch(/oracle:mock-4o: 18 labelled, 0 failed/);
    const summary = (await page.textContent('[data-testid="selection-summary"]'))!;
    expect(summary).toMatch(/18 requests, 0 retries/);
    expect(summary).toMatch(/18,000 prompt \+ 1,800 completion tokens/);
    // 18 000 × 2 / 1e6 + 1 800 × 8 / 1e6 = 0.0504
    expect(summary).toMatch(/cost ≈ 0\.0504/);
    expect(auth).toHaveLength(18);
    expect(new Set(auth)).toEqual(new Set([`Bearer ${KEY}`]));
    expect(await page.locator('[data-testid="trajectory-detail"] [data-testid="step"][data-critical="true"]').count()).toBeGreaterThan(0);
    expect(await page.inputValue('[data-testid="active-selection"]')).toBe('oracle:mock-4o');
    await h.screenshot(page, 'oracle-selection');

    // Not in the URL, nor in any export, nor stored anywhere.
    expect(page.url()).toMatch(/selector=oracle/);
    expect(page.url()).not.toContain(KEY);
    await page.click('#tab-export');
    for (const f of ['openai', 'agentgym', 'labels']) {
      await page.check(`[data-testid="format-${f}"]`);
      const [d] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-data"]')]);
      expect(readFileSync((await d.path())!, 'utf8')).not.toContain(KEY);
    }
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('text=Download trajectories with all selections')]);
    const canonical = readFileSync((await d.path())!, 'utf8');
    expect(canonical).toContain('oracle:mock-4o');
    expect(canonical).not.toContain(KEY);
    const stored = await dumpIndexedDb(page);
    expect(stored).toContain('oracle:mock-4o'); // the selections and the cache are there …
    expect(stored).not.toContain(KEY); // … the key is not
  }, 60_000);

  it('stores the key only while "remember on this device" is ticked', async () => {
    await page.click('#tab-select');
    await page.check('[data-testid="remember-key"]');
    await expect.poll(async () => (await dumpIndexedDb(page)).includes(KEY)).toBe(true);
    await page.reload();
    await page.click('#tab-select');
    await page.check('input[name="selector"][value="oracle"]');
    await expect.poll(() => page.inputValue('[data-testid="oracle-key"]')).toBe(KEY);
    await page.uncheck('[data-testid="remember-key"]');
    await expect.poll(async () => (await dumpIndexedDb(page)).includes(KEY)).toBe(false);
  }, 60_000);
});
