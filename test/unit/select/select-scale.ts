// Selection at dataset scale, killed halfway: the same path for the recorded 14,000-trajectory
// run (scripts/select-scale.ts, figures in docs/selection.md) and the CI test on a few hundred
// (select-scale.test.ts). It writes N distinct built-in demonstrations, starts the mock
// OpenAI-compatible endpoint with a latency per reply and a fault mix, runs `atlas select
// --selector oracle` as a child process group (the real CLI: node bin/atlas.mjs), kill -9s the
// group once half the trajectories have been answered, runs the same command again, and checks
// the output: every input trajectory once, in input order, with this run's selection; no
// trajectory the first run had finished (its partial output and journal on disk after the kill)
// was asked again; the ones asked in both runs are at most one request per lane (the requests in
// flight at the kill). It samples the child's peak resident memory (VmHWM in /proc/<pid>/status).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { generateDemo } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import type { Split } from '../../../src/envs/types.ts';
import { serializeTrajectory } from '../../../src/data/jsonl.ts';
import { Rng } from '../../../src/data/rng.ts';
import { buildSelectorMessages } from '../../../src/select/selector-prompt.ts';
import { readTrajectoryFile, resumeFiles } from '../../../src/cli/select-resume.ts';
import { fileLines } from '../../../src/select/file-lines.ts';
import { startMockOpenAI, type Behaviour, type MockServer } from './mock-openai.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const ATLAS = path.join(REPO, 'bin/atlas.mjs');

/**
 * The fault mix: 30 % of requests, spread evenly over every fault the client handles — 429 with
 * Retry-After: 1, 500, 503, a reply slower than the client's timeout, a dropped connection,
 * malformed JSON, prose around the JSON, bad step indices, more steps than the budget.
 */
export const FAULT_RATE = 0.3;
export const FAULTS: Behaviour[] = [
  { kind: 'status', status: 429, retryAfter: '1' },
  { kind: 'status', status: 500 },
  { kind: 'status', status: 503 },
  { kind: 'slow', ms: 5000 },
  { kind: 'drop' },
  { kind: 'malformed' },
  { kind: 'prose' },
  { kind: 'bad-indices' },
  { kind: 'over-budget' },
];
/** The client's per-request timeout in these runs: the "slow" fault above passes it. */
export const TIMEOUT_MS = 3000;
/** GPT-4o's list prices (US$ per 1M prompt / completion tokens), for the cost figures. */
export const PRICE = { prompt: 2.5, completion: 10 };

const SOURCES: { env: string; split: Split }[] = [
  { env: 'household', split: 'held-in' },
  { env: 'grid', split: 'held-in' },
  { env: 'household', split: 'held-out' },
  { env: 'crafting', split: 'held-out' },
  { env: 'grid', split: 'held-out' },
];

export interface ScaleOptions {
  /** Folder for the input, output, cache and logs (created by the caller). */
  dir: string;
  trajectories: number;
  concurrency: number;
  /** Each reply's latency is drawn uniformly from [min, max] milliseconds. */
  latencyMs: [number, number];
  /** Kill the run once this share of the trajectories has been answered (null: no kill). */
  killAt: number | null;
  budget?: number;
  seed?: number;
  /** The atlas entry point to run (default this checkout's bin/atlas.mjs; another checkout's, to compare). */
  atlas?: string;
  /** Progress lines (the child's, and the harness's own). */
  log?: (line: string) => void;
}

export interface RunFigures {
  wallS: number;
  /** Peak resident set size of the node process, MiB (VmHWM, sampled every 200 ms). */
  peakRssMiB: number;
  exitCode: number | null;
  signal: string | null;
  /** The last stdout line (the summary JSON) when it exited by itself. */
  summary?: Record<string, unknown>;
}

export interface ScaleReport {
  trajectories: number;
  steps: number;
  inputMiB: number;
  concurrency: number;
  latencyMs: [number, number];
  dryRun: { promptTokens: number; completionTokens: number; cost: number; wallS: number };
  runs: RunFigures[];
  /** At the kill: trajectories answered so far, and requests the endpoint had open. */
  kill?: { answered: number; openRequests: number; finishedOnDisk: number };
  requests: { total: number; perRun: number[] };
  /** Trajectories asked in both runs (the kill's requests in flight), and those of them the first run had finished (must be 0). */
  askedAgain: number;
  paidTwice: number;
  /** Of those asked again, the ones that had had a 200 reply before the kill (an unusable first answer whose second request was in flight, or an answer not yet recorded). */
  answeredThenAskedAgain: number;
  /** Every input trajectory in the output, once, in input order, with this run's selection. */
  output: { lines: number; inOrder: boolean; labelled: number; failed: number };
  actual: { promptTokens: number; completionTokens: number; cost: number };
  trajectoriesPerMinute: number;
  problems: string[];
}

/** Writes n distinct built-in demonstrations (all environments, both splits); returns each one's user-prompt hash → index. */
function writeInput(file: string, n: number, budget: number): { ids: Map<string, number>; steps: number } {
  const ids = new Map<string, number>();
  const fd = openSync(file, 'w');
  let steps = 0;
  try {
    for (let seed = 1; ids.size < n; seed++) {
      for (const { env, split } of SOURCES) {
        if (ids.size >= n) break;
        const t = generateDemo(getEnv(env), seed, split);
        const key = promptKey(buildSelectorMessages(t, budget)[1].content);
        if (ids.has(key)) continue; // the same episode from another seed: keep the dataset distinct
        ids.set(key, ids.size);
        steps += t.steps.length;
        writeSync(fd, serializeTrajectory(t) + '\n');
      }
    }
  } finally {
    closeSync(fd);
  }
  return { ids, steps };
}

const promptKey = (userMessage: string) => createHash('sha256').update(userMessage).digest('hex');

function peakRssKiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface Child {
  pid: number;
  /** Resolves when it has exited, with its figures. */
  exited: Promise<RunFigures>;
}

/** Starts `node bin/atlas.mjs <args>` as the leader of its own process group. */
function startAtlas(atlas: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, log?: (line: string) => void): Child {
  const started = Date.now();
  const child = spawn(process.execPath, [atlas, ...args], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const logFd = openSync(logFile, 'a');
  let stdout = '';
  let peak = 0;
  const sample = () => void (peak = Math.max(peak, peakRssKiB(pid) ?? 0));
  const timer = setInterval(sample, 200);
  child.stdout.on('data', (b: Buffer) => {
    stdout = (stdout + b.toString('utf8')).slice(-65536);
  });
  let pending = '';
  let lastLog = 0;
  child.stderr.on('data', (b: Buffer) => {
    writeSync(logFd, b);
    pending += b.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const progress = line.startsWith('select: ') && /^select: \d+\/\d+ /.test(line);
      if (!progress || Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log?.(line);
      }
    }
  });
  const exited = new Promise<RunFigures>((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      closeSync(logFd);
      const last = stdout.trim().split('\n').pop() ?? '';
      let summary: Record<string, unknown> | undefined;
      try {
        summary = code === 0 || code === 1 ? JSON.parse(last) : undefined;
      } catch {
        summary = undefined;
      }
      resolve({ wallS: (Date.now() - started) / 1000, peakRssMiB: peak / 1024, exitCode: code, signal, summary });
    });
  });
  // The first sample as soon as it runs; later ones on the timer (and one just before a kill).
  setTimeout(sample, 50);
  return { pid, exited: exited.then((f) => ({ ...f, peakRssMiB: Math.max(f.peakRssMiB, peak / 1024) })) };
}

/** Runs the whole check; throws only when something could not run (the report lists what failed). */
export async function runScale(opts: ScaleOptions): Promise<ScaleReport> {
  const budget = opts.budget ?? 0.3;
  const log = opts.log ?? (() => {});
  const problems: string[] = [];
  const inFile = path.join(opts.dir, 'in.jsonl');
  const outFile = path.join(opts.dir, 'out.jsonl');
  const logFile = path.join(opts.dir, 'select.log');

  let t0 = Date.now();
  const { ids, steps } = writeInput(inFile, opts.trajectories, budget);
  const n = ids.size;
  const inputMiB = readFileSync(inFile).length / 2 ** 20;
  log(`wrote ${n} distinct built-in trajectories (${steps} steps, ${inputMiB.toFixed(1)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const env = { ...process.env, ATLAS_SCALE_KEY: 'sk-scale-test' };
  const price = ['--price-prompt', String(PRICE.prompt), '--price-completion', String(PRICE.completion)];

  // The dry run's estimate (sends nothing).
  t0 = Date.now();
  const atlas = opts.atlas ?? ATLAS;
  const dry = startAtlas(atlas, ['select', '--in', inFile, '--selector', 'oracle', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'mock-1', '--budget', String(budget), '--dry-run', '--no-cache', ...price], env, logFile);
  const dryFigures = await dry.exited;
  const dryJson = dryFigures.summary as { promptTokens: number; completionTokens: number; cost: number; toSend: number } | undefined;
  if (!dryJson) throw new Error(`the dry run failed (exit ${dryFigures.exitCode}); see ${logFile}`);
  const dryRun = { promptTokens: dryJson.promptTokens, completionTokens: dryJson.completionTokens, cost: dryJson.cost, wallS: (Date.now() - t0) / 1000 };
  log(`dry run: ${dryJson.toSend} to send, ${dryJson.promptTokens} + ${dryJson.completionTokens} tokens (estimated), cost ${dryJson.cost.toFixed(2)} at ${PRICE.prompt}/${PRICE.completion} per 1M`);

  // The endpoint: who asked for which trajectory, in which run.
  let phase = 0;
  let killed = false;
  const asked = [new Uint16Array(n), new Uint16Array(n)];
  const answered = new Uint8Array(n);
  let answeredCount = 0;
  let onAnswered: (() => void) | undefined;
  const perRun = [0, 0];
  let unknown = 0;
  const rng = new Rng(opts.seed ?? 1);
  const [lo, hi] = opts.latencyMs;
  const indexOf = (body: { messages: { role: string; content: string }[] }) => ids.get(promptKey(body.messages.find((m) => m.role === 'user')?.content ?? ''));
  const server: MockServer = await startMockOpenAI(
    (req) => {
      const i = indexOf(req.body);
      perRun[phase]++;
      if (i === undefined) unknown++;
      else asked[phase][i] = Math.min(65535, asked[phase][i] + 1);
      return rng.next() < FAULT_RATE ? rng.pick(FAULTS) : { kind: 'good' };
    },
    {
      latencyMs: () => lo + rng.next() * (hi - lo),
      keepRequests: false,
      onReply: (req, status) => {
        const i = indexOf(req.body);
        // Replies the endpoint writes after the kill (before it has seen the connection close) reach no one: not counted.
        if (status !== 200 || i === undefined || phase !== 0 || killed || answered[i]) return;
        answered[i] = 1;
        answeredCount++;
        onAnswered?.();
      },
    },
  );

  const runs: RunFigures[] = [];
  let kill: ScaleReport['kill'];
  let paidTwice = 0;
  try {
    const args = ['select', '--in', inFile, '--selector', 'oracle', '--base-url', server.baseUrl, '--model', 'mock-1', '--api-key-env', 'ATLAS_SCALE_KEY', '--budget', String(budget), '--concurrency', String(opts.concurrency), '--timeout-ms', String(TIMEOUT_MS), ...price, '--cache-dir', path.join(opts.dir, 'cache'), '--out', outFile];
    log(`run 1: atlas ${args.join(' ')}`);
    const first = startAtlas(atlas, args, env, logFile, log);
    if (opts.killAt !== null) {
      const target = Math.max(1, Math.floor(opts.killAt * n));
      const reached = new Promise<void>((resolve) => {
        onAnswered = () => answeredCount >= target && resolve();
      });
      const how = await Promise.race([reached.then(() => 'reached' as const), first.exited.then(() => 'exited' as const)]);
      if (how === 'reached') {
        const openRequests = server.inFlight;
        const answeredAtKill = answeredCount;
        const rssBefore = peakRssKiB(first.pid);
        killed = true;
        process.kill(-first.pid, 'SIGKILL');
        const figures = await first.exited;
        runs.push({ ...figures, peakRssMiB: Math.max(figures.peakRssMiB, (rssBefore ?? 0) / 1024) });
        const finishedOnDisk = await finishedByFirstRun(outFile, n);
        kill = { answered: answeredAtKill, openRequests, finishedOnDisk: finishedOnDisk.count };
        log(`killed (SIGKILL to the process group) after ${figures.wallS.toFixed(1)} s: ${answeredAtKill} of ${n} answered, ${openRequests} requests open at the endpoint, ${finishedOnDisk.count} finished on disk`);
        phase = 1;
        log(`run 2: the same command`);
        const second = startAtlas(atlas, args, env, logFile, log);
        runs.push(await second.exited);
        for (let i = 0; i < n; i++) if (asked[1][i] > 0 && finishedOnDisk.finished[i]) paidTwice++;
        if (paidTwice) problems.push(`${paidTwice} trajectories the first run had finished were asked again`);
      } else {
        runs.push(await first.exited);
        problems.push('the first run ended before it could be killed');
      }
    } else runs.push(await first.exited);
  } finally {
    await server.close();
  }

  let askedAgain = 0;
  let answeredThenAskedAgain = 0;
  for (let i = 0; i < n; i++) {
    if (asked[0][i] > 0 && asked[1][i] > 0) askedAgain++;
    if (answered[i] && asked[1][i] > 0) answeredThenAskedAgain++;
    if (asked[0][i] + asked[1][i] === 0) problems.push(`trajectory ${i} was never asked`);
  }
  if (askedAgain > opts.concurrency) problems.push(`${askedAgain} trajectories were asked in both runs: more than the ${opts.concurrency} that can be in flight`);
  if (unknown) problems.push(`${unknown} requests were for no input trajectory`);
  const last = runs[runs.length - 1];
  if (last.exitCode !== 0) problems.push(`the last run exited with ${last.exitCode ?? last.signal}`);

  const output = await checkOutput(inFile, outFile, problems);
  const { partial, journal } = resumeFiles(outFile);
  if (existsSync(partial) || existsSync(journal)) problems.push('the partial output or the journal is still there');

  const actual = { promptTokens: server.usageSent.prompt, completionTokens: server.usageSent.completion, cost: (server.usageSent.prompt * PRICE.prompt + server.usageSent.completion * PRICE.completion) / 1e6 };
  const wall = runs.reduce((s, r) => s + r.wallS, 0);
  return {
    trajectories: n,
    steps,
    inputMiB,
    concurrency: opts.concurrency,
    latencyMs: opts.latencyMs,
    dryRun,
    runs,
    kill,
    requests: { total: perRun[0] + perRun[1], perRun: runs.length > 1 ? perRun : [perRun[0]] },
    askedAgain,
    paidTwice,
    answeredThenAskedAgain,
    output,
    actual,
    trajectoriesPerMinute: n / (wall / 60),
    problems,
  };
}

/** What the killed run had recorded as finished: the partial output's complete lines and the journal's entries. */
async function finishedByFirstRun(outFile: string, n: number): Promise<{ finished: Uint8Array; count: number }> {
  const finished = new Uint8Array(n);
  const { partial, journal } = resumeFiles(outFile);
  let i = 0;
  if (existsSync(partial)) for await (const line of fileLines(partial)) if (line.complete) finished[i++] = 1;
  if (existsSync(journal)) {
    for await (const { bytes, complete } of fileLines(journal)) {
      if (!complete) continue;
      const e = JSON.parse(bytes.toString('utf8')) as { i?: number };
      if (typeof e.i === 'number') finished[e.i] = 1;
    }
  }
  return { finished, count: finished.reduce((s, v) => s + v, 0) };
}

/** Reads input and output side by side: same ids in the same order, one more selection each, by the oracle. */
async function checkOutput(inFile: string, outFile: string, problems: string[]): Promise<ScaleReport['output']> {
  const output = { lines: 0, inOrder: true, labelled: 0, failed: 0 };
  if (!existsSync(outFile)) {
    problems.push(`no output ${outFile}`);
    output.inOrder = false;
    return output;
  }
  const input = readTrajectoryFile(inFile);
  for await (const t of readTrajectoryFile(outFile)) {
    const expected = await input.next();
    output.lines++;
    if (expected.done || expected.value.id !== t.id) {
      if (output.inOrder) problems.push(`output line ${output.lines} is "${t.id}", the input's is ${expected.done ? 'past its end' : `"${expected.value.id}"`}`);
      output.inOrder = false;
      continue;
    }
    const added = t.selections.length - expected.value.selections.length;
    const sel = t.selections[t.selections.length - 1];
    if (added !== 1 || sel.selector !== 'oracle:mock-1') problems.push(`output line ${output.lines} ("${t.id}") has ${added} new selections`);
    if (sel.status === 'labelled') output.labelled++;
    else output.failed++;
  }
  const rest = await input.next();
  if (!rest.done) problems.push(`the output ends after ${output.lines} trajectories; the input has more`);
  return output;
}

export function formatReport(r: ScaleReport): string {
  const mib = (x: number) => `${x.toFixed(0)} MiB`;
  const lines = [
    `trajectories        ${r.trajectories} (${r.steps} steps, ${r.inputMiB.toFixed(1)} MiB of JSONL), concurrency ${r.concurrency}, latency ${r.latencyMs[0]}–${r.latencyMs[1]} ms a reply, ${FAULT_RATE * 100} % faults`,
    `dry run             ${r.dryRun.promptTokens} prompt + ${r.dryRun.completionTokens} completion tokens (estimated), cost $${r.dryRun.cost.toFixed(2)} at $${PRICE.prompt}/$${PRICE.completion} per 1M (${r.dryRun.wallS.toFixed(1)} s)`,
    ...r.runs.map((run, i) => `run ${i + 1}               ${run.wallS.toFixed(1)} s, peak RSS ${mib(run.peakRssMiB)}, ${run.signal ? `killed (${run.signal})` : `exit ${run.exitCode}`}, ${r.requests.perRun[i] ?? 0} requests`),
  ];
  if (r.kill) lines.push(`at the kill         ${r.kill.answered} answered, ${r.kill.openRequests} requests open at the endpoint, ${r.kill.finishedOnDisk} finished on disk`);
  lines.push(
    `asked in both runs  ${r.askedAgain} trajectories (at most one per lane: ${r.concurrency}; ${r.answeredThenAskedAgain} of them had had a 200 reply before the kill: unusable, or not yet recorded); finished before the kill and asked again: ${r.paidTwice}`,
    `requests            ${r.requests.total} (${(r.requests.total / r.trajectories).toFixed(3)} a trajectory)`,
    `output              ${r.output.lines} lines, ${r.output.inOrder ? 'in input order' : 'NOT in input order'}, ${r.output.labelled} labelled, ${r.output.failed} failed`,
    `actual usage        ${r.actual.promptTokens} + ${r.actual.completionTokens} tokens, cost $${r.actual.cost.toFixed(2)}`,
    `throughput          ${r.trajectoriesPerMinute.toFixed(0)} trajectories/minute over both runs (process start-up included)`,
    r.problems.length ? `PROBLEMS (${r.problems.length}):\n  ${r.problems.slice(0, 20).join('\n  ')}` : 'all checks passed',
  );
  return lines.join('\n');
}
