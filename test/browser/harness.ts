// Shared set-up for browser tests: a Vite dev server on a free port and headless Chromium
// (Debian's, through playwright-core) with WebGPU on SwiftShader. Skips nothing silently:
// without /usr/bin/chromium the suite fails with a message saying what to install. Also the
// steps most tests take in the playground: open a link on the Train step, press Start, wait
// for the run to end. No vitest here: `atlas bench --browser` and `--quick-demo` use it too.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = resolve('test-results/screenshots');

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface BrowserHarness {
  server: ViteDevServer;
  browser: Browser;
  baseUrl: string;
  newPage(): Promise<Page>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = resolve(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export async function startHarness(): Promise<BrowserHarness> {
  if (!existsSync(CHROMIUM)) throw new Error(`Browser tests need Chromium at ${CHROMIUM} (apt-get install chromium), or set CHROMIUM_PATH.`);
  const server = await createServer({ configFile: resolve('vite.config.ts'), server: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  await server.listen();
  // No file watching: an edit elsewhere in the tree (another test run, an editor) must not make
  // Vite reload the page in the middle of a test or a benchmark; this server serves the files
  // as they are when it starts.
  await server.watcher.close();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('Vite dev server did not report a port');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    server,
    browser,
    baseUrl,
    async newPage() {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.on('pageerror', (err) => console.error('[page error]', err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') console.error('[console]', msg.text());
      });
      return page;
    },
    screenshot: saveScreenshot,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** The run's status line as the page shows it ('' before it has one). */
export async function runStatus(page: Page): Promise<string> {
  return (await page.textContent('[data-testid="run-status"]')) ?? '';
}

/** Opens `url` (the playground, usually with a config link) and goes to its Train step. */
export async function openTrainStep(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.click('#tab-train');
}

/** Presses Start once the page enables it (the app and its workers load first). */
export async function pressStart(page: Page, readyMs = 30_000): Promise<void> {
  await page.waitForSelector('[data-testid="start"]:enabled', { timeout: readyMs });
  await page.click('[data-testid="start"]');
}

/** Waits until the run has ended, however it ended (its status says done, error or stopped),
 *  and returns that status. */
export async function waitForRunEnd(page: Page, timeoutMs: number): Promise<string> {
  try {
    await page.waitForFunction(() => /done|error|stopped/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), undefined, { timeout: timeoutMs, polling: 500 });
  } catch (err) {
    throw new Error(`the run did not end within ${timeoutMs / 1000} s (status: "${await runStatus(page).catch(() => '?')}")`, { cause: err });
  }
  return runStatus(page);
}

/** Opens `url` on the Train step and presses Start: the run the link describes starts. */
export async function startRun(page: Page, url: string): Promise<void> {
  await openTrainStep(page, url);
  await pressStart(page);
}

/** startRun, then waitForRunEnd: the status the run ended with. */
export async function runToEnd(page: Page, url: string, timeoutMs: number): Promise<string> {
  await startRun(page, url);
  return waitForRunEnd(page, timeoutMs);
}
