// `atlas generate --model hf:ORG/NAME` end to end, as a user runs it (the CLI in a child
// process): the model comes from a mock hub on 127.0.0.1 (HF_ENDPOINT) into a temporary hub
// cache (ATLAS_HUB_CACHE), with the size, the memory plan and progress on stderr, and generates
// exactly what the same weights give from a folder on disk; the second run reads the cache and
// makes no request, even with an unreachable --hub-mirror.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startMockHubServer, type MockHubServer } from '../../unit/hub/mock-hub-server.ts';
import { TINY_LLAMA, tinyHubModel } from '../../unit/hub/tiny-hub-model.ts';

const run = promisify(execFile);
const REPO = 'atlas-test/tiny-llama';
const files = tinyHubModel(TINY_LLAMA);

describe('atlas --model hf:ORG/NAME (mock hub)', () => {
  let hub: MockHubServer;
  let tmp: string;
  const atlas = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, [path.resolve('bin/atlas.mjs'), ...args], { cwd: path.resolve('.'), env: { ...process.env, ...env }, maxBuffer: 1 << 20 });

  beforeAll(async () => {
    hub = await startMockHubServer([{ id: REPO, files }]);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'atlas-hub-gpu-'));
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('downloads, then generates what the same folder on disk generates; the second run uses the cache', async () => {
    const env = { ATLAS_HUB_CACHE: path.join(tmp, 'cache'), HF_ENDPOINT: hub.url };
    const args = ['generate', '--prompt', 'The cat', '--max-new-tokens', '6'];
    const first = await atlas(env, ...args, '--model', `hf:${REPO}`);
    const dir = path.join(tmp, 'cache', 'atlas-test', 'tiny-llama', 'main');
    expect(first.stderr).toMatch(new RegExp(`${REPO}: [\\d.]+ kB in all \\(model.safetensors [\\d.]+ kB; 4 small files`));
    expect(first.stderr).toMatch(/memory plan: batch 1 × 128 tokens, full training/);
    expect(first.stderr).toMatch(/tiny-llama: model.safetensors [\d.]+ kB \/ [\d.]+ kB \(100 %\)/);
    expect(first.stderr).toContain(`hf:${REPO}: ready in ${dir}`);

    const local = path.join(tmp, 'local');
    mkdirSync(local);
    for (const [name, bytes] of files) writeFileSync(path.join(local, name), bytes);
    const fromDisk = await atlas({}, ...args, '--model', local);
    expect(first.stdout).toBe(fromDisk.stdout);
    expect(first.stdout.trim().length).toBeGreaterThan(0);

    const n = hub.requests.length;
    const second = await atlas(env, ...args, '--model', `hf:${REPO}`, '--hub-mirror', 'http://127.0.0.1:9');
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain(`hf:${REPO}: cached in ${dir}`);
    expect(hub.requests.length).toBe(n);
  });
});
