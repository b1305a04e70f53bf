// The restart test of a selection: which restarts run (categories, caps, seeds), how they are
// counted and judged against chance, and `atlas score --restart` with the random policy.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectedSteps, type Trajectory } from '../../../src/data/trajectory.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import type { EpisodeResult } from '../../../src/envs/rollout.ts';
import type { Policy } from '../../../src/envs/policy.ts';
import { applySelector } from '../../../src/experiment/data.ts';
import { planRestarts } from '../../../src/select/restart-plan.ts';
import { beyondChance, chanceStdErr, compareRates, comparisonSentence, formatRestartReport, summariseRestarts } from '../../../src/select/restart-report.ts';
import { restartPlan, runRestartTest } from '../../../src/select/restart-test.ts';
import { command as score } from '../../../src/cli/commands/score.ts';
import { makeTrajectory } from './fixtures.ts';

/** Built-in household demonstrations with the heuristic selection active (and ground truth kept beside it). */
function labelled(n: number): Trajectory[] {
  const ts = generateDemos(getEnv('household'), n, 1, 'held-in', { mistakeRate: 0.3 });
  applySelector(ts, 'ground-truth', 0.3);
  applySelector(ts, 'heuristic', 0.3);
  return ts;
}

const babble: Policy = { name: 'babble', act: async (eps) => eps.map(() => 'I am not sure.') };

describe('planning the restarts', () => {
  it('per trajectory: one from the start, the selected steps, as many random ones, as many rejected ones', () => {
    const ts = labelled(6);
    const plan = planRestarts(ts, { perTrajectory: 10 });
    expect(plan.trajectories).toEqual(ts.map((t) => t.id));
    for (const t of ts) {
      const mine = plan.points.filter((p) => p.trajectory === t);
      const of = (c: string) => mine.filter((p) => p.category === c).map((p) => p.afterStep!);
      const chosen = selectedSteps(t.selections.find((s) => s.selector === 'heuristic'));
      expect(mine.filter((p) => p.category === 'start').map((p) => p.afterStep)).toEqual([null]);
      expect(of('selected')).toEqual(chosen);
      expect(of('random')).toHaveLength(chosen.length);
      expect(new Set(of('random')).size).toBe(chosen.length);
      expect(of('random').every((k) => k >= 0 && k < t.steps.length)).toBe(true);
      expect(of('rejected')).toHaveLength(Math.min(chosen.length, t.steps.length - chosen.length));
      expect(of('rejected').some((k) => chosen.includes(k))).toBe(false);
    }
    const steps = ts.reduce((n, t) => n + t.steps.length, 0);
    const chosen = ts.reduce((n, t) => n + selectedSteps(t.selections.find((s) => s.selector === 'heuristic')).length, 0);
    expect(plan.available).toEqual({ start: 6, selected: chosen, random: steps, rejected: steps - chosen });
  });

  it('caps each category per trajectory, names the selection asked for, and is seeded', () => {
    const ts = labelled(8);
    const capped = planRestarts(ts, { perTrajectory: 1, selection: 'ground-truth' });
    for (const c of ['start', 'selected', 'random', 'rejected']) expect(capped.points.filter((p) => p.category === c)).toHaveLength(8);
    for (const p of capped.points.filter((x) => x.category === 'selected')) {
      expect(selectedSteps(p.trajectory.selections.find((s) => s.selector === 'ground-truth'))).toContain(p.afterStep);
    }
    const steps = (seed: number) => planRestarts(ts, { perTrajectory: 2, seed }).points.map((p) => p.afterStep);
    expect(steps(4)).toEqual(steps(4));
    expect(steps(4)).not.toEqual(steps(5));
  });

  it('takes the first N usable trajectories and says why others were passed over', () => {
    const ts = labelled(4);
    const other = makeTrajectory('imported-1');
    const unselected = { ...ts[0], id: ts[0].id, selections: [], activeSelection: undefined };
    const plan = planRestarts([other, unselected, ...ts.slice(1)], { episodes: 2 });
    expect(plan.trajectories).toEqual([ts[1].id, ts[2].id]);
    expect(plan.skipped).toEqual([
      { id: 'imported-1', reason: expect.stringMatching(/^not a built-in demonstration/) },
      { id: ts[0].id, reason: 'no labelled selection' },
    ]);
    expect(planRestarts(ts, { selection: 'oracle' }).skipped[0].reason).toBe('no labelled selection by "oracle"');
    // Ground truth is built from the roles when the trajectories do not store it.
    const heuristicOnly = ts.map((t) => ({ ...t, selections: t.selections.filter((x) => x.selector === 'heuristic') }));
    expect(planRestarts(heuristicOnly, { selection: 'ground-truth' }).trajectories).toEqual([]);
    const gt = restartPlan(heuristicOnly, { selection: 'ground-truth', perTrajectory: 10 });
    expect(gt.trajectories).toHaveLength(4);
    expect(gt.points.filter((p) => p.category === 'selected').map((p) => [p.trajectory.id, p.afterStep])).toEqual(
      planRestarts(ts, { selection: 'ground-truth', perTrajectory: 10 }).points.filter((p) => p.category === 'selected').map((p) => [p.trajectory.id, p.afterStep]),
    );
    expect(() => planRestarts(ts, { episodes: 0 })).toThrow(/episodes must be a positive integer/);
    expect(() => planRestarts(ts, { perTrajectory: 0 })).toThrow(/restarts per trajectory must be a positive integer/);
  });
});

describe('counting and judging', () => {
  it('rates with binomial standard errors, and differences judged against two plus-two standard errors', () => {
    const ts = labelled(4);
    const plan = planRestarts(ts, { perTrajectory: 3 });
    // Invented outcomes: every selected restart succeeds, nothing else does.
    const results = plan.points.map((p) => ({ success: p.category === 'selected', steps: (p.afterStep ?? -1) + 3, replayedSteps: (p.afterStep ?? -1) + 1 }) as EpisodeResult);
    const r = summariseRestarts(plan, results, { model: 'fake', maxSteps: 2 });
    const sel = r.categories.find((c) => c.category === 'selected')!;
    const k = plan.points.filter((p) => p.category === 'selected').length;
    expect(k).toBeGreaterThanOrEqual(6);
    expect(sel).toMatchObject({ restarts: k, successes: k, rate: 1, stdErr: 0, doneByReplay: 0, meanModelTurns: 2 });
    const start = r.categories.find((c) => c.category === 'start')!;
    expect(start).toMatchObject({ restarts: 4, successes: 0, rate: 0, meanReplayed: 0 });
    // 4/4 vs 0/2: plus-two rates 5/6 and 1/4.
    expect(chanceStdErr(4, 4, 0, 2)).toBeCloseTo(Math.sqrt(((5 / 6) * (1 / 6)) / 6 + (0.25 * 0.75) / 4), 12);
    expect(r.comparisons.map((c) => [c.second, c.difference, c.beyondChance])).toEqual([['start', 1, true], ['random', 1, true], ['rejected', 1, true]]);
    expect(comparisonSentence(r.comparisons[0])).toMatch(/^after selected steps vs from the start: \+100\.0 points \(standard error \d+\.\d\), more than two standard errors: unlikely to be chance$/);
    // One restart each: 1/1 against 0/1 is no evidence (adjusted 2/3 vs 1/3, standard error 0.38).
    expect(beyondChance(1, 1, 0, 1)).toBe(false);
    expect(beyondChance(10, 10, 0, 10)).toBe(true);
    // One success in three against none in three could easily be chance.
    const few = compareRates({ ...sel, restarts: 3, successes: 1, rate: 1 / 3 }, { ...start, restarts: 3, successes: 0, rate: 0 });
    expect(few).toMatchObject({ second: 'start', beyondChance: false });
    expect(few.difference).toBeCloseTo(1 / 3, 12);
    expect(comparisonSentence(few)).toMatch(/^after selected steps vs from the start: \+33\.3 points \(standard error 28\.3\), within two standard errors: could be chance/);
    expect(() => summariseRestarts(plan, results.slice(1), { model: 'fake' })).toThrow(/results for/);
  });

  it('the table names every category with its counts, and separates restarts the replay finished', async () => {
    // A hand selection of the plan and the completing step: restarting after the latter succeeds with no turn.
    const ts = labelled(3).map((t) => ({ ...t, selections: [...t.selections, { selector: 'manual', createdAt: '', status: 'labelled' as const, critical: [{ step: 0 }, { step: t.steps.length - 1 }] }], activeSelection: 'manual' }));
    const r = await runRestartTest(ts, babble, { perTrajectory: 20, maxSteps: 1 });
    const sel = r.categories.find((c) => c.category === 'selected')!;
    expect(sel.restarts).toBe(6);
    expect(sel.doneByReplay).toBe(3);
    expect(sel.successes).toBe(3);
    expect(r.categories.find((c) => c.category === 'start')).toMatchObject({ restarts: 3, successes: 0, meanModelTurns: 1 });
    const text = formatRestartReport(r);
    expect(text[0]).toBe('restart test: model babble, selection active, 3 trajectories, at most 20 restarts per trajectory and category, at most 1 model turn');
    expect(text[1]).toMatch(/^ {2}category +restarts +of +success +rate +± s\.e\. +done by replay +replayed +model turns$/);
    expect(text[3]).toMatch(new RegExp(`^ {2}after selected +${sel.restarts} +${sel.available} +3/${sel.restarts} +\\d+\\.\\d % +\\d+\\.\\d % +3 `));
    expect(text.at(-1)).toMatch(/^done by replay = .*without them: after selected 0\/\d+, after random 0\/\d+, after rejected 0\/\d+$/);
    await expect(runRestartTest([makeTrajectory('x')], babble)).rejects.toThrow(/^nothing to restart: none of the 1 trajectories is a built-in demonstration with a selection \(first: x: not a built-in/);
  });
});

describe('atlas score --restart', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-restart-'));
    await writeFile(path.join(dir, 'in.jsonl'), trajectoriesToJsonl(labelled(4)));
    return () => rm(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  async function run(argv: string[]) {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await score.run(argv);
    vi.restoreAllMocks();
    return { code, out };
  }

  it('prints the table with the counts, or one JSON object', async () => {
    const input = path.join(dir, 'in.jsonl');
    const table = await run(['--in', input, '--restart', '--model', 'random', '--episodes', '3', '--max-steps', '3', '--selection', 'ground-truth']);
    expect(table.code).toBe(0);
    expect(table.out[0]).toMatch(/^restart test: model random, selection ground-truth, 3 trajectories, at most 3 restarts per trajectory and category, at most 3 model turns$/);
    expect(table.out.filter((l) => /^ {2}(from the start|after selected|after random|after rejected) /.test(l))).toHaveLength(4);
    expect(table.out.some((l) => /^ran \d+ episodes in /.test(l))).toBe(true);
    const json = await run(['--in', input, '--restart', '--model', 'random', '--episodes', '2', '--max-steps', '2', '--json']);
    expect(json.out).toHaveLength(1);
    const { restart } = JSON.parse(json.out[0]);
    expect(restart).toMatchObject({ model: 'random', selection: 'active', trajectories: 2, perTrajectory: 3, maxSteps: 2 });
    expect(restart.categories.map((c: { category: string }) => c.category)).toEqual(['start', 'selected', 'random', 'rejected']);
    expect(restart.categories[0].restarts).toBe(2);
    expect(restart.comparisons).toHaveLength(3);
    expect(restart.restarts).toHaveLength(restart.categories.reduce((n: number, c: { restarts: number }) => n + c.restarts, 0));
    expect(restart.restarts[0]).toEqual({ id: expect.stringMatching(/^household\/held-in\//), category: 'start', afterStep: null, success: false, modelTurns: 2 });
  });

  it('refuses what it cannot do, naming the fix', async () => {
    const input = path.join(dir, 'in.jsonl');
    await expect(score.run(['--in', input, '--restart'])).rejects.toThrow(/missing required option --model/);
    await expect(score.run(['--in', input, '--restart', '--model', 'expert'])).rejects.toThrow(/expert cannot continue a replayed episode/);
    await expect(score.run(['--in', input, '--model', 'random'])).rejects.toThrow('--model only with --restart (atlas score)');
    await expect(score.run(['--in', input, '--restart', '--model', 'random', '--ground-truth'])).rejects.toThrow(/--restart tests one selection/);
    await expect(score.run(['--in', input, '--restart', '--model', 'random', '--episodes', '0'])).rejects.toThrow(/--episodes must be a positive integer/);
    // Data that cannot be restarted is refused before any model is loaded (this path does not exist).
    const imported = path.join(dir, 'imported.jsonl');
    await writeFile(imported, trajectoriesToJsonl([makeTrajectory('imported-1')]));
    await expect(score.run(['--in', imported, '--restart', '--model', path.join(dir, 'no-such-model')])).rejects.toThrow(/^nothing to restart: none of the 1 trajectories is a built-in demonstration with a selection \(first: imported-1: not a built-in demonstration/);
  });
});
