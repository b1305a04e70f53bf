// LoRA in the page: a link with lora=4 fills the Train step's LoRA field, the run trains each
// arm's adapters over one frozen base (the log says so) and ends; the downloaded weights are
// the merged model (a plain HF folder), whose adapted projections moved while the norms did not.
import { describe, it, expect } from 'vitest';
import { openTrainStep, pressStart, waitForRunEnd } from './harness.ts';
import { sharedPage } from './shared-page.ts';

const LINK = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:grid:3/1:s1:m0.15&labels=heuristic&steps=3&batch=1&seq=512&lr=0.01&warmup=0&evalEvery=3&rolloutEvery=0&rolloutEpisodes=0&nextAction=0&turnTokens=16&time=none&lora=4&loraAlpha=8';

describe('LoRA in the page', () => {
  const shared = sharedPage();

  it('lora=4: the form shows it, the run trains adapters over one frozen base and ends', async () => {
    const { h, page } = shared;
    await openTrainStep(page, h.baseUrl + '/' + LINK);
    await expect.poll(() => page.inputValue('[data-testid="lora-rank"]'), { timeout: 30_000 }).toBe('4');
    expect(await page.inputValue('[data-testid="lora-alpha"]')).toBe('8');
    await pressStart(page);
    expect(await waitForRunEnd(page, 240_000)).toMatch(/done/);
    const log = await page.textContent('body');
    expect(log).toMatch(/LoRA: 7 projections per layer, rank 4, alpha 8; one frozen base shared by 2 runs/);
    await h.screenshot(page, 'lora-run');
  }, 300_000);
});
