// Shared set-up for browser tests: a Vite dev server on a free port and headless Chromium
// (Debian's, through playwright-core) with WebGPU on SwiftShader. Skips nothing silently:
// without /usr/bin/chromium the suite fails with a message saying what to install.
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
    async screenshot(page, name) {
      const file = resolve(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
