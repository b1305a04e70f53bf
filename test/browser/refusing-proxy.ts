// An HTTP proxy for browser tests that must stay offline: Chromium is launched with
// --proxy-server pointing here, so every request to a non-loopback host (a CDN, the Hugging Face
// hub, …) lands in `seen` and is refused; loopback traffic (the dev server, a local mock) bypasses
// it. Workers' fetches go through it too, which Playwright's page events do not show.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';

export interface RefusingProxy {
  port: number;
  seen: string[];
  server: Server;
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(502, { 'content-type': 'text/plain' }).end('this test is offline: nothing may leave the dev server');
  });
  server.on('connect', (req, socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { port: (server.address() as AddressInfo).port, seen, server };
}

/** Chromium's own background traffic (component updater, account checks), not the page's. */
const BROWSER_SERVICE = /^(?:CONNECT |\w+ https?:\/\/)(?:[\w-]+\.)*(?:google\.com|googleapis\.com|gvt1\.com|gstatic\.com)(?:[:/]|$)/;
export const pageTraffic = (seen: string[]) => seen.filter((r) => !BROWSER_SERVICE.test(r));

/** A worker's fetch to another host, which must reach the proxy (so an empty log means something). Returns what the worker saw. */
export async function workerCanary(page: Page, url: string): Promise<unknown> {
  return page.evaluate(async (target) => {
    const src = `fetch(${JSON.stringify(target)}).then(r => postMessage(r.status), () => postMessage('refused'))`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    const out = await new Promise((ok) => (w.onmessage = (e) => ok(e.data)));
    w.terminate();
    return out;
  }, url);
}
