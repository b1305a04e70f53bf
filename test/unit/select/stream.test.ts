// Selection as a stream (selectInOrder), the file cache's on-disk index, and the resumable
// output of `atlas select` (src/cli/select-resume.ts). The whole path killed with SIGKILL is
// select-scale.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectInOrder, runSelection, type ResumeState } from '../../../src/select/run.ts';
import type { ModelSelector } from '../../../src/select/selector.ts';
import type { Selection, Trajectory } from '../../../src/data/trajectory.ts';
import { FileCacheStore, slotOf } from '../../../src/select/cache-node.ts';
import type { CachedSelection } from '../../../src/select/cache.ts';
import { findResume, readTrajectoryFile, resumeFiles, type SelectJob } from '../../../src/cli/select-resume.ts';
import { command as select, formatDuration, progressLine } from '../../../src/cli/commands/select.ts';
import { trajectoriesToJsonl, parseTrajectoriesJsonl } from '../../../src/data/jsonl.ts';
import { Rng } from '../../../src/data/rng.ts';
import { makeTrajectory } from './fixtures.ts';
import { startMockOpenAI, type MockServer } from './mock-openai.ts';

/** A model that answers after a random delay, choosing the last step; counts who it was asked about. */
function fakeModel(seed = 1, maxDelayMs = 6, slow: { id?: string; ms?: number } = {}): ModelSelector & { asked: string[]; inFlight: number; maxInFlight: number } {
  const rng = new Rng(seed);
  const m = {
    name: 'fake:m',
    model: 'm',
    promptVersion: 'fake/1',
    stats: { requests: 0, retries: 0, tokens: { prompt: 0, completion: 0 } },
    asked: [] as string[],
    inFlight: 0,
    maxInFlight: 0,
    async select(t: Trajectory) {
      m.asked.push(t.id);
      m.stats.requests++;
      m.inFlight++;
      m.maxInFlight = Math.max(m.maxInFlight, m.inFlight);
      await new Promise((r) => setTimeout(r, t.id === slow.id ? slow.ms : rng.next() * maxDelayMs));
      m.inFlight--;
      return { ok: true as const, critical: [{ step: t.steps.length - 1 }], repairs: [], usage: { prompt: 10, completion: 2 } };
    },
  };
  return m;
}

const ids = (n: number, prefix = 't') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('selectInOrder', () => {
  it('hands trajectories out in input order while at most `window` are read ahead of the oldest not yet handed out', async () => {
    // t5 answers late: the ones after it finish meanwhile and wait for it, up to the window.
    const model = fakeModel(3, 6, { id: 't5', ms: 150 });
    let read = 0;
    let handedOut = 0;
    let maxAhead = 0;
    async function* input() {
      for (const id of ids(300)) {
        read++;
        maxAhead = Math.max(maxAhead, read - handedOut);
        yield makeTrajectory(id, 5);
      }
    }
    const journal: number[] = [];
    const out: string[] = [];
    const run = selectInOrder(input(), { selector: 'oracle', model, concurrency: 8 }, { total: 300, window: 20, onFinished: (i) => journal.push(i) });
    let summary;
    for (;;) {
      const next = await run.next();
      if (next.done) {
        summary = next.value;
        break;
      }
      handedOut++;
      out.push(next.value.id);
      expect(next.value.selections.at(-1)).toMatchObject({ selector: 'fake:m', status: 'labelled' });
    }
    expect(out).toEqual(ids(300));
    expect(maxAhead).toBe(20); // finished ones wait for t5: the window, not the lanes, bounds them
    expect(model.maxInFlight).toBe(8);
    // The journal heard of every one once, in the order they finished (not input order: random delays).
    expect([...journal].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(journal).not.toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(summary).toMatchObject({ total: 300, labelled: 300, requests: 300 });
    expect(summary.resumed).toBeUndefined();
  });

  it('resumes: starts at resume.index, takes the journal\'s selections without asking, counts the earlier prefix', async () => {
    const model = fakeModel(5);
    const all = ids(40).map((id) => makeTrajectory(id, 6));
    const earlier: Selection = { selector: 'fake:m', createdAt: '2026-01-01T00:00:00Z', status: 'failed', failure: 'from before', critical: [] };
    const state: ResumeState = {
      index: 10,
      labelled: 9,
      failed: [{ id: 't3', reason: 'x' }],
      repaired: 2,
      finished: new Map([
        [12, { id: 't12', selection: earlier }],
        [30, { id: 'not-t30', selection: earlier }], // another trajectory's: ignored, t30 is asked
      ]),
    };
    const journal: number[] = [];
    const out: Trajectory[] = [];
    const run = selectInOrder(all.slice(10), { selector: 'oracle', model, concurrency: 4 }, { total: 40, resume: state, onFinished: (i) => journal.push(i) });
    let summary;
    for (;;) {
      const next = await run.next();
      if (next.done) {
        summary = next.value;
        break;
      }
      out.push(next.value);
    }
    expect(out.map((t) => t.id)).toEqual(ids(40).slice(10));
    expect(model.asked.sort()).toEqual(ids(40).slice(10).filter((id) => id !== 't12').sort());
    expect(out[2].selections).toEqual([earlier]);
    expect(journal).not.toContain(12);
    expect(journal).toHaveLength(29);
    expect(summary).toMatchObject({ total: 40, labelled: 9 + 29, repaired: 2, requests: 29, resumed: 11 });
    expect(summary.failed).toEqual([{ id: 't3', reason: 'x' }, { id: 't12', reason: 'from before' }]);
  });

  it('a failing journal stops the run with its error', async () => {
    const run = selectInOrder(ids(50).map((id) => makeTrajectory(id, 5)), { selector: 'oracle', model: fakeModel(), concurrency: 4 }, {
      onFinished: (i) => {
        if (i === 7) throw new Error('disk full');
      },
    });
    const drain = async () => {
      for await (const _ of run);
    };
    await expect(drain()).rejects.toThrow('disk full');
  });

  it('runSelection over a list is the same stream with no window', async () => {
    const { trajectories, summary } = await runSelection(ids(30).map((id) => makeTrajectory(id, 5)), { selector: 'heuristic' });
    expect(trajectories.map((t) => t.id)).toEqual(ids(30));
    expect(summary).toMatchObject({ total: 30, labelled: 30 });
  });
});

const entry = (key: string, step: number): CachedSelection => ({ key, promptVersion: 'v', model: 'm', budget: 0.3, critical: [{ step }], repairs: [], usage: { prompt: 1, completion: 1 }, createdAt: '2026-01-01T00:00:00Z' });

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
  vi.restoreAllMocks();
});

describe('file cache: answers stay on disk', () => {
  it('finds every answer after a reload, keys that share a slot included; the latest line of a key wins', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-cache-index-'));
    // Two keys with the same 28-bit slot (found by search: the index must tell them apart by reading the line).
    const bySlot = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const k = `key-${i}`;
      const other = bySlot.get(slotOf(k));
      if (other) pair = [other, k];
      else bySlot.set(slotOf(k), k);
    }
    const a = new FileCacheStore(dir);
    for (let i = 0; i < 500; i++) await a.put(entry(`k${i}`, i));
    await a.put(entry(pair[0], 1000));
    await a.put(entry(pair[1], 1001));
    await a.put(entry('k7', 77)); // a newer answer for k7
    await a.close();
    const b = new FileCacheStore(dir);
    expect((await b.get(pair[0]))?.critical).toEqual([{ step: 1000 }]);
    expect((await b.get(pair[1]))?.critical).toEqual([{ step: 1001 }]);
    expect((await b.get('k7'))?.critical).toEqual([{ step: 77 }]);
    expect((await b.get('k499'))?.critical).toEqual([{ step: 499 }]);
    expect(await b.get('k500')).toBeUndefined();
    expect(b.indexedLines).toBe(503);
    // A long line (over one read) comes back whole.
    const long = { ...entry('long', 3), plan: 'p'.repeat(20_000) };
    await b.put(long);
    await b.close();
    expect(await new FileCacheStore(dir).get('long')).toEqual(long);
  });

  it('after a torn last line the next answer starts on a line of its own', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-cache-index-'));
    const a = new FileCacheStore(dir);
    await a.put(entry('first', 1));
    await a.close();
    await appendFile(a.file, '{"key":"torn","crit');
    const b = new FileCacheStore(dir);
    expect(await b.get('torn')).toBeUndefined();
    await b.put(entry('after', 2));
    await b.close();
    const c = new FileCacheStore(dir);
    expect((await c.get('after'))?.critical).toEqual([{ step: 2 }]);
    expect((await c.get('first'))?.critical).toEqual([{ step: 1 }]);
    expect(c.skippedLines).toBe(1);
  });
});

describe('atlas select: resumable output', () => {
  const job = (over: Partial<SelectJob> = {}): SelectJob => ({ input: '/in.jsonl', inputBytes: 10, trajectories: 6, selector: 'oracle:mock-1', budget: 0.3, seed: 0, ...over });

  it('findResume: nothing to resume; another job; a partial that does not match the input', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-resume-'));
    const inFile = path.join(dir, 'in.jsonl');
    await writeFile(inFile, trajectoriesToJsonl(ids(6).map((id) => makeTrajectory(id, 5))));
    const out = path.join(dir, 'out.jsonl');
    const { partial, journal } = resumeFiles(out);
    const open = () => readTrajectoryFile(inFile);
    expect(await findResume(out, job(), open)).toEqual({});
    await writeFile(journal, JSON.stringify({ job: job({ budget: 0.5 }) }) + '\n');
    expect((await findResume(out, job(), open)).note).toMatch(/out\.jsonl\.partial is from another run \(budget was 0\.5, now 0\.3\); starting over$/);
    await writeFile(journal, JSON.stringify({ job: job() }) + '\n');
    const wrong = { ...makeTrajectory('t1', 5), selections: [{ selector: 'oracle:mock-1', createdAt: '', status: 'labelled' as const, critical: [] }] };
    await writeFile(partial, trajectoriesToJsonl([wrong]));
    expect((await findResume(out, job(), open)).note).toMatch(/line 1 of .*out\.jsonl\.partial is "t1" but the input's is "t0"; starting over$/);
  });

  it('the CLI resumes from a partial output with a torn line and a journal: asks only for the rest, writes all in input order', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-resume-'));
    const server: MockServer = await startMockOpenAI(() => ({ kind: 'good' }));
    try {
      const inFile = path.join(dir, 'in.jsonl');
      const out = path.join(dir, 'out.jsonl');
      await writeFile(inFile, trajectoriesToJsonl(ids(6).map((id) => makeTrajectory(id, 5 + Number(id.slice(1))))));
      const argv = ['--in', inFile, '--selector', 'oracle', '--base-url', server.baseUrl, '--model', 'mock-1', '--no-cache', '--concurrency', '2', '--out', out];
      const quiet = () => {
        vi.spyOn(console, 'log').mockImplementation(() => {});
        vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      };
      quiet();
      expect(await select.run(argv)).toBe(0);
      vi.restoreAllMocks();
      const whole = (await readFile(out, 'utf8')).split('\n');
      const { partial, journal } = resumeFiles(out);
      expect(existsSync(partial) || existsSync(journal)).toBe(false);

      // As a kill leaves it: t0, t1 written, t2 torn; t4 finished (journal), its line torn after it.
      const jobLine = JSON.stringify({ job: { input: path.resolve(inFile), inputBytes: (await readFile(inFile)).length, trajectories: 6, selector: 'oracle:mock-1', budget: 0.3, seed: 0 } });
      const t4 = JSON.parse(whole[4]) as Trajectory;
      await writeFile(partial, whole[0] + '\n' + whole[1] + '\n' + whole[2].slice(0, 40));
      await writeFile(journal, [jobLine, JSON.stringify({ i: 1, id: 't1', selection: t4.selections[0] }), JSON.stringify({ i: 4, id: 't4', selection: t4.selections[0] }), '{"i":5,"id":"t5","sel'].join('\n'));
      await rm(out);
      const before = server.requests.length;
      const err: string[] = [];
      const log: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((s: string) => void log.push(s));
      vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
      expect(await select.run(argv)).toBe(0);
      vi.restoreAllMocks();
      expect(err.join('')).toContain(`select: resuming ${partial}: 2 of 6 written, 1 more finished (journal); asking for the rest`);
      // Asked only for t2, t3 and t5 (7, 8 and 10 steps).
      expect(server.requests.slice(before).map((r) => r.nSteps).sort((a, b) => a - b)).toEqual([7, 8, 10]);
      expect(JSON.parse(log[log.length - 1])).toMatchObject({ total: 6, labelled: 6, requests: 3, resumed: 3 });
      const again = parseTrajectoriesJsonl(await readFile(out, 'utf8')).trajectories;
      expect(again.map((t) => t.id)).toEqual(ids(6));
      expect(again.every((t) => t.selections.length === 1 && t.selections[0].selector === 'oracle:mock-1')).toBe(true);
      expect(again[4].selections[0]).toEqual(t4.selections[0]);
      expect(existsSync(partial) || existsSync(journal)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('progress shows the rate and the time left', () => {
    const summary = { selector: 'x', total: 100, labelled: 40, failed: [], requests: 50, retries: 3, cacheHits: 0, tokens: { prompt: 10, completion: 2 }, cost: null, repaired: 0, cancelled: false, elapsedMs: 0 };
    const p = { done: 40, total: 100, id: 'a', status: 'labelled' as const, summary };
    expect(progressLine(p, 0.5)).toBe('select: 40/100 labelled 40 failed 0 requests 50 retries 3 cache 0 tokens 10+2 · 30/min eta 2m00s\n');
    expect(progressLine(p)).toBe('select: 40/100 labelled 40 failed 0 requests 50 retries 3 cache 0 tokens 10+2\n');
    expect([formatDuration(42.4), formatDuration(185), formatDuration(3720)]).toEqual(['42s', '3m05s', '1h02m']);
  });
});
