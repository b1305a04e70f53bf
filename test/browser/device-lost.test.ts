// A lost GPU device during training: the experiment worker's test-only "lose-device" hook
// (src/experiment/test-hooks.ts, answered in dev-server builds only) destroys its device
// mid-run (what a driver reset or an out-of-memory GPU does), the page says the device was lost
// (in one alert, not also in the general error alert, which other errors still use) and offers
// to resume from the last checkpoint, and resuming trains on from that checkpoint to the end.
// Screenshots under test-results/screenshots.
import { describe, it, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { startRun } from './harness.ts';
import { sharedPage } from './shared-page.ts';

// quick-demo.test.ts's tiny setting, 12 steps, a checkpoint with each evaluation (every 4 steps).
const TINY_12 = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:household+grid:4/1:s1:m0.15&labels=heuristic&steps=12&batch=1&seq=512&lr=0.005&warmup=1&evalEvery=4&rolloutEvery=0&rolloutEpisodes=0&nextAction=4&turnTokens=16&time=none';

const stepOf = async (page: Page, arm: string) => Number((await page.textContent(`[data-testid="arm-step-${arm}"]`).catch(() => '0')) ?? 0);
const runnerLog = async (page: Page) => (await page.textContent('[data-testid="runner-log"]').catch(() => '')) ?? '';
const savedSteps = (log: string) => [...log.matchAll(/checkpoint saved at step (\d+)/g)].map((m) => Number(m[1]));

/** Every visible alert on the page, as [data-testid, text]. Visible only: the Compare step
 *  stays mounted (hidden) while another step is open, and has run controls of its own. */
const alerts = (page: Page) =>
  page.locator('[role="alert"]:visible').evaluateAll((els) => els.map((el) => [el.getAttribute('data-testid') ?? '', (el.textContent ?? '').replace(/\s+/g, ' ').trim()]));

/** Calls the experiment worker's test-only hook through the dev server's copy of the test-hooks
 *  module. A string, so vitest does not rewrite the dynamic import. */
const loseDevice = (page: Page) => page.evaluate<boolean>(`import('/src/experiment/test-hooks.ts').then((m) => m.callTestHook('lose-device'))`);

/** The kinds of the failure events in the run the page stored (src/store/runs.ts): the worker
 *  sends each failure once, as a typed event (src/experiment/protocol.ts RunFailure). */
const storedFailures = (page: Page) =>
  page.evaluate<string[]>(`Promise.all([import('/src/store/settings.ts'), import('/src/store/runs.ts'), import('/src/experiment/protocol.ts')]).then(async ([s, r, p]) => {
    const session = await s.getSetting('session');
    const run = session?.runId ? await r.loadRun(session.runId) : undefined;
    return (run?.events ?? []).filter((e) => p.isFailure(e)).map((e) => e.kind);
  })`);

describe('lost GPU device', () => {
  const shared = sharedPage();

  /** Starts `hash`'s run, waits past its first checkpoint and a step beyond, then loses the device. */
  async function trainThenLoseDevice(hash: string): Promise<{ critical: number; full: number; checkpoint: number }> {
    const { h, page } = shared;
    await startRun(page, h.baseUrl + '/' + hash);
    await page.waitForSelector('[data-testid="panel-compare"]:not([hidden])');
    await expect.poll(async () => savedSteps(await runnerLog(page)).length, { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
    await expect.poll(() => stepOf(page, 'full'), { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(5);
    expect(await page.textContent('[data-testid="run-status"]')).toMatch(/training|evaluating/);
    expect(await loseDevice(page)).toBe(true);
    await page.waitForSelector('[data-testid="device-lost"]', { timeout: 15_000 });
    await expect.poll(() => page.textContent('[data-testid="run-status"]'), { timeout: 15_000 }).toMatch(/^\s*error/);
    // Training stopped: no step advances after the loss.
    const stopped = { critical: await stepOf(page, 'critical'), full: await stepOf(page, 'full') };
    await page.waitForTimeout(1500);
    expect({ critical: await stepOf(page, 'critical'), full: await stepOf(page, 'full') }).toEqual(stopped);
    const checkpoint = Math.max(...savedSteps(await runnerLog(page)));
    expect(checkpoint).toBeLessThanOrEqual(Math.max(stopped.critical, stopped.full));
    return { ...stopped, checkpoint };
  }

  /** Resumes from the offered checkpoint and checks the run trains on from it to `steps`. */
  async function resumeToEnd(checkpoint: number, steps: number) {
    const { page } = shared;
    await page.click('[data-testid="resume-checkpoint"]');
    await expect.poll(() => page.locator('[data-testid="device-lost"]').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.textContent('[data-testid="run-status"]'), { timeout: 90_000, interval: 500 }).toMatch(/done/);
    expect(await runnerLog(page)).toContain(`resumed from the checkpoint at step ${checkpoint}`);
    expect(await stepOf(page, 'critical')).toBe(steps);
    expect(await stepOf(page, 'full')).toBe(steps);
    // One point per step: the steps after the checkpoint replace the ones trained before the loss.
    expect(Number(await page.locator('[data-testid="chart-train-loss"]').getAttribute('data-points'))).toBe(steps);
  }

  it('says the device was lost mid-training and resumes from the last checkpoint to the end', async () => {
    const { h, page } = shared;
    const lost = await trainThenLoseDevice(TINY_12);
    // One alert, the lost-device notice (no general alert repeating it), with the worker's
    // reason, not the dying run's failed buffer maps.
    const shown = await alerts(page);
    expect(shown.map(([id]) => id)).toEqual(['device-lost']);
    expect(shown[0][1]).toMatch(/^The GPU device was lost \(destroyed: Device was destroyed\)\. .*Training stopped\. Resume from the last checkpoint$/);
    expect(await page.textContent('[data-testid="run-status"]')).toMatch(/GPU device lost/);
    expect(lost.critical).toBeLessThan(12);
    // One failure event for the loss, of its own kind (not an error sentence, not also the dying run's failures).
    await expect.poll(() => storedFailures(page), { timeout: 10_000 }).toEqual(['device-lost']);
    expect(await page.isEnabled('[data-testid="resume-checkpoint"]')).toBe(true);
    await h.screenshot(page, 'device-lost');
    await resumeToEnd(lost.checkpoint, 12);
    console.log(`[device-lost] arms stopped at critical ${lost.critical}, full ${lost.full}; resumed from the checkpoint at step ${lost.checkpoint}; finished at 12`);
    await h.screenshot(page, 'device-lost-resumed');
    // Any other error still shows in the general alert (and no device-lost notice): the next
    // start, with no arm picked, is refused.
    await page.click('#tab-train');
    await page.uncheck('[data-testid="arm-critical"]');
    await page.uncheck('[data-testid="arm-full"]');
    await page.click('[data-testid="start"]');
    await expect.poll(() => alerts(page), { timeout: 10_000 }).toEqual([['run-error', 'Pick at least one arm to train.']]);
    await h.screenshot(page, 'device-lost-then-other-error');
  }, 120_000);

  it('still offers the resume after a reload, and it trains on from the checkpoint', async () => {
    const { h, page } = shared;
    // Another configuration (10 steps), so its checkpoints are its own.
    const lost = await trainThenLoseDevice(TINY_12.replace('steps=12', 'steps=10'));
    // The run is stored as ended on a lost device once the page has saved it.
    await page.waitForTimeout(500);
    await page.reload();
    await page.click('#tab-compare');
    await page.waitForSelector('[data-testid="device-lost"]', { timeout: 30_000 });
    const shown = await alerts(page);
    expect(shown.map(([id]) => id)).toEqual(['device-lost']);
    expect(shown[0][1]).toMatch(/^The GPU device was lost \(destroyed: Device was destroyed\)\./);
    expect(await stepOf(page, 'full')).toBe(lost.full);
    await h.screenshot(page, 'device-lost-reloaded');
    await resumeToEnd(lost.checkpoint, 10);
    console.log(`[device-lost] after a reload: stopped at ${lost.full}; resumed from the checkpoint at step ${lost.checkpoint}; finished at 10`);
  }, 120_000);
});
