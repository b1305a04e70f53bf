import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMockOpenAI, type Behaviour, type MockServer } from './mock-openai.ts';
import { makeTrajectory } from './fixtures.ts';
import { runSelection, dryRun, type RunOptions } from '../../../src/select/run.ts';
import { RunControl } from '../../../src/select/control.ts';
import { MemoryCacheStore } from '../../../src/select/cache.ts';
import { FileCacheStore } from '../../../src/select/cache-node.ts';
import { parseRetryAfter } from '../../../src/select/oracle.ts';
import { Rng } from '../../../src/data/rng.ts';
import { budgetCount } from '../../../src/data/arms.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';

const API_KEY = 'sk-test-SECRET-4f9a2c71';
let server: MockServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function oracleOptions(s: MockServer, extra: Partial<RunOptions['oracle']> = {}, run: Partial<RunOptions> = {}): RunOptions {
  return {
    selector: 'oracle',
    concurrency: 4,
    oracle: { baseUrl: s.baseUrl, model: 'mock-1', apiKey: API_KEY, timeoutMs: 2000, backoffBaseMs: 1, backoffMaxMs: 5, maxRetries: 4, ...extra },
    ...run,
  };
}

const sel = (t: Trajectory) => t.selections[t.selections.length - 1];

describe('oracle against a mock OpenAI-compatible server', () => {
  it('labels from good replies, with the budget count, JSON mode and the key as a Bearer token', async () => {
    server = await startMockOpenAI(() => ({ kind: 'good' }));
    const ts = [makeTrajectory('a', 10), makeTrajectory('b', 4)];
    const { trajectories, summary } = await runSelection(ts, oracleOptions(server));
    expect(summary.labelled).toBe(2);
    expect(summary.failed).toEqual([]);
    expect(summary.requests).toBe(2);
    expect(server.requests.every((r) => r.body.response_format?.type === 'json_object')).toBe(true);
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
    expect(server.requests[0].body.model).toBe('mock-1');
    const a = sel(trajectories[0]);
    expect(a).toMatchObject({ selector: 'oracle:mock-1', status: 'labelled', model: 'mock-1', promptVersion: 'atlas-select/1', budget: 0.3, plan: 'find the thing; use it' });
    expect(a.critical.map((c) => c.step)).toEqual([9, 8, 7]);
    expect(a.critical[0]).toMatchObject({ category: 'plan', reason: 'reason for 9' });
    expect(sel(trajectories[1]).critical.length).toBe(1);
    expect(summary.tokens.prompt).toBe(server.usageSent.prompt);
    expect(summary.tokens.completion).toBe(server.usageSent.completion);
    expect(ts[0].selections).toEqual([]); // the input is not mutated
  });

  it('retries a malformed reply once with the error shown, then labels', async () => {
    server = await startMockOpenAI((r) => (r.attempt === 0 ? { kind: 'malformed' } : { kind: 'good' }));
    const { trajectories, summary } = await runSelection([makeTrajectory('m', 10)], oracleOptions(server));
    expect(summary.labelled).toBe(1);
    expect(server.requests.length).toBe(2);
    const second = server.requests[1].body.messages;
    expect(second.length).toBe(4);
    expect(second[2].role).toBe('assistant');
    expect(second[3].content).toMatch(/could not be used: malformed JSON/);
    expect(sel(trajectories[0]).repairs?.[0]).toMatch(/^first reply unusable \(malformed JSON/);
  });

  it('fails with the reason after two unusable replies', async () => {
    server = await startMockOpenAI(() => ({ kind: 'malformed' }));
    const { trajectories, summary } = await runSelection([makeTrajectory('m2', 6)], oracleOptions(server));
    expect(summary.labelled).toBe(0);
    expect(summary.failed).toEqual([{ id: 'm2', reason: expect.stringMatching(/^reply unusable twice: first malformed JSON.*then malformed JSON/) }]);
    expect(sel(trajectories[0])).toMatchObject({ status: 'failed', critical: [] });
    expect(server.requests.length).toBe(2);
  });

  it('extracts JSON from prose and code fences, recording the repair', async () => {
    server = await startMockOpenAI(() => ({ kind: 'prose' }));
    const { trajectories } = await runSelection([makeTrajectory('p', 10)], oracleOptions(server));
    const s = sel(trajectories[0]);
    expect(s.status).toBe('labelled');
    expect(s.critical.map((c) => c.step)).toEqual([9, 8, 7]);
    expect(s.repairs).toContain('extracted the JSON object from text around it');
  });

  it('drops out-of-range, duplicate and non-integer indices and cuts over-budget replies', async () => {
    server = await startMockOpenAI((r) => (r.task.includes('(bad)') ? { kind: 'bad-indices' } : { kind: 'over-budget' }));
    const { trajectories } = await runSelection([makeTrajectory('bad', 10), makeTrajectory('over', 10)], oracleOptions(server));
    const bad = sel(trajectories[0]);
    expect(bad.critical).toEqual([{ step: 0, category: 'plan', reason: 'r' }]);
    expect(bad.repairs).toEqual([
      'entry 0: dropped step 15: out of range 0..9',
      'entry 2: dropped duplicate step 0',
      'entry 3: dropped step 1.5: not an integer',
      'entry 4: dropped step -1: out of range 0..9',
    ]);
    const over = sel(trajectories[1]);
    expect(over.critical.map((c) => c.step)).toEqual([9, 8, 7]); // the selector's first k, in its order
    expect(over.repairs).toEqual(['budget: kept the first 3 of 10 steps, dropped 6, 5, 4, 3, 2, 1, 0']);
  });

  it('honours Retry-After (seconds) on 429', async () => {
    server = await startMockOpenAI((r) => (r.attempt === 0 ? { kind: 'status', status: 429, retryAfter: '1' } : { kind: 'good' }));
    const t0 = Date.now();
    const { summary } = await runSelection([makeTrajectory('r', 5)], oracleOptions(server));
    const waited = Date.now() - t0;
    expect(summary).toMatchObject({ labelled: 1, requests: 2, retries: 1 });
    expect(waited).toBeGreaterThanOrEqual(950); // backoff alone would be ≤ 5 ms
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('caps a long Retry-After at maxRetryAfterMs', async () => {
    server = await startMockOpenAI((r) => (r.attempt === 0 ? { kind: 'status', status: 503, retryAfter: '3600' } : { kind: 'good' }));
    const t0 = Date.now();
    const { summary } = await runSelection([makeTrajectory('cap', 5)], oracleOptions(server, { maxRetryAfterMs: 20 }));
    expect(summary.labelled).toBe(1);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('retries 500, a slow reply past the timeout and a dropped connection, then gives up with the reason', async () => {
    server = await startMockOpenAI((r) => {
      if (r.task.includes('(five)')) return [{ kind: 'status', status: 500 }, { kind: 'slow', ms: 3000 }, { kind: 'drop' }, { kind: 'good' }][r.attempt] as Behaviour;
      return { kind: 'status', status: 502 };
    });
    const { summary } = await runSelection([makeTrajectory('five', 6), makeTrajectory('never', 6)], oracleOptions(server, { timeoutMs: 1000, maxRetries: 3 }));
    expect(summary.labelled).toBe(1);
    expect(summary.failed).toEqual([{ id: 'never', reason: expect.stringMatching(/^request failed: HTTP 502.*gave up after 4 attempts$/) }]);
    expect(summary.requests).toBe(4 + 4);
    expect(summary.retries).toBe(3 + 3);
  });

  it('reports timeouts and network errors as reasons', async () => {
    server = await startMockOpenAI((r) => (r.task.includes('(slow)') ? { kind: 'slow', ms: 500 } : { kind: 'drop' }));
    const { summary } = await runSelection([makeTrajectory('slow', 5), makeTrajectory('drop', 5)], oracleOptions(server, { timeoutMs: 100, maxRetries: 1 }));
    const reasons = Object.fromEntries(summary.failed.map((f) => [f.id, f.reason]));
    expect(reasons.slow).toMatch(/no reply within 100 ms; gave up after 2 attempts/);
    expect(reasons.drop).toMatch(/network error: .*gave up after 2 attempts/);
  });

  it('falls back from JSON mode when the server rejects response_format with 400', async () => {
    server = await startMockOpenAI((r) => (r.body.response_format ? { kind: 'status', status: 400, body: '{"error":"response_format not supported"}' } : { kind: 'good' }));
    const { summary } = await runSelection([makeTrajectory('j1', 5), makeTrajectory('j2', 5)], oracleOptions(server, {}, { concurrency: 1 }));
    expect(summary.labelled).toBe(2);
    expect(server.requests.map((r) => Boolean(r.body.response_format))).toEqual([true, false, false]);
  });

  it('does not retry other 4xx and never leaks the API key into reasons', async () => {
    server = await startMockOpenAI(() => ({ kind: 'echo-auth', status: 401 }));
    const { summary, trajectories } = await runSelection([makeTrajectory('k', 5)], oracleOptions(server));
    expect(summary.requests).toBe(1);
    expect(summary.failed[0].reason).toMatch(/HTTP 401/);
    expect(summary.failed[0].reason).toContain('[redacted]');
    expect(JSON.stringify({ summary, trajectories })).not.toContain(API_KEY);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server = await startMockOpenAI(() => ({ kind: 'slow', ms: 30 }));
    const ts = Array.from({ length: 12 }, (_, i) => makeTrajectory(`c${i}`, 5));
    const { summary } = await runSelection(ts, oracleOptions(server, {}, { concurrency: 3 }));
    expect(summary.labelled).toBe(12);
    expect(server.maxInFlight).toBe(3);
  });

  it('pauses, resumes and cancels', async () => {
    server = await startMockOpenAI((r) => (r.task.includes('(hang') ? { kind: 'slow', ms: 4000 } : { kind: 'good' }));
    const control = new RunControl();
    control.pause();
    const run = runSelection([makeTrajectory('p1', 5), makeTrajectory('p2', 5)], oracleOptions(server, {}, { concurrency: 1 }), { control });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests.length).toBe(0);
    control.resume();
    expect((await run).summary.labelled).toBe(2);

    const c2 = new RunControl();
    const progress: string[] = [];
    const ts = [makeTrajectory('ok', 5), makeTrajectory('hang1', 5), makeTrajectory('hang2', 5), makeTrajectory('later', 5)];
    const t0 = Date.now();
    const run2 = runSelection(ts, oracleOptions(server, { timeoutMs: 5000 }, { concurrency: 2 }), { control: c2, onProgress: (p) => progress.push(`${p.id}:${p.status}`) });
    await new Promise((r) => setTimeout(r, 800));
    c2.cancel();
    const { summary } = await run2;
    expect(Date.now() - t0).toBeLessThan(3000); // well before the 4 s replies or the 5 s timeout
    expect(summary.cancelled).toBe(true);
    expect(summary.labelled + summary.failed.length).toBe(4);
    expect(summary.failed.every((f) => f.reason === 'cancelled')).toBe(true);
    expect(summary.failed.map((f) => f.id).sort()).toEqual(['hang1', 'hang2', 'later']);
    expect(progress).toHaveLength(4);
  });

  it('serves a rerun entirely from the file cache, and the key is in no cache file or output', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'atlas-cache-'));
    try {
      server = await startMockOpenAI(() => ({ kind: 'good' }));
      const ts = Array.from({ length: 20 }, (_, i) => makeTrajectory(`cache${i}`, 4 + (i % 7)));
      const first = await runSelection(ts, { ...oracleOptions(server), cache: new FileCacheStore(dir) });
      expect(first.summary).toMatchObject({ labelled: 20, requests: 20, cacheHits: 0 });
      const sent = server.requests.length;
      const second = await runSelection(ts, { ...oracleOptions(server), cache: new FileCacheStore(dir) });
      expect(server.requests.length).toBe(sent);
      expect(second.summary).toMatchObject({ labelled: 20, requests: 0, cacheHits: 20 });
      expect(second.trajectories.map((t) => sel(t).critical)).toEqual(first.trajectories.map((t) => sel(t).critical));
      // A different budget or model is a different key.
      const third = await runSelection(ts.slice(0, 2), { ...oracleOptions(server), budget: 0.5, cache: new FileCacheStore(dir) });
      expect(third.summary.cacheHits).toBe(0);
      const files = await readdir(dir);
      expect(files).toEqual(['selections.jsonl']);
      const cacheText = await readFile(path.join(dir, files[0]), 'utf8');
      expect(cacheText.trim().split('\n')).toHaveLength(22);
      expect(cacheText).not.toContain(API_KEY);
      expect(JSON.stringify([first, second, third])).not.toContain(API_KEY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps an answer whose cache write failed, and says so', async () => {
    server = await startMockOpenAI(() => ({ kind: 'good' }));
    const broken = { get: async () => undefined, put: async () => { throw new Error('disk full'); } };
    const { trajectories, summary } = await runSelection([makeTrajectory('nc', 5)], { ...oracleOptions(server), cache: broken });
    expect(summary.labelled).toBe(1);
    expect(sel(trajectories[0]).repairs).toEqual(['not cached: disk full']);
  });

  it('dry run sends nothing and estimates tokens for the whole dataset', async () => {
    server = await startMockOpenAI(() => ({ kind: 'good' }));
    const ts = Array.from({ length: 5 }, (_, i) => makeTrajectory(`d${i}`, 10));
    const cache = new MemoryCacheStore();
    await runSelection(ts.slice(0, 2), { ...oracleOptions(server), cache });
    const before = server.requests.length;
    const report = await dryRun(ts, { ...oracleOptions(server), cache, price: { promptPerM: 2, completionPerM: 8 } });
    expect(server.requests.length).toBe(before);
    expect(report).toMatchObject({ trajectories: 5, cached: 2, toSend: 3 });
    const expected = report.prompts.filter((p) => !p.cached).reduce((n, p) => n + p.promptTokens, 0);
    expect(report.promptTokens).toBe(expected);
    expect(report.promptTokens).toBeGreaterThan(3 * 200);
    expect(report.cost).toBeCloseTo((report.promptTokens * 2 + report.completionTokens * 8) / 1e6, 12);
    expect(report.prompts[0].messages[1].content).toContain('Step 9');
  });

  it('1,000 trajectories under a 30 % fault mix: every one labelled or failed with a reason, and the summary adds up', async () => {
    const rng = new Rng(1234);
    const faults: Behaviour[] = [
      { kind: 'status', status: 429, retryAfter: '0' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'slow', ms: 5000 }, // the client gives up at 500 ms
      { kind: 'drop' },
      { kind: 'malformed' },
      { kind: 'prose' },
      { kind: 'bad-indices' },
      { kind: 'over-budget' },
    ];
    server = await startMockOpenAI(() => (rng.next() < 0.3 ? rng.pick(faults) : { kind: 'good' }));
    // What the client saw, counted at the fetch boundary: every attempt, every transport fault
    // (429, 5xx, timeout, dropped connection) and the usage of every reply it read. The body is
    // read here, under the request's abort signal, so this view and the client's cannot differ
    // even when a loaded machine makes an ordinary reply miss the timeout.
    const seen = { calls: 0, faults: 0, usage: { prompt: 0, completion: 0 } };
    const countingFetch: typeof fetch = async (url, init) => {
      seen.calls++;
      try {
        const r = await fetch(url, init);
        const text = await r.text();
        if (r.status === 429 || r.status >= 500) seen.faults++;
        else if (r.ok) {
          const usage = JSON.parse(text).usage;
          seen.usage.prompt += usage.prompt_tokens;
          seen.usage.completion += usage.completion_tokens;
        }
        return new Response(text, { status: r.status, headers: r.headers });
      } catch (err) {
        seen.faults++;
        throw err;
      }
    };
    const ts = Array.from({ length: 1000 }, (_, i) => makeTrajectory(`f${i}`, 4 + (i % 9)));
    let events = 0;
    const { trajectories, summary } = await runSelection(
      ts,
      { ...oracleOptions(server, { timeoutMs: 500, maxRetries: 2, fetchImpl: countingFetch }, { concurrency: 16 }), cache: new MemoryCacheStore(), price: { promptPerM: 1, completionPerM: 1 } },
      { onProgress: () => events++ },
    );
    expect(events).toBe(1000);
    expect(trajectories).toHaveLength(1000);
    expect(trajectories.map((t) => t.id)).toEqual(ts.map((t) => t.id));
    const labelled = trajectories.filter((t) => sel(t).status === 'labelled');
    const failed = trajectories.filter((t) => sel(t).status === 'failed');
    expect(labelled.length + failed.length).toBe(1000);
    expect(summary.labelled).toBe(labelled.length);
    expect(summary.failed.map((f) => f.id).sort()).toEqual(failed.map((t) => t.id).sort());
    expect(failed.every((t) => typeof sel(t).failure === 'string' && sel(t).failure!.length > 5)).toBe(true);
    for (const t of labelled) {
      const steps = sel(t).critical.map((c) => c.step);
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.length).toBeLessThanOrEqual(budgetCount(t.steps.length, 0.3));
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps.every((s) => Number.isInteger(s) && s >= 0 && s < t.steps.length)).toBe(true);
    }
    expect(summary.requests).toBe(seen.calls);
    expect(server.requests.length).toBeLessThanOrEqual(seen.calls); // an attempt can time out before it arrives
    expect(server.requests.length).toBeGreaterThan(1000);
    expect(summary.tokens).toEqual(seen.usage);
    // Every transport fault was retried, except the last attempt of a trajectory that gave up.
    const gaveUp = summary.failed.filter((f) => /gave up after/.test(f.reason)).length;
    expect(summary.retries + gaveUp).toBe(seen.faults);
    expect(seen.faults).toBeGreaterThan(50);
    expect(summary.cost).toBeCloseTo((summary.tokens.prompt + summary.tokens.completion) / 1e6, 12);
    expect(summary.labelled).toBeGreaterThan(900);
    console.log(`fault mix: ${JSON.stringify({ ...summary, failed: summary.failed.length })}`);
  }, 60_000);
});

describe('redaction of short placeholder keys', () => {
  it('leaves error text intact when the key is a placeholder like "x" (local servers accept any)', async () => {
    const { OracleClient } = await import('../../../src/select/oracle.ts');
    const client = new OracleClient({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', apiKey: 'x', maxRetries: 0, timeoutMs: 2000 });
    const out = await client.complete([{ role: 'user', content: 'hi' }], new RunControl());
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error).not.toContain('[redacted]');
      expect(out.error.length).toBeGreaterThan(5);
    }
  });
});
