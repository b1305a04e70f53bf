// `atlas bench --quick-demo`: times the playground's Quick demo as a user meets it — the
// page `npm start` serves, opened on its defaults (or on a given config link) in headless
// Chromium, Start clicked, until the run says "done". Prints when both arms' first points
// appeared, the time spent per phase and the final table, with the adapter and host load.
import { cpus, loadavg } from 'node:os';
import type { Page } from 'playwright-core';

export interface QuickDemoTiming {
  url: string;
  adapter: string;
  /** Milliseconds from the Start click until both arms had reported a step. */
  firstPointsMs: number;
  /** Milliseconds from the Start click until the run ended. */
  totalMs: number;
  finalStatus: string;
  /** What the page could not read in the link (its problems notice), e.g. a bad value. */
  linkProblems: string[];
  /** Wall time per run phase (preparing, training, evaluating, …), sampled every 100 ms. */
  phaseMs: Record<string, number>;
  steps: Record<string, number>;
  resultsTable: string;
  host: { cpu: string; cpus: number; loadBefore: number; loadAfter: number };
}

/** The run's status line and every arm's step counter, read from the page. */
function readRun(page: Page): Promise<{ text: string; steps: Record<string, number> }> {
  return page.evaluate(() => ({
    text: document.querySelector('[data-testid="run-status"]')?.textContent?.trim() ?? '',
    steps: Object.fromEntries(
      [...document.querySelectorAll('[data-testid^="arm-step-"]')].map((el) => [el.getAttribute('data-testid')!.slice('arm-step-'.length), Number(el.textContent)]),
    ),
  }));
}

export async function benchQuickDemo(opts: { hash?: string; screenshot?: string; timeoutMs?: number } = {}): Promise<QuickDemoTiming> {
  const { startHarness } = await import('../../test/browser/harness.ts');
  const loadBefore = loadavg()[0];
  const h = await startHarness();
  try {
    const page = await h.newPage();
    const url = `${h.baseUrl}/${opts.hash ?? ''}`;
    await page.goto(url);
    await page.click('#tab-train');
    // The first visit compiles the app and its workers in the dev server: not part of the run.
    await page.waitForSelector('[data-testid="start"]:not([disabled])', { timeout: 300_000 });
    const linkProblems = (await page.locator('[data-testid="url-problems"] li').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a ? [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' ') + (a.info.isFallbackAdapter ? ' (fallback)' : '') : 'no WebGPU adapter';
    });
    const t0 = Date.now();
    await page.click('[data-testid="start"]');
    const phaseMs: Record<string, number> = {};
    let firstPointsMs = NaN;
    let last = t0;
    let status = '';
    const deadline = t0 + (opts.timeoutMs ?? 3_600_000);
    for (;;) {
      const s = await readRun(page);
      const now = Date.now();
      status = s.text;
      const phase = /^(\w+)/.exec(status)?.[1] ?? 'starting';
      phaseMs[phase] = (phaseMs[phase] ?? 0) + (now - last);
      last = now;
      const counts = Object.values(s.steps);
      if (Number.isNaN(firstPointsMs) && counts.length >= 1 && counts.every((n) => n >= 1)) firstPointsMs = now - t0;
      if (/^(done|error|stopped)\b/.test(status)) break;
      if (now > deadline) throw new Error(`the run did not end within ${(opts.timeoutMs ?? 3_600_000) / 1000} s (status: ${status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const totalMs = Date.now() - t0;
    const { steps } = await readRun(page);
    const resultsTable = (await page.locator('[data-testid="results-table"] table').first().innerText().catch(() => '')).trim();
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    return {
      url: url.replace(h.baseUrl, ''),
      adapter,
      firstPointsMs,
      totalMs,
      finalStatus: status,
      linkProblems,
      phaseMs,
      steps,
      resultsTable,
      host: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, loadBefore, loadAfter: loadavg()[0] },
    };
  } finally {
    await h.close();
  }
}

export function formatQuickDemoTiming(t: QuickDemoTiming): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const phases = Object.entries(t.phaseMs)
    .map(([k, v]) => `${k} ${s(v)}`)
    .join(', ');
  return [
    `Quick demo in headless Chromium, page ${t.url || '/'} (the playground's defaults unless a hash is given)`,
    ...t.linkProblems.map((p) => `  link problem (the page says): ${p}`),
    `  adapter: ${t.adapter}`,
    `  both arms' first points ${s(t.firstPointsMs)} after Start`,
    `  ended "${t.finalStatus}" ${s(t.totalMs)} after Start (${phases})`,
    `  steps: ${Object.entries(t.steps).map(([a, n]) => `${a} ${n}`).join(', ')}`,
    `  host: ${t.host.cpu} × ${t.host.cpus} CPUs; load average ${t.host.loadBefore.toFixed(2)} before, ${t.host.loadAfter.toFixed(2)} after`,
    ...(t.resultsTable ? ['  results table:', ...t.resultsTable.split('\n').map((l) => `    ${l}`)] : []),
  ].join('\n');
}
