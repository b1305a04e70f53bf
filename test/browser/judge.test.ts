// The local judge in the page: the Select step loads the real stories260K test model (served
// from ../shared by a middleware the test puts in front of the dev server, never copied into
// the repo) in the select worker, offline, and labels two built-in trajectories in score mode on
// onnxruntime-web's wasm. stories260K is a story model: its judgements mean nothing; the test
// checks the plumbing.
//
// Requests are recorded at the network level, because the judge runs in a dedicated worker and
// Playwright's page.route / page.on('request') do not see a worker's fetches with this Chromium
// (checked: no worker request appeared). Chromium runs with a proxy that only non-loopback
// traffic reaches: every request to another host lands in that proxy's log (and is refused), so
// "no CDN, no hub" is asserted on what really left the browser; a canary fetch from a worker
// proves the proxy sees worker traffic. Requests to the dev server are logged by the middleware.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHarness, CHROMIUM, CHROMIUM_ARGS, type BrowserHarness } from './harness.ts';
import { budgetCount } from '../../src/data/arms.ts';
import { startRefusingProxy, pageTraffic, workerCanary, type RefusingProxy } from './refusing-proxy.ts';

const MODEL_DIR = resolve('../shared/models/stories260K/hf');
const haveModel = existsSync(join(MODEL_DIR, 'onnx', 'model.onnx'));
if (!haveModel) console.warn(`[judge.test] ${MODEL_DIR} is missing: the in-browser local judge test is skipped`);

// Two built-in household episodes (no held-out ones): 2 trajectories of 6 steps (seed 1).
const TWO_TRAJECTORIES = '#preset=quick-demo&data=builtin:household:2/0:s1:m0.15&selector=judge&selectorModel=stories260K&budget=0.3';
const CONTENT_TYPES: Record<string, string> = { '.json': 'application/json', '.onnx': 'application/octet-stream' };

describe.skipIf(!haveModel)('local judge in the browser (stories260K, score and generate mode, wasm, offline)', () => {
  let h: BrowserHarness;
  let browser: Browser;
  let page: Page;
  let proxy: RefusingProxy;
  /** Paths the dev server was asked for (page and workers). */
  const served: string[] = [];
  const modelFiles: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    proxy = await startRefusingProxy();
    // The harness's Chromium plus the proxy (loopback, i.e. the dev server, bypasses it).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, `--proxy-server=http://127.0.0.1:${proxy.port}`] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    // /judge-model/stories260K/<file> → ../shared/models/stories260K/hf/<file>; anything outside
    // the folder or missing is a 404, as a static server would answer.
    h.server.middlewares.stack.unshift({
      route: '',
      handle: (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]);
        served.push(path);
        if (!path.startsWith('/judge-model/')) return next();
        const rel = path.replace(/^\/judge-model\/stories260K\//, '');
        const file = resolve(MODEL_DIR, rel);
        if (!file.startsWith(MODEL_DIR + sep) || !existsSync(file)) return void res.writeHead(404).end('not found');
        modelFiles.push(rel);
        res.writeHead(200, { 'content-type': CONTENT_TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(readFileSync(file));
      },
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    proxy?.server.close();
    await h?.close();
  });

  it('loads the judge from a local folder URL and labels two trajectories within the budget, with no request off the origin', async () => {
    await page.goto(h.baseUrl + '/' + TWO_TRAJECTORIES);
    // Canary: a worker's fetch to another host reaches the proxy (so an empty log means something).
    const canary = await workerCanary(page, 'http://judge-canary.test/ping');
    expect(canary).toBe('refused'); // the 502 carries no CORS header
    await expect.poll(() => pageTraffic(proxy.seen)).toEqual(['GET http://judge-canary.test/ping']);
    proxy.seen.length = 0;

    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('2 trajectories');
    await page.click('#tab-select');
    await page.waitForSelector('[data-testid="panel-select"]:not([hidden])');
    expect(await page.isChecked('input[name="selector"][value="judge"]')).toBe(true);
    expect(await page.getByLabel('Model (folder name or hub id)').inputValue()).toBe('stories260K');
    await page.getByRole('combobox', { name: /^Mode/ }).selectOption('score');
    expect(await page.getByLabel('Download from the Hugging Face hub (online)').isChecked()).toBe(false);
    await page.getByLabel('Local models folder (URL)').fill('/judge-model/');
    // Without a loaded judge the selector cannot run.
    expect(await page.isEnabled('[data-testid="run-selector"]')).toBe(false);

    const loadStarted = Date.now();
    await page.getByRole('button', { name: 'Load judge' }).click();
    const loaded = page.getByText('Loaded stories260K (context 512, score mode) from the folder /judge-model/');
    const alert = page.locator('[data-testid="panel-select"] [role="alert"]');
    await loaded.or(alert).first().waitFor({ timeout: 60_000 });
    expect(await alert.allTextContents(), `model files served: ${modelFiles.join(', ')}`).toEqual([]);
    const loadMs = Date.now() - loadStarted;
    expect(modelFiles).toContain('config.json');
    expect(modelFiles).toContain('tokenizer.json');
    expect(modelFiles).toContain('onnx/model.onnx');

    const runStarted = Date.now();
    expect(await page.textContent('[data-testid="run-selector"]')).toContain('2 trajectories');
    await page.click('[data-testid="run-selector"]');
    await expect.poll(() => page.textContent('[data-testid="selection-summary"]').catch(() => ''), { timeout: 90_000, interval: 250 }).toMatch(/judge:stories260K: 2 labelled, 0 failed/);
    const runMs = Date.now() - runStarted;
    const summary = (await page.textContent('[data-testid="selection-summary"]'))!;
    // Score mode asks once per step: more requests than trajectories.
    expect(Number(/(\d+) requests/.exec(summary)?.[1])).toBeGreaterThan(2);
    // The judge's selection becomes the one the critical arm trains on.
    await expect.poll(() => page.inputValue('[data-testid="active-selection"]'), { timeout: 10_000 }).toBe('judge:stories260K');
    expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).get('labels')).toBe('judge:stories260K');
    // The browser shows the judge's critical steps on the first trajectory.
    await page.locator('[data-testid="trajectory-item"]').first().click();
    await expect.poll(() => page.locator('[data-testid="trajectory-detail"] [data-testid="critical-badge"]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await h.screenshot(page, 'judge-labelled');

    // The labels export: each trajectory's selection is the judge's, and within the budget.
    await page.click('#tab-export');
    await page.check('[data-testid="format-labels"]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-data"]')]);
    const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const text = JSON.stringify(line).slice(0, 400);
      expect(line.selector, text).toBe('judge:stories260K');
      expect(line.budget, text).toBe(0.3);
      const nSteps = line.nSteps as number;
      const steps = line.steps as number[];
      const reasons = line.reasons as string[];
      expect(nSteps, text).toBeGreaterThan(1);
      // Score mode keeps the top budgetCount(n, 0.3) steps: never more, and (with a score for every step) exactly that many.
      expect(steps.length, text).toBe(budgetCount(nSteps, 0.3));
      expect(new Set(steps).size, text).toBe(steps.length);
      for (const k of steps) expect(Number.isInteger(k) && k >= 0 && k < nSteps, text).toBe(true);
      expect(reasons, text).toHaveLength(steps.length);
      for (const r of reasons) expect(r).toMatch(/^P\(yes\) = 0\.\d{4}$/);
    }
    console.log(`[judge] labels: ${lines.map((l) => `${l.id} ${JSON.stringify(l.steps)} of ${l.nSteps} (${(l.reasons as string[]).join(', ')})`).join('; ')}`);

    // Nothing left the dev server: no CDN for ONNX Runtime, no hub for the model.
    expect(pageTraffic(proxy.seen)).toEqual([]);
    // ONNX Runtime's wasm build came from the app's own /ort/.
    const ort = [...new Set(served.filter((p) => /ort-wasm|\.wasm$/.test(p)))];
    expect(ort).toContain('/ort/ort-wasm-simd-threaded.asyncify.wasm');
    for (const p of ort) expect(p).toMatch(/^\/ort\//);
    console.log(`[judge] Chromium's own requests to its services (ignored): ${proxy.seen.length}`);
    console.log(`[judge] load ${(loadMs / 1000).toFixed(1)} s, label 2 trajectories ${(runMs / 1000).toFixed(1)} s; ${summary.replace(/\s+/g, ' ').trim()}; ONNX Runtime files: ${ort.join(', ')}`);
  }, 180_000);

  it('generate mode: the story model writes no JSON, and every trajectory shows why it failed', async () => {
    // A fresh browser context (nothing stored from the score run), the same two trajectories.
    const gen = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    gen.on('pageerror', (err) => console.error('[page error]', err.message));
    proxy.seen.length = 0;
    try {
      await gen.goto(h.baseUrl + '/' + TWO_TRAJECTORIES);
      await expect.poll(() => gen.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('2 trajectories');
      await gen.click('#tab-select');
      await gen.waitForSelector('[data-testid="panel-select"]:not([hidden])');
      const ids = await gen.locator('[data-testid="panel-select"] [data-testid="trajectory-item"] .id').allTextContents();
      expect(ids).toHaveLength(2);
      await gen.getByRole('combobox', { name: /^Mode/ }).selectOption('generate');
      // A short reply keeps the test quick; the 512-token context then holds 464 prompt tokens.
      await gen.getByLabel('Max new tokens per reply').fill('48');
      await gen.getByLabel('Local models folder (URL)').fill('/judge-model/');
      await gen.getByRole('button', { name: 'Load judge' }).click();
      const alert = gen.locator('[data-testid="panel-select"] [role="alert"]');
      await gen.getByText('Loaded stories260K (context 512, generate mode)').or(alert).first().waitFor({ timeout: 60_000 });
      expect(await alert.allTextContents()).toEqual([]);

      const started = Date.now();
      await gen.click('[data-testid="run-selector"]');
      const summary = gen.locator('[data-testid="selection-summary"]');
      await expect.poll(() => summary.textContent().catch(() => ''), { timeout: 120_000, interval: 250 }).toMatch(/judge:stories260K: \d+ labelled, \d+ failed/);
      await expect.poll(() => gen.isEnabled('[data-testid="run-selector"]'), { timeout: 10_000 }).toBe(true); // the run has ended
      const text = (await summary.textContent())!.replace(/\s+/g, ' ');
      const labelled = Number(/(\d+) labelled/.exec(text)![1]);
      const failed = Number(/(\d+) failed/.exec(text)![1]);
      // Every trajectory is accounted for: labelled + failed = total.
      expect(labelled + failed, text).toBe(2);
      // A story model does not write the JSON object: both fail, each after the one retry.
      expect(failed, text).toBe(2);
      expect(Number(/(\d+) requests/.exec(text)?.[1]), text).toBe(4);

      // Each failure is listed by trajectory, as text, with the validator's reason and the prompt cut.
      await gen.getByText('Why 2 failed').click();
      const items = gen.locator('[data-testid="panel-select"] [data-testid="selection-failures"] li');
      expect(await items.count()).toBe(failed);
      const reasons = (await items.allTextContents()).map((r) => r.replace(/\s+/g, ' ').trim());
      expect(reasons.map((r) => r.slice(0, r.indexOf(':'))).sort()).toEqual([...ids].sort());
      for (const r of reasons) {
        expect(r).toMatch(/^\S+: reply unusable twice: first (no JSON object found in the reply|malformed JSON \(.+\)|the reply was empty|.+); then .+ \(the last reply began ".*"\)/);
        expect(r).toMatch(/; the prompt was cut to its end to fit the model's 512-token context minus 48 new tokens \(tokens \d+ → 464, \d+ → 464\)$/);
      }
      // Nothing was dropped from the dataset, and no failed judge became the critical arm's selection.
      expect(await gen.locator('[data-testid="panel-select"] [data-testid="trajectory-item"]').count()).toBe(2);
      expect(await gen.textContent('[data-testid="run-selector"]')).toContain('Run selector on 2 trajectories');
      expect(new URLSearchParams(new URL(gen.url()).hash.slice(1)).get('labels')).not.toBe('judge:stories260K');
      // The open trajectory says so too, beside its steps.
      await gen.locator('[data-testid="panel-select"] [data-testid="trajectory-item"]').first().click();
      const note = (await gen.textContent('[data-testid="panel-select"] [data-testid="selection-failure"]'))!.replace(/\s+/g, ' ').trim();
      expect(note).toMatch(/^The last run of judge:stories260K could not label this trajectory: reply unusable twice: /);
      await h.screenshot(gen, 'judge-generate-failures');
      expect(pageTraffic(proxy.seen)).toEqual([]);
      console.log(`[judge] generate mode: ${text.trim()} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${reasons.join(' | ')}`);
    } finally {
      await gen.context().close();
    }
  }, 240_000);
});
