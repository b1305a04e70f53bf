// Proof 6: the same training steps give the same losses in Node (Dawn) and in headless
// Chromium through the comlink engine worker (within 1e-5 relative).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type BrowserHarness } from './harness.ts';
import { EngineHost } from '../../src/engine/engine-host.ts';
import { runFixedScenario } from './pages/engine-scenario.ts';

let h: BrowserHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('engine worker', () => {
  it('trains the fixed scenario to the same losses as Node', async () => {
    const node = await runFixedScenario(new EngineHost());
    const page = await h.newPage();
    await page.goto(`${h.baseUrl}/test/browser/pages/engine-worker.html`);
    await page.waitForFunction(() => {
      const w = window as unknown as { __engineResult?: unknown; __engineError?: string };
      return w.__engineResult !== undefined || w.__engineError !== undefined;
    }, undefined, { timeout: 240_000 });
    const { result, error } = await page.evaluate(() => {
      const w = window as unknown as { __engineResult?: { adapter: string; losses: number[]; evalLoss: number }; __engineError?: string };
      return { result: w.__engineResult, error: w.__engineError };
    });
    expect(error).toBeUndefined();
    console.log(`node (${node.adapter}): ${node.losses.join(', ')} | eval ${node.evalLoss}`);
    console.log(`browser (${result!.adapter}): ${result!.losses.join(', ')} | eval ${result!.evalLoss}`);
    expect(node.losses[2]).toBeLessThan(node.losses[0]); // it trained
    for (let i = 0; i < 3; i++) expect(Math.abs(result!.losses[i] - node.losses[i]) / node.losses[i]).toBeLessThan(1e-5);
    expect(Math.abs(result!.evalLoss - node.evalLoss) / node.evalLoss).toBeLessThan(1e-5);
    await page.close();
  });
});
