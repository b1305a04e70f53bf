// The memory plan in the Train step, before anything is allocated: every number the page shows
// is the engine's (src/engine/memory-plan.ts memoryPlan, computed here in Node for the same
// options: the runner's batch, context, LoRA, accumulation slots, evaluation readback and
// generator size, and the page's own adapter limits); the "all runs" column counts shared
// buffers once and the rest per run (arms × seeds); LoRA's target check boxes change the plan
// and the link; an impossible batch × context shows the plan's refusal and disables Start.
import { describe, it, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { openTrainStep } from './harness.ts';
import { sharedPage } from './shared-page.ts';
import { getPreset } from '../../models/presets.ts';
import { memoryPlan, PLAN_CATEGORIES, type MemoryPlanOptions, type PlanLimits } from '../../src/engine/memory-plan.ts';
import { fmtBytes } from '../../src/engine/gpu/resources.ts';
import type { LoraTarget } from '../../src/engine/lora.ts';

// lora.test.ts's settings, with 4 next-action queries (a generator), two accumulation slots,
// two seeds and LoRA on three projections.
const LINK = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:grid:3/1:s1:m0.15&labels=heuristic&steps=3&batch=1&seq=512&lr=0.01&warmup=0&evalEvery=3&rolloutEvery=0&rolloutEpisodes=0&nextAction=4&turnTokens=16&time=none&lora=4&loraAlpha=8&accum=2&seeds=2&loraTargets=q,v,down';
const tiny = getPreset('tiny').config;

/** The adapter's limits as the page's GPU state reads them (the high-performance adapter). */
const pageLimits = (page: Page) =>
  page.evaluate(async () => {
    const a = await (navigator as Navigator & { gpu: GPU }).gpu.requestAdapter({ powerPreference: 'high-performance' });
    return { maxStorageBufferBindingSize: a!.limits.maxStorageBufferBindingSize, maxBufferSize: a!.limits.maxBufferSize } satisfies PlanLimits;
  });

/** [bytes of one run, bytes of all runs] per row of the plan's table. */
const planCells = (page: Page) =>
  page.locator('[data-testid="memory-plan"] tbody tr').evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [r.getAttribute('data-testid')!.replace('plan-', ''), [...r.querySelectorAll('td')].map((td) => ({ bytes: Number(td.getAttribute('data-bytes')), text: td.textContent ?? '' }))])),
  );

/** Opens `link` on the Train step once the plan is checked against the adapter's limits. */
async function openPlan(page: Page, url: string): Promise<void> {
  await openTrainStep(page, url);
  await page.waitForSelector('[data-testid="memory-plan"] >> text=This adapter’s limits', { timeout: 30_000 });
}

describe('the memory plan before Start', () => {
  const shared = sharedPage();

  it('shows the engine’s plan for the run’s sizes against this adapter’s limits; LoRA targets change it', async () => {
    const { h, page } = shared;
    await openPlan(page, h.baseUrl + '/?plan' + LINK);
    const limits = await pageLimits(page);
    const expected = (targets: LoraTarget[]) => {
      // the runner's sizes: batch × seq, 2 accumulation slots, the evaluation readback, a
      // generator for max(batch, rollout rows, next-action queries) = 4 rows, capped at 16
      const opts: MemoryPlanOptions = { batch: 1, seq: 512, lora: { rank: 4, alpha: 8, targets }, limits, accumSteps: 2, eval: true, generation: { maxBatch: 4, maxSeq: 512 } };
      return memoryPlan(tiny, opts);
    };
    const check = async (targets: LoraTarget[]) => {
      const plan = expected(targets);
      expect(plan.fits).toBe(true);
      const cells = await planCells(page);
      for (const c of PLAN_CATEGORIES) {
        const [one, all] = cells[c];
        expect(one.bytes, c).toBe(plan.totals[c]);
        expect(one.text, c).toBe(fmtBytes(plan.totals[c]));
        // 2 arms × 2 seeds: the frozen base and the workspace once, the rest per run
        const shared = ['weights', 'activations', 'logits'].includes(c);
        expect(all.bytes, c).toBe(plan.totals[c] * (shared ? 1 : 4));
      }
      expect(cells.total[0].bytes).toBe(plan.total);
      expect(plan.totals.adapter).toBeGreaterThan(0);
      expect(plan.totals.kvCache).toBeGreaterThan(0);
      const largest = (await page.textContent('[data-testid="plan-largest"]')) ?? '';
      expect(largest).toContain(`Largest buffer “${plan.largest.label}” (${plan.largest.what}): ${fmtBytes(plan.largest.bytes)}`);
      expect(largest).toContain(`maxStorageBufferBindingSize ${fmtBytes(limits.maxStorageBufferBindingSize)}, maxBufferSize ${fmtBytes(limits.maxBufferSize)}`);
    };

    // the link's targets: three boxes ticked, the plan for q, v, down
    for (const t of ['q', 'v', 'down']) expect(await page.isChecked(`[data-testid="lora-target-${t}"]`), t).toBe(true);
    for (const t of ['k', 'o', 'gate', 'up']) expect(await page.isChecked(`[data-testid="lora-target-${t}"]`), t).toBe(false);
    const summary = ((await page.textContent('[data-testid="plan-summary"]')) ?? '').replace(/\s+/g, ' ');
    expect(summary).toMatch(/batch 1 × 512 tokens; LoRA rank 4 \(alpha 8\) on q, v, down \(\d+ trainable, [\d,]+ frozen parameters\); stored attention; every layer’s activations kept; 4 runs \(arms × training seeds\)/);
    await check(['q', 'v', 'down']);
    expect(await page.isVisible('[data-testid="plan-fits"]')).toBe(true);
    expect(await page.isEnabled('[data-testid="start"]')).toBe(true);

    // one more target: the plan and the link follow
    await page.click('[data-testid="lora-target-k"]');
    await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash)), { timeout: 10_000 }).toContain('loraTargets=q,k,v,down');
    await check(['q', 'k', 'v', 'down']);
    await h.screenshot(page, 'memory-plan');
  }, 120_000);

  it('an impossible batch × context: the plan’s refusal names the largest buffer and what fits, and Start is disabled with it', async () => {
    const { h, page } = shared;
    await openPlan(page, h.baseUrl + '/?plan-refused' + LINK.replace('batch=1&', 'batch=100000&'));
    const limits = await pageLimits(page);
    const plan = memoryPlan(tiny, { batch: 100_000, seq: 512, lora: { rank: 4, alpha: 8, targets: ['q', 'v', 'down'] }, limits, accumSteps: 2, eval: true, generation: { maxBatch: 16, maxSeq: 512 } });
    expect(plan.fits).toBe(false);
    // the engine's refusal: the largest buffer over a limit, and what would make it fit
    expect(plan.message).toMatch(/^Model does not fit this GPU: .* needs [\d.]+ GiB.*It would fit with .*batch ≤ \d+/);
    expect((await page.textContent('[data-testid="plan-refusal"]'))?.trim()).toBe(plan.message);
    expect(await page.isDisabled('[data-testid="start"]')).toBe(true);
    expect((await page.textContent('[data-testid="start-refused"]'))?.trim()).toBe(`Start is disabled: ${plan.message}`);
    await h.screenshot(page, 'memory-plan-refused');

    // back to a batch that fits: Start is enabled again
    await openPlan(page, h.baseUrl + '/?plan-fits' + LINK);
    await page.waitForSelector('[data-testid="start"]:enabled', { timeout: 30_000 });
    expect(await page.isVisible('[data-testid="start-refused"]')).toBe(false);
  }, 120_000);
});
