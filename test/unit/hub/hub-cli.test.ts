// `--model hf:ORG/NAME` in the CLI, against a mock hub on 127.0.0.1 serving tiny random
// models made here: the download (file list, config first, progress, size and memory plan
// before the weights), a cache hit that makes no request, a download cut in the middle and
// resumed with a Range request (in the same run, and by running again), sharded Qwen2
// weights, and the refusals: an architecture the engine does not run (naming the field,
// before any weight byte), a missing tokenizer.json, a 404 (naming the file and the URL), an
// unknown id, a bad id, --hub-mirror where no hub model is read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveHubModelArgs, type HubArgsOptions } from '../../../src/cli/hub-model.ts';
import { WEBGPU_DEFAULT_LIMITS } from '../../../src/engine/memory-plan.ts';
import { loadModelFromPath } from '../../../src/engine/weights/load-node.ts';
import { initParams } from '../../../src/engine/model.ts';
import { hubFileUrl, parseHubRef } from '../../../src/hub/hub-id.ts';
import { startMockHubServer, type MockHubServer } from './mock-hub-server.ts';
import { TINY_LLAMA, TINY_QWEN2, tinyHubModel, tinyShardedHubModel } from './tiny-hub-model.ts';

const LLAMA = 'atlas-test/tiny-llama';
const QWEN = 'atlas-test/tiny-qwen2';
const llamaFiles = tinyHubModel(TINY_LLAMA);
const gelu = tinyHubModel(TINY_LLAMA);
gelu.set('config.json', new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(gelu.get('config.json'))), hidden_act: 'gelu' })));
const noTokenizer = tinyHubModel(TINY_LLAMA);
noTokenizer.delete('tokenizer.json');
noTokenizer.set('tokenizer.model', new Uint8Array(10));

let hub: MockHubServer;
let cache: string;

beforeAll(async () => {
  hub = await startMockHubServer([
    { id: LLAMA, files: llamaFiles },
    { id: LLAMA, revision: 'v1', files: tinyHubModel(TINY_LLAMA, 8) },
    { id: QWEN, files: tinyShardedHubModel(TINY_QWEN2) },
    { id: 'atlas-test/gelu', files: gelu },
    { id: 'atlas-test/sentencepiece', files: noTokenizer },
    { id: 'atlas-test/half-mirrored', files: tinyHubModel(TINY_LLAMA), unserved: ['model.safetensors'] },
  ]);
  cache = mkdtempSync(path.join(os.tmpdir(), 'atlas-hub-'));
});

afterAll(async () => {
  await hub?.close();
  rmSync(cache, { recursive: true, force: true });
});

/** resolveHubModelArgs with the mock as the mirror and a fresh cache subfolder; stderr captured. */
function cli(sub: string, extra: Partial<HubArgsOptions> = {}) {
  const lines: string[] = [];
  const opts: HubArgsOptions = {
    env: { ATLAS_HUB_CACHE: path.join(cache, sub), HF_ENDPOINT: hub.url },
    stderr: { write: (t: string) => lines.push(t) },
    limits: async () => WEBGPU_DEFAULT_LIMITS,
    retryDelayMs: () => 1,
    ...extra,
  };
  return { stderr: () => lines.join(''), run: (command: string, argv: string[]) => resolveHubModelArgs(command, argv, opts) };
}

const sameBytes = (file: string, bytes: Uint8Array) => expect(Buffer.compare(readFileSync(file), Buffer.from(bytes))).toBe(0);
const since = (n: number) => hub.requests.slice(n);

describe('atlas --model hf:ORG/NAME', () => {
  it('downloads a model into the cache (config first; size, memory plan and progress on stderr) and the folder loads', async () => {
    const c = cli('a');
    const n = hub.requests.length;
    const argv = await c.run('generate', ['--model', `hf:${LLAMA}`, '--max-new-tokens', '3']);
    const dir = path.join(cache, 'a', 'atlas-test', 'tiny-llama', 'main');
    expect(argv).toEqual(['--model', dir, '--max-new-tokens', '3']);
    for (const [name, bytes] of llamaFiles) sameBytes(path.join(dir, name), bytes);
    expect(since(n).map((r) => `${r.method} ${r.file ?? r.path} ${r.status}`)).toEqual([
      `GET /api/models/${LLAMA}/tree/main 200`,
      'GET config.json 200', 'GET tokenizer.json 200', 'GET tokenizer_config.json 200', 'GET generation_config.json 200',
      'GET model.safetensors 200',
    ]);
    const err = c.stderr();
    const weights = llamaFiles.get('model.safetensors')!.length;
    expect(err).toMatch(new RegExp(`^${LLAMA}: [\\d.]+ kB in all \\(model.safetensors ${(weights / 1e3).toFixed(1)} kB; 4 small files`));
    expect(err).toContain(`from ${hub.url} into ${dir}`);
    expect(err).toContain('llama · 2 layers · d_model 32 · 4 heads (2 KV) · vocab 1024 · context 128');
    expect(err).toMatch(/memory plan: batch 1 × 128 tokens, full training/);
    expect(err).toMatch(/\n {4}fits\n/);
    // The plan is printed before the first weight byte arrives, the progress line after.
    expect(err.indexOf('memory plan')).toBeLessThan(err.indexOf(`${LLAMA}: model.safetensors 0 B`));
    expect(err).toMatch(/tiny-llama: model.safetensors [\d.]+ kB \/ [\d.]+ kB \(100 %\)/);
    expect(err).toContain(`hf:${LLAMA}: ready in ${dir}`);
    expect(readdirNoParts(dir)).toBe(true);
    const m = await loadModelFromPath(dir);
    expect(m.config).toMatchObject({ vocabSize: 1024, nLayers: 2, nKvHeads: 2, tiedEmbeddings: false });
    expect(m.tensors.get('model.embed_tokens.weight')).toEqual(initParams(TINY_LLAMA, 7).get('model.embed_tokens.weight'));
    expect(m.stopTokens).toEqual([2]);
  });

  it('a second run finds it in the cache and makes no request', async () => {
    const c = cli('a');
    const n = hub.requests.length;
    const argv = await c.run('train', [`--model=hf:${LLAMA}`, '--data', 'x.jsonl', '--steps', '1']);
    expect(argv[0]).toBe(`--model=${path.join(cache, 'a', 'atlas-test', 'tiny-llama', 'main')}`);
    expect(since(n)).toEqual([]);
    expect(c.stderr()).toBe(`hf:${LLAMA}: cached in ${path.join(cache, 'a', 'atlas-test', 'tiny-llama', 'main')}\n`);
  });

  it('a revision is its own folder, from its own URLs', async () => {
    const n = hub.requests.length;
    const argv = await cli('a').run('eval', ['--model', `hf:${LLAMA}@v1`]);
    expect(argv[1]).toBe(path.join(cache, 'a', 'atlas-test', 'tiny-llama', 'v1'));
    expect(since(n).map((r) => r.path)).toContain(`/${LLAMA}/resolve/v1/model.safetensors`);
  });

  it('resumes a download cut in the middle: the next run asks for the rest with a Range request', async () => {
    const c = cli('resume', { retries: 0 });
    const weights = llamaFiles.get('model.safetensors')!;
    const cut = 100_000;
    hub.dropAfter('model.safetensors', cut);
    const dir = path.join(cache, 'resume', 'atlas-test', 'tiny-llama', 'main');
    await expect(c.run('generate', ['--model', `hf:${LLAMA}`])).rejects.toThrow(
      `model.safetensors: download from ${hub.url}/${LLAMA}/resolve/main/model.safetensors stopped after ${cut} of ${weights.length} bytes (kept in ${dir}; running it again resumes there)`,
    );
    expect(statSync(path.join(dir, 'model.safetensors.part')).size).toBe(cut);
    expect(existsSync(path.join(dir, 'model.safetensors'))).toBe(false);
    const n = hub.requests.length;
    await c.run('generate', ['--model', `hf:${LLAMA}`]);
    // No new file list (kept), no small file again: the rest of the weights only.
    expect(since(n).map((r) => [r.file, r.range, r.status])).toEqual([['model.safetensors', `bytes=${cut}-`, 206]]);
    sameBytes(path.join(dir, 'model.safetensors'), weights);
    expect(c.stderr()).toMatch(/model.safetensors [\d.]+ kB \/ [\d.]+ kB \(100 %\)/);
  });

  it('within one run, a dropped connection is retried from where it stopped', async () => {
    hub.dropAfter('model.safetensors', 50_000);
    const n = hub.requests.length;
    const argv = await cli('retry').run('generate', ['--model', `hf:${LLAMA}`]);
    const weights = since(n).filter((r) => r.file === 'model.safetensors');
    expect(weights.map((r) => [r.range, r.status])).toEqual([[undefined, 200], ['bytes=50000-', 206]]);
    sameBytes(path.join(argv[1], 'model.safetensors'), llamaFiles.get('model.safetensors')!);
  });

  it('downloads sharded Qwen2 weights (index + shards) that load with their q/k/v biases', async () => {
    const c = cli('qwen', { env: { ATLAS_HUB_CACHE: path.join(cache, 'qwen') } });
    const argv = await c.run('score', ['--model', `hf:${QWEN}`, '--hub-mirror', hub.url + '/']);
    expect(readdirNoParts(argv[1])).toBe(true);
    expect(c.stderr()).toMatch(/2 shards [\d.]+ kB; 5 small files/);
    expect(c.stderr()).toContain('qwen2 · 2 layers');
    const m = await loadModelFromPath(argv[1]);
    expect(m.config).toMatchObject({ qkvBias: true, tiedEmbeddings: true, ropeTheta: 1e6 });
    expect(m.tensors.get('model.layers.1.self_attn.k_proj.bias')).toEqual(initParams(TINY_QWEN2, 7).get('model.layers.1.self_attn.k_proj.bias'));
  });

  it('reads only the config and tokenizer where the command needs no weights', async () => {
    const n = hub.requests.length;
    const argv = await cli('files').run('export', ['data.jsonl', '--format', 'tokenized', '--model', `hf:${LLAMA}`, '--out', 'x']);
    expect(since(n).map((r) => r.file).filter(Boolean)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']);
    expect(existsSync(path.join(argv[4], 'tokenizer.json'))).toBe(true);
    // A trainer recipe writes the hub id into its config: left as given.
    expect(await cli('files').run('export', ['d.jsonl', '--format', 'axolotl', '--model', `hf:${LLAMA}`])).toEqual(['d.jsonl', '--format', 'axolotl', '--model', `hf:${LLAMA}`]);
  });

  it('refuses an architecture the engine does not run before any weight byte, naming the field', async () => {
    const n = hub.requests.length;
    await expect(cli('gelu').run('train', ['--model', 'hf:atlas-test/gelu'])).rejects.toThrow('atlas-test/gelu/config.json: Unsupported model config: hidden_act "gelu" (only silu) — the weights were not downloaded');
    expect(since(n).map((r) => r.file).filter(Boolean)).toEqual(['config.json']);
  });

  it('refuses a repository without tokenizer.json, naming the file and its URL', async () => {
    await expect(cli('sp').run('generate', ['--model', 'hf:atlas-test/sentencepiece'])).rejects.toThrow(
      `atlas-test/sentencepiece at ${hub.url}/: no tokenizer.json in the repository (it has only tokenizer.model, a SentencePiece file; the playground reads tokenizer.json) — ${hub.url}/atlas-test/sentencepiece/resolve/main/tokenizer.json`,
    );
  });

  it('a 404 names the file and the URL; an unknown id names the id, the revision and the URL', async () => {
    const c = cli('404', { retries: 0 });
    await expect(c.run('generate', ['--model', 'hf:atlas-test/half-mirrored'])).rejects.toThrow(
      `model.safetensors: not found (GET ${hub.url}/atlas-test/half-mirrored/resolve/main/model.safetensors → HTTP 404)`,
    );
    await expect(c.run('generate', ['--model', 'hf:atlas-test/nothing@dev'])).rejects.toThrow(
      `atlas-test/nothing@dev: no model "atlas-test/nothing" with revision "dev" at this mirror (GET ${hub.url}/api/models/atlas-test/nothing/tree/dev → HTTP 404)`,
    );
  });

  it('refuses a bad id, and --hub-mirror where no hub model is read', async () => {
    await expect(cli('x').run('generate', ['--model', 'hf:just-a-name'])).rejects.toThrow('--model hf:just-a-name "hf:just-a-name": expected ORG/NAME or ORG/NAME@REVISION');
    await expect(cli('x').run('generate', ['--model', 'hf:org/../x'])).rejects.toThrow(/expected ORG\/NAME/);
    await expect(cli('x').run('generate', ['--model', 'hf:org/na..me'])).rejects.toThrow(/"na\.\.me" is not a hub name/);
    await expect(cli('x').run('generate', ['--model', 'preset:base', '--hub-mirror', hub.url])).rejects.toThrow('--hub-mirror applies to --model hf:ORG/NAME');
    await expect(cli('x').run('select', ['--selector', 'judge', '--model', 'a/b', '--hub-mirror', hub.url])).rejects.toThrow("the judge's mirror option is --hub");
    await expect(cli('x').run('generate', ['--model', `hf:${LLAMA}`, '--hub-mirror', 'ftp://x'])).rejects.toThrow('hub mirror "ftp://x" must be an http(s) URL');
  });
});

describe('hub ids and URLs', () => {
  it('reads ORG/NAME[@REV] with or without hf:, and encodes the revision in URLs', () => {
    expect(parseHubRef('hf:Qwen/Qwen2.5-0.5B-Instruct')).toEqual({ id: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'main' });
    expect(parseHubRef('HuggingFaceTB/SmolLM2-135M-Instruct@refs/pr/3')).toEqual({ id: 'HuggingFaceTB/SmolLM2-135M-Instruct', revision: 'refs/pr/3' });
    expect(hubFileUrl('https://hf-mirror.com', parseHubRef('a/b@refs/pr/3'), 'model.safetensors')).toBe('https://hf-mirror.com/a/b/resolve/refs%2Fpr%2F3/model.safetensors');
  });
});

function readdirNoParts(dir: string): boolean {
  return !readdirSync(dir).some((f) => f.endsWith('.part'));
}
