import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { command as select } from '../../../src/cli/commands/select.ts';
import { command as score } from '../../../src/cli/commands/score.ts';
import { startMockOpenAI, type MockServer } from './mock-openai.ts';
import { makeTrajectory } from './fixtures.ts';
import { trajectoriesToJsonl, parseTrajectoriesJsonl } from '../../../src/data/jsonl.ts';

const KEY = 'sk-cli-SECRET-91b7e0';
let dir: string;
let server: MockServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-select-cli-'));
  const ts = Array.from({ length: 6 }, (_, i) => makeTrajectory(`cli${i}`, 6 + i, { withMistake: i % 2 === 0 }));
  await writeFile(path.join(dir, 'in.jsonl'), trajectoriesToJsonl(ts));
  return () => rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.restoreAllMocks();
  delete process.env.ATLAS_TEST_KEY;
});

/** Runs a command, capturing stdout lines and stderr text. */
async function capture(cmd: typeof select, argv: string[]) {
  const out: string[] = [];
  let err = '';
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const code = await cmd.run(argv);
  vi.restoreAllMocks();
  return { code, out, err, last: () => JSON.parse(out[out.length - 1]) };
}

describe('atlas select / score', () => {
  it('oracle: labels through the endpoint with the key from --api-key-env; the key is nowhere in output, file or cache', async () => {
    server = await startMockOpenAI(() => ({ kind: 'good' }));
    process.env.ATLAS_TEST_KEY = KEY;
    const outFile = path.join(dir, 'oracle.jsonl');
    const cacheDir = path.join(dir, 'cache');
    const argv = ['--in', path.join(dir, 'in.jsonl'), '--selector', 'oracle', '--base-url', server.baseUrl, '--model', 'mock-1', '--api-key-env', 'ATLAS_TEST_KEY', '--budget', '0.3', '--concurrency', '2', '--cache-dir', cacheDir, '--out', outFile];
    const r = await capture(select, argv);
    expect(r.code).toBe(0);
    expect(r.last()).toMatchObject({ selector: 'oracle:mock-1', total: 6, labelled: 6, failed: [], requests: 6, cacheHits: 0, out: outFile });
    expect(server.requests.every((q) => q.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    const labelled = parseTrajectoriesJsonl(await readFile(outFile, 'utf8'), outFile).trajectories;
    expect(labelled.map((t) => t.selections[0].status)).toEqual(Array(6).fill('labelled'));
    const again = await capture(select, argv);
    expect(again.last()).toMatchObject({ labelled: 6, requests: 0, cacheHits: 6 });
    const cacheText = (await Promise.all((await readdir(cacheDir)).map((f) => readFile(path.join(cacheDir, f), 'utf8')))).join('');
    for (const text of [r.out.join('\n'), r.err, again.out.join('\n'), await readFile(outFile, 'utf8'), cacheText]) expect(text).not.toContain(KEY);
  });

  it('oracle --dry-run prints the prompt and the estimate, sends nothing and writes nothing', async () => {
    server = await startMockOpenAI(() => ({ kind: 'good' }));
    const outFile = path.join(dir, 'dry.jsonl');
    const r = await capture(select, ['--in', path.join(dir, 'in.jsonl'), '--selector', 'oracle', '--base-url', server.baseUrl, '--model', 'm', '--dry-run', '--no-cache', '--out', outFile]);
    expect(r.code).toBe(0);
    expect(server.requests).toHaveLength(0);
    expect(existsSync(outFile)).toBe(false);
    expect(r.out[0]).toMatch(/^--- prompt for "cli0" \(\d+ tokens, estimated\) ---$/);
    expect(r.out.join('\n')).toContain('Choose at most 1 of the 6 steps');
    expect(r.last()).toMatchObject({ dryRun: true, trajectories: 6, toSend: 6, cached: 0 });
    expect(r.last().promptTokens).toBeGreaterThan(6 * 300);
  });

  it('heuristic then score against ground truth and between selectors', async () => {
    const heur = path.join(dir, 'heur.jsonl');
    const rnd = path.join(dir, 'rnd.jsonl');
    expect((await capture(select, ['--in', path.join(dir, 'in.jsonl'), '--selector', 'heuristic', '--out', heur])).code).toBe(0);
    expect((await capture(select, ['--in', heur, '--selector', 'random', '--seed', '5', '--out', rnd])).last()).toMatchObject({ selector: 'random', labelled: 6 });
    const gt = await capture(score, ['--in', heur, '--ground-truth']);
    expect(gt.out[0]).toBe('ground truth: 6 trajectories, 51 steps');
    expect(gt.out.some((l) => l.startsWith('  critical (any)'))).toBe(true);
    const report = gt.last().groundTruth;
    expect(report.overall.precision).toBe(1); // every heuristic pick is a true critical step of the fixture
    const ag = await capture(score, ['--in', rnd, '--selector', 'heuristic', '--against-selector', 'random']);
    expect(ag.last().agreement).toMatchObject({ trajectories: 6, steps: 51 });
    const files = await capture(score, ['--in', heur, '--against', rnd, '--against-selector', 'random']);
    expect(files.last().agreement.kappa).toBeCloseTo(ag.last().agreement.kappa, 12);
  });

  it('highest-loss refuses to run without a loss source; takes --step-loss; a missing --model path is named', async () => {
    const base = ['--in', path.join(dir, 'in.jsonl'), '--selector', 'highest-loss', '--out', path.join(dir, 'hl.jsonl')];
    await expect(select.run(base)).rejects.toThrow('highest-loss needs the base model per-step loss: pass --step-loss <file.jsonl> or --model <base model>');
    await expect(select.run([...base, '--model', 'some/model'])).rejects.toThrow(/model path some\/model does not exist/);
    const lossFile = path.join(dir, 'loss.jsonl');
    await writeFile(lossFile, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `cli${i}`, stepLoss: Array.from({ length: 6 + i }, (_, j) => (j === 2 ? 9 : j / 10)) })).join('\n'));
    const r = await capture(select, [...base, '--step-loss', lossFile]);
    expect(r.last()).toMatchObject({ selector: 'highest-loss', labelled: 6 });
    const out = parseTrajectoriesJsonl(await readFile(path.join(dir, 'hl.jsonl'), 'utf8')).trajectories;
    expect(out[0].selections[0].critical.map((c) => c.step)).toEqual([2]);
  });

  it('rejects bad options with clear messages', async () => {
    const inFile = path.join(dir, 'in.jsonl');
    await expect(select.run(['--in', inFile, '--selector', 'magic', '--out', 'x'])).rejects.toThrow('--selector must be one of heuristic, oracle, judge, ground-truth, random, rejected, highest-loss, full (got "magic")');
    await expect(select.run(['--in', inFile, '--selector', 'random', '--budget', '1.5', '--out', 'x'])).rejects.toThrow('--budget must be in (0, 1] (got 1.5)');
    await expect(select.run(['--in', inFile, '--selector', 'oracle', '--out', 'x'])).rejects.toThrow('missing required option --base-url');
    await expect(select.run(['--in', inFile, '--selector', 'oracle', '--base-url', 'http://x/v1', '--model', 'm', '--api-key', KEY, '--out', 'x'])).rejects.toThrow(/unknown option --api-key/);
    await expect(select.run(['--in', path.join(dir, 'nope.jsonl'), '--selector', 'random', '--out', 'x'])).rejects.toThrow(/cannot read --in .*nope.jsonl/);
  });
});

const MODELS = path.resolve('../shared/models/stories260K/hf');
const haveModel = existsSync(path.join(MODELS, 'onnx/model.onnx'));
if (!haveModel) console.warn(`judge CLI test skipped: ${MODELS} is absent`);

describe.skipIf(!haveModel)('atlas select --selector judge', () => {
  it('scores every step with the local folder model, offline', async () => {
    const inFile = path.join(dir, 'judge-in.jsonl');
    await writeFile(inFile, trajectoriesToJsonl([makeTrajectory('j1', 5), makeTrajectory('j2', 7)]));
    const outFile = path.join(dir, 'judge.jsonl');
    const r = await capture(select, ['--in', inFile, '--selector', 'judge', '--model', MODELS, '--max-step-chars', '60', '--no-cache', '--out', outFile]);
    expect(r.last()).toMatchObject({ selector: 'judge:hf', labelled: 2, failed: [], requests: 5 + 7 });
    const out = parseTrajectoriesJsonl(await readFile(outFile, 'utf8')).trajectories;
    expect(out.map((t) => t.selections[0].critical.length)).toEqual([1, 2]);
    expect(out[1].selections[0].critical[0].reason).toMatch(/^P\(yes\) = 0\.\d{4}$/);
  }, 60_000);
});
