// The local judge downloading a hub id, through `atlas select --selector judge --model <hub id>
// --hub <mirror>`, against a mock hub on 127.0.0.1 (mock-hub.ts) that serves the real
// stories260K ONNX folder from ../shared at request time. Like the other Node judge tests it
// runs on transformers.js's default Node runtime (onnxruntime-node's CPU binding, which ships in
// the npm package even with ONNXRUNTIME_NODE_INSTALL=skip).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { command as select } from '../../../src/cli/commands/select.ts';
import { trajectoriesToJsonl, parseTrajectoriesJsonl } from '../../../src/data/jsonl.ts';
import { normalizeHubMirror, DEFAULT_HUB_MIRROR } from '../../../src/select/judge.ts';
import { configFromHash, configToHash, presetConfig } from '../../../src/ui/state/playground-config.ts';
import { startMockHub, downloads, type MockHub } from './mock-hub.ts';
import { makeTrajectory } from './fixtures.ts';

const MODEL_DIR = path.resolve('../shared/models/stories260K/hf');
const haveModel = existsSync(path.join(MODEL_DIR, 'onnx/model.onnx'));
if (!haveModel) console.warn(`judge hub tests skipped: ${MODEL_DIR} is absent`);

const REPO = 'atlas-test/stories260K';

async function capture(argv: string[]) {
  const out: string[] = [];
  let err = '';
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await select.run(argv);
    return { code, out, err, last: () => JSON.parse(out[out.length - 1]) };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('hub mirror setting', () => {
  it('normalises a base URL and refuses anything but a plain http(s) one', () => {
    expect(normalizeHubMirror('https://hf-mirror.com')).toBe('https://hf-mirror.com/');
    expect(normalizeHubMirror(' https://mirror.example.test/hf ')).toBe('https://mirror.example.test/hf/');
    expect(DEFAULT_HUB_MIRROR).toBe('https://huggingface.co');
    expect(() => normalizeHubMirror('hf-mirror.com')).toThrow('hub mirror "hf-mirror.com" is not a URL (expected e.g. https://huggingface.co)');
    expect(() => normalizeHubMirror('ftp://mirror.test/')).toThrow('hub mirror "ftp://mirror.test/" must be an http(s) URL');
    expect(() => normalizeHubMirror('https://user:pw@mirror.test/')).toThrow(/must be a plain base URL/);
    expect(() => normalizeHubMirror('https://mirror.test/?token=abc')).toThrow(/must be a plain base URL/);
  });

  it('travels in the link for the judge (key "hub"), and a bad one is reported, not used', () => {
    const c = presetConfig('quick-demo');
    c.selector = { ...c.selector, kind: 'judge', model: 'onnx-community/Qwen2.5-0.5B-Instruct', hubMirror: 'https://hf-mirror.com' };
    const hash = configToHash(c);
    expect(new URLSearchParams(hash.slice(1)).get('hub')).toBe('https://hf-mirror.com');
    expect(configFromHash(hash)).toEqual({ config: c, problems: [] });
    // Not written for other selectors, nor when unset.
    expect(configToHash({ ...c, selector: { ...c.selector, kind: 'oracle' } })).not.toContain('hub=');
    expect(configToHash({ ...c, selector: { ...c.selector, hubMirror: undefined } })).not.toContain('hub=');
    const bad = configFromHash(hash.replace('hub=https%3A%2F%2Fhf-mirror.com', 'hub=javascript%3Aalert(1)'))!;
    expect(bad.config.selector.hubMirror).toBeUndefined();
    expect(bad.problems).toEqual(['hub=javascript:alert(1): must be an http(s) URL']);
  });
});

describe.skipIf(!haveModel)('atlas select --selector judge --model <hub id> --hub <mirror>', () => {
  let dir: string;
  let hub: MockHub;
  let inFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-judge-hub-'));
    inFile = path.join(dir, 'in.jsonl');
    await writeFile(inFile, trajectoriesToJsonl([makeTrajectory('h1', 5), makeTrajectory('h2', 7, { withMistake: true })]));
    hub = await startMockHub(REPO, MODEL_DIR);
  });
  afterAll(async () => {
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads the model through the mirror, labels like the same model from a folder, then reuses the download', async () => {
    const hubCache = path.join(dir, 'hub-cache');
    const common = ['--in', inFile, '--selector', 'judge', '--max-step-chars', '60', '--no-cache'];
    const first = await capture([...common, '--model', REPO, '--hub', hub.url, '--hub-cache', hubCache, '--out', path.join(dir, 'hub.jsonl')]);
    expect(first.code).toBe(0);
    expect(first.err).toContain(`select: judge model "${REPO}" from ${hub.url}/`);
    expect(first.last()).toMatchObject({ selector: `judge:${REPO}`, total: 2, labelled: 2, failed: [], requests: 5 + 7 });
    // Every file the model needs came from the mock hub, under the hub's path layout.
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) expect(downloads(hub.requests, file), file).toBe(1);
    expect(hub.requests.every((r) => r.path.startsWith(`/${REPO}/resolve/main/`))).toBe(true);
    console.log(`[judge-hub] first run: ${hub.requests.length} requests: ${hub.requests.map((r) => `${r.method} ${r.file} ${r.status}${r.range ? ` (${r.range})` : ''}`).join(', ')}`);
    // The downloads were kept where --hub-cache says.
    const kept = await readdir(path.join(hubCache, REPO), { recursive: true });
    expect(kept).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', path.join('onnx', 'model.onnx')]));

    // The same model from a folder gives the same labels: the mirror served the real files.
    const fromFolder = await capture([...common, '--model', MODEL_DIR, '--out', path.join(dir, 'folder.jsonl')]);
    const label = async (f: string) => parseTrajectoriesJsonl(await readFile(path.join(dir, f), 'utf8')).trajectories.map((t) => t.selections[0].critical);
    expect(fromFolder.code).toBe(0);
    expect(await label('hub.jsonl')).toEqual(await label('folder.jsonl'));

    // A second run reads the kept files: no whole file is downloaded again.
    const before = hub.requests.length;
    const second = await capture([...common, '--model', REPO, '--hub', hub.url, '--hub-cache', hubCache, '--out', path.join(dir, 'hub2.jsonl')]);
    expect(second.last()).toMatchObject({ labelled: 2, failed: [] });
    const again = hub.requests.slice(before);
    console.log(`[judge-hub] second run: ${again.length} requests: ${again.map((r) => `${r.method} ${r.file} ${r.status}`).join(', ')}`);
    expect(again.filter((r) => r.status === 200)).toEqual([]);
    expect(await label('hub2.jsonl')).toEqual(await label('hub.jsonl'));
  }, 60_000);

  it('names the hub id and the mirror when the mirror has no such model, or is down', async () => {
    const argv = (model: string, url: string) => ['--in', inFile, '--selector', 'judge', '--model', model, '--hub', url, '--hub-cache', path.join(dir, 'cache-errors'), '--no-cache', '--out', path.join(dir, 'x.jsonl')];
    await expect(capture(argv('atlas-test/no-such-model', hub.url))).rejects.toThrow(
      `cannot load the judge model from hub id "atlas-test/no-such-model" through the hub mirror ${hub.url}/: Could not locate file: "${hub.url}/atlas-test/no-such-model/resolve/main/`,
    );
    const down = await startMockHub(REPO, MODEL_DIR);
    await down.close();
    await expect(capture(argv(REPO, down.url))).rejects.toThrow(
      new RegExp(`^cannot load the judge model from hub id "${REPO}" through the hub mirror ${down.url.replace(/\./g, '\\.')}/: could not connect: fetch failed \\(ECONNREFUSED\\)`),
    );
    expect(down.requests).toEqual([]);
  }, 30_000);

  it('refuses --hub with a local folder, and a malformed --hub', async () => {
    const base = ['--in', inFile, '--selector', 'judge', '--no-cache', '--out', path.join(dir, 'y.jsonl')];
    await expect(select.run([...base, '--model', MODEL_DIR, '--hub', hub.url])).rejects.toThrow(`--hub is for hub ids; --model "${MODEL_DIR}" is a local folder`);
    await expect(select.run([...base, '--model', REPO, '--hub', 'hf-mirror.com'])).rejects.toThrow('hub mirror "hf-mirror.com" is not a URL');
    await expect(select.run([...base, '--model', REPO])).rejects.toThrow(`--model "${REPO}" is not a folder; pass --allow-remote to download it from the Hugging Face hub (or --hub URL for a mirror)`);
  });
});
