// The production build as a static site that works offline: `vite build` (the real
// vite.config.ts, into a temporary folder) served by a plain Node file server under
// /some/sub/path/ — not `vite preview`, and not at the site root. The first visit installs the
// service worker, which precaches the app (workers included), ONNX Runtime's wasm, the default
// tokenizer (bundled in the scripts) and the shipped base model; then the server goes down and
// the page still reloads, trains a tiny run to "done" and opens a preset:base run. Finally the
// server comes back with a new service worker: the open page announces the new version and
// keeps running until the user presses Reload.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { build } from 'vite';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, openTrainStep, pressStart, saveScreenshot, waitForRunEnd } from './harness.ts';
import { sharedPage } from './shared-page.ts';
import { ORT_PUBLIC_DIR, ORT_WASM_FILES } from '../../src/select/ort-paths.ts';

const SUB = '/some/sub/path/';
const JUDGE_DIR = resolve('../shared/models/stories260K/hf');
const haveJudge = existsSync(join(JUDGE_DIR, 'onnx', 'model.onnx'));
if (!haveJudge) console.warn(`[offline-site.test] ${JUDGE_DIR} is missing: the judge's ONNX Runtime path under a sub-path is not tested`);

const TINY = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:household:2/1:s1:m0.15&labels=heuristic&steps=2&batch=1&seq=512&lr=0.005&warmup=1&evalEvery=2&rolloutEvery=0&rolloutEpisodes=0&nextAction=0&turnTokens=16&time=none&seeds=1';
const JUDGE = '#preset=quick-demo&data=builtin:household:2/0:s1:m0.15&selector=judge&selectorModel=stories260K&budget=0.3';
const BASE = TINY.replace('model=preset:tiny', 'model=preset:base').replace('arms=critical,full', 'arms=critical').replace('steps=2', 'steps=1').replace('evalEvery=2', 'evalEvery=1');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** A plain static file server: `root` under `prefix` (a folder's index.html for its path),
 *  `extra` folders under prefix + their key, 404 for anything else. Logs every path asked for. */
function staticServer(root: string, prefix: string, extra: Record<string, string>, log: string[]): Server {
  return createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    log.push(path);
    if (path === prefix.slice(0, -1)) return void res.writeHead(301, { location: prefix }).end();
    if (!path.startsWith(prefix)) return void res.writeHead(404).end('not found');
    let rel = path.slice(prefix.length);
    let dir = root;
    for (const [at, folder] of Object.entries(extra)) {
      if (rel.startsWith(at)) [dir, rel] = [folder, rel.slice(at.length)];
    }
    let file = resolve(dir, rel);
    if (file !== dir && !file.startsWith(dir + sep)) return void res.writeHead(404).end('not found');
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(readFileSync(file));
  });
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  return (server.address() as AddressInfo).port;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
}

/** The page's service worker: whether it controls the page, and its registration's workers. */
async function serviceWorkerState(page: Page) {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    return {
      controlled: navigator.serviceWorker.controller !== null,
      scope: reg?.scope ?? '',
      active: reg?.active?.state ?? '',
      waiting: reg?.waiting?.state ?? '',
    };
  });
}

/** Every URL in the page's Cache Storage, by cache. */
async function cachedUrls(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    // Without Workbox's ?__WB_REVISION__= on the files whose names carry no hash.
    for (const name of await caches.keys()) out[name] = (await (await caches.open(name)).keys()).map((r) => r.url.split('?')[0]);
    return out;
  });
}

describe('the build as a static site under a sub-path, offline after the first visit', () => {
  let outDir = '';
  let server: Server;
  let port = 0;
  let root = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const served: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Browser tests need Chromium at ${CHROMIUM} (apt-get install chromium), or set CHROMIUM_PATH.`);
    outDir = mkdtempSync(join(tmpdir(), 'atlas-site-'));
    // As `npm run build` builds it: vitest's NODE_ENV=test would make Vite build with
    // import.meta.env.PROD false (no service worker registered) and Workbox in development mode.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ configFile: resolve('vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    server = staticServer(outDir, SUB, haveJudge ? { 'judge-models/stories260K/': JUDGE_DIR } : {}, served);
    port = await listen(server);
    root = `http://127.0.0.1:${port}${SUB}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 }, serviceWorkers: 'allow' });
    page = await context.newPage();
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') console.error('[console]', msg.text());
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server?.listening) await stop(server);
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('the build refers to its files relatively and precaches the app, ONNX Runtime and the base model', () => {
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    expect(html).not.toMatch(/(?:src|href)="\/(?!\/)/);
    const sw = readFileSync(join(outDir, 'sw.js'), 'utf8');
    const precached = [...sw.matchAll(/\{url:"([^"]+)",revision:/g)].map((m) => m[1]);
    for (const f of ORT_WASM_FILES) expect(precached).toContain(ORT_PUBLIC_DIR + f);
    expect(precached).toContain('index.html');
    expect(precached.filter((u) => u.endsWith('.safetensors'))).toHaveLength(1);
    expect(precached.filter((u) => /^assets\/experiment\.worker-[\w-]+\.js$/.test(u)).length).toBeGreaterThan(0);
    expect(precached.filter((u) => u.startsWith('/') || u.endsWith('.map'))).toEqual([]);
    const bytes = precached.reduce((n, u) => n + statSync(join(outDir, u)).size, 0);
    console.log(`[offline-site] ${precached.length} files precached, ${(bytes / 1e6).toFixed(1)} MB`);
  });

  it('first visit: the service worker installs and controls the page; everything came from under the sub-path', async () => {
    await page.goto(root + TINY);
    await page.waitForSelector('#tab-train');
    await expect.poll(() => serviceWorkerState(page), { timeout: 90_000, interval: 500 }).toMatchObject({ controlled: true, active: 'activated', scope: root });
    const cached = Object.values(await cachedUrls(page)).flat();
    for (const f of ORT_WASM_FILES) expect(cached).toContain(root + ORT_PUBLIC_DIR + f);
    expect(cached.some((u) => u.startsWith(root + 'assets/') && u.endsWith('.safetensors'))).toBe(true);
    expect(cached).toContain(root + 'index.html');
    expect(served.filter((p) => !p.startsWith(SUB))).toEqual([]);
    expect(await page.locator('[data-testid="update-notice"]').count()).toBe(0);
  }, 120_000);

  it.skipIf(!haveJudge)('the local judge finds ONNX Runtime under the sub-path (from the precache)', async () => {
    const before = served.length;
    await page.goto(root + JUDGE);
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('2 trajectories');
    await page.click('#tab-select');
    await page.waitForSelector('[data-testid="panel-select"]:not([hidden])');
    expect(await page.getByLabel('Model (folder name or hub id)').inputValue()).toBe('stories260K');
    await page.getByRole('combobox', { name: /^Mode/ }).selectOption('score');
    // The default folder is relative to the page (models/ beside index.html, under the sub-path).
    expect(await page.getByLabel('Local models folder (URL)').inputValue()).toBe('models/');
    await page.getByLabel('Local models folder (URL)').fill('judge-models/');
    await page.getByRole('button', { name: 'Load judge' }).click();
    const alert = page.locator('[data-testid="panel-select"] [role="alert"]');
    await page.getByText(`Loaded stories260K (context 512, score mode) from the folder ${SUB}judge-models/`).or(alert).first().waitFor({ timeout: 90_000 });
    expect(await alert.allTextContents()).toEqual([]);
    // The model's files came from the server under the sub-path; ONNX Runtime's from the cache.
    const asked = served.slice(before);
    expect(asked.some((p) => p.startsWith(`${SUB}judge-models/stories260K/`))).toBe(true);
    expect(asked.filter((p) => p.includes('ort-wasm'))).toEqual([]);
    expect(asked.filter((p) => !p.startsWith(SUB))).toEqual([]);
  }, 150_000);

  it('offline: the page reloads, a tiny run trains to done, and preset:base loads from the cache', async () => {
    await stop(server);
    // The server is down: nothing can be fetched from it any more.
    const down = await page.evaluate(async (url) => fetch(url + 'no-such-file.txt').then((r) => r.status, () => 'unreachable'), root);
    expect(down).toBe('unreachable');

    await page.goto(root + TINY);
    await page.reload();
    await page.waitForSelector('#tab-train');
    expect(await serviceWorkerState(page)).toMatchObject({ controlled: true });
    await page.click('#tab-train');
    await expect.poll(() => page.inputValue('[data-testid="train-seeds"]'), { timeout: 30_000 }).toBe('1');
    await pressStart(page, 60_000);
    expect(await waitForRunEnd(page, 150_000)).toMatch(/done/);
    await saveScreenshot(page, 'offline-reload');

    // A fresh tab, offline, on a preset:base link: the base agent's files come from the precache.
    const second = await context.newPage();
    second.on('pageerror', (err) => console.error('[page error]', err.message));
    await second.goto(root + BASE);
    await second.click('#tab-train');
    await pressStart(second, 60_000);
    expect(await waitForRunEnd(second, 150_000)).toMatch(/done/);
    expect(await second.textContent('[data-testid="runner-log"]')).toMatch(/model: preset base: the base agent/);
    await second.close();
  }, 300_000);

  it('a new version is announced, not forced: the page keeps running until the user reloads', async () => {
    // Deploy "a new version": a changed service worker script, served again on the same port.
    writeFileSync(join(outDir, 'sw.js'), readFileSync(join(outDir, 'sw.js'), 'utf8') + '\n// the next version\n');
    server = staticServer(outDir, SUB, {}, served);
    await listen(server, port);
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const notice = page.locator('[data-testid="update-notice"]');
    await notice.waitFor({ timeout: 60_000 });
    expect((await notice.textContent())!.replace(/\s+/g, ' ')).toMatch(/A new version of the playground is available\. Reload Later/);
    // Not taken yet: the new worker waits, the old one still controls this very document.
    expect(await serviceWorkerState(page)).toMatchObject({ controlled: true, active: 'activated', waiting: 'installed' });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await saveScreenshot(page, 'offline-update-notice');

    await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), page.click('[data-testid="update-reload"]')]);
    await page.waitForSelector('#tab-train');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBeUndefined();
    await expect.poll(() => serviceWorkerState(page), { timeout: 30_000 }).toMatchObject({ controlled: true, active: 'activated', waiting: '' });
    expect(await page.locator('[data-testid="update-notice"]').count()).toBe(0);
  }, 120_000);
});

describe('the dev server registers no service worker', () => {
  const shared = sharedPage();

  it('a page from `vite` (what every other browser test opens) stays uncontrolled', async () => {
    const { h, page } = shared;
    await openTrainStep(page, h.baseUrl + '/' + TINY);
    await page.waitForSelector('[data-testid="start"]:enabled', { timeout: 60_000 });
    // Workbox registers on the window's load event; give it time to have done so.
    await page.waitForTimeout(2_000);
    expect(await serviceWorkerState(page)).toEqual({ controlled: false, scope: '', active: '', waiting: '' });
    const sw = await page.evaluate(() => fetch('/sw.js').then((r) => `${r.status} ${r.headers.get('content-type')}`));
    expect(sw).not.toMatch(/^200 .*javascript/);
  }, 120_000);
});
