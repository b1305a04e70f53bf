// The local judge in the production build: `vite build` (the real vite.config.ts, into a
// temporary folder) served by `vite preview`, the Select step loads the real stories260K test
// model (served from ../shared by a middleware in front of the preview server) and labels two
// built-in trajectories in score mode. It proves the build's single copy of ONNX Runtime's
// wasm (under /ort/, see test/unit/select/ort-build.test.ts) is the one the judge loads, and
// that nothing is fetched off the origin (Chromium's only route out is a refusing proxy; see
// judge.test.ts, which runs the same journey on the dev server in more depth).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, SCREENSHOT_DIR } from './harness.ts';
import { startRefusingProxy, pageTraffic, workerCanary, type RefusingProxy } from './refusing-proxy.ts';

const MODEL_DIR = resolve('../shared/models/stories260K/hf');
const haveModel = existsSync(join(MODEL_DIR, 'onnx', 'model.onnx'));
if (!haveModel) console.warn(`[judge-build.test] ${MODEL_DIR} is missing: the local judge in the production build is not tested`);

const TWO_TRAJECTORIES = '#preset=quick-demo&data=builtin:household:2/0:s1:m0.15&selector=judge&selectorModel=stories260K&budget=0.3';

describe.skipIf(!haveModel)('local judge in the production build (vite build + vite preview)', () => {
  let outDir = '';
  let server: PreviewServer;
  let proxy: RefusingProxy;
  let browser: Browser;
  let page: Page;
  let baseUrl = '';
  /** Paths the preview server was asked for (page and workers). */
  const served: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Browser tests need Chromium at ${CHROMIUM} (apt-get install chromium), or set CHROMIUM_PATH.`);
    outDir = mkdtempSync(join(tmpdir(), 'atlas-build-'));
    const configFile = resolve('vite.config.ts');
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } });
    server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
    // /judge-model/stories260K/<file> → ../shared/models/stories260K/hf/<file>; anything outside
    // the folder or missing is a 404 (not the preview server's index.html fallback).
    server.middlewares.stack.unshift({
      route: '',
      handle: (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]);
        served.push(path);
        if (!path.startsWith('/judge-model/')) return next();
        const file = resolve(MODEL_DIR, path.replace(/^\/judge-model\/stories260K\//, ''));
        if (!file.startsWith(MODEL_DIR + sep) || !existsSync(file)) return void res.writeHead(404).end('not found');
        res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' }).end(readFileSync(file));
      },
    });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report a URL');
    baseUrl = url.replace(/\/$/, '');
    proxy = await startRefusingProxy();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, `--proxy-server=http://127.0.0.1:${proxy.port}`] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    proxy?.server.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('loads the judge with ONNX Runtime from /ort/ and labels two trajectories, with no request off the origin', async () => {
    await page.goto(baseUrl + '/' + TWO_TRAJECTORIES);
    // A worker's fetch to another host reaches the proxy (so an empty log below means something).
    expect(await workerCanary(page, 'http://judge-canary.test/ping')).toBe('refused');
    await expect.poll(() => pageTraffic(proxy.seen)).toEqual(['GET http://judge-canary.test/ping']);
    proxy.seen.length = 0;
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('2 trajectories');
    await page.click('#tab-select');
    await page.waitForSelector('[data-testid="panel-select"]:not([hidden])');
    await page.getByRole('combobox', { name: /^Mode/ }).selectOption('score');
    await page.getByLabel('Local models folder (URL)').fill('/judge-model/');
    await page.getByRole('button', { name: 'Load judge' }).click();
    const alert = page.locator('[data-testid="panel-select"] [role="alert"]');
    await page.getByText('Loaded stories260K (context 512, score mode) from the folder /judge-model/').or(alert).first().waitFor({ timeout: 60_000 });
    expect(await alert.allTextContents()).toEqual([]);

    await page.click('[data-testid="run-selector"]');
    await expect.poll(() => page.textContent('[data-testid="selection-summary"]').catch(() => ''), { timeout: 90_000, interval: 250 }).toMatch(/judge:stories260K: 2 labelled, 0 failed/);
    await page.screenshot({ path: resolve(SCREENSHOT_DIR, 'judge-build.png'), fullPage: true });

    // ONNX Runtime's glue and wasm came from the build's ort/, the only copy it holds.
    const ort = [...new Set(served.filter((p) => /ort-wasm|\.wasm$/.test(p)))].sort();
    expect(ort).toEqual(['/ort/ort-wasm-simd-threaded.asyncify.mjs', '/ort/ort-wasm-simd-threaded.asyncify.wasm']);
    expect(pageTraffic(proxy.seen)).toEqual([]);
    const summary = (await page.textContent('[data-testid="selection-summary"]'))!.replace(/\s+/g, ' ').trim();
    console.log(`[judge-build] ${summary}; ONNX Runtime files: ${ort.join(', ')}`);
  }, 180_000);
});
