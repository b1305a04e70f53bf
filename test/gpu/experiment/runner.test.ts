// The experiment runner on the software adapter: arms train side by side from the same
// weights, every step of every arm is reported, evaluation produces every metric, stop
// and checkpoint/resume work. Tiny model and few steps: this checks plumbing, not learning
// curves (those belong to `atlas experiment`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { prepareBuiltinData } from '../../../src/experiment/data.ts';
import { getPreset } from '../../../models/presets.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import type { BaselineMetrics, EvalMetrics, ExperimentConfig, ExperimentEvent, TrainMetrics } from '../../../src/experiment/protocol.ts';
import { resultsTable } from '../../../src/experiment/results.ts';
import { ExperimentRunner } from '../../../src/experiment/runner.ts';
import { tinyExperimentConfig } from './tiny-experiment.ts';
import type { Checkpoint, CheckpointStore } from '../../../src/experiment/checkpoint.ts';
import { runEpisodes } from '../../../src/envs/rollout.ts';
import { expertPolicy } from '../../../src/envs/policy.ts';
import { getEnv } from '../../../src/envs/registry.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

function config(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return tinyExperimentConfig(over);
}

function runner(cfg: ExperimentConfig, events: ExperimentEvent[], checkpoints?: CheckpointStore) {
  // A random-weights preset needs no files: its tokenizer is the bundled default.
  const model = { config: getPreset('tiny').config, label: 'tiny' };
  const tokenizer = defaultTokenizer();
  if (cfg.data.kind !== 'builtin') throw new Error('builtin data only here');
  const data = prepareBuiltinData(cfg.data, cfg.selector, cfg.budget);
  return new ExperimentRunner(cfg, { ctx, tokenizer, model, data, emit: (e) => events.push(e), checkpoints, checkpointKey: checkpoints ? 'k' : undefined });
}

describe('ExperimentRunner', () => {
  it('trains every arm at every step, interleaved, and evaluates all metrics', async () => {
    const events: ExperimentEvent[] = [];
    const r = runner(config({ rolloutEpisodes: 1, rolloutMaxSteps: 3 }), events);
    const results = await r.run();
    r.destroy();
    const train = events.filter((e): e is TrainMetrics => e.kind === 'train');
    for (const arm of ['critical', 'full'] as const) {
      const steps = train.filter((e) => e.arm === arm).map((e) => e.step);
      expect(steps).toEqual([1, 2, 3, 4]);
      const losses = train.filter((e) => e.arm === arm).map((e) => e.loss);
      expect(losses.every(Number.isFinite)).toBe(true);
      // A large learning rate on a few repeated batches: the loss must come down.
      expect(losses[3]).toBeLessThan(losses[0]);
    }
    // The critical arm supervises a subset of the full arm's turns.
    const last = (arm: string) => train.filter((e) => e.arm === arm).at(-1)!;
    expect(last('critical').supervisedTokens).toBeLessThan(last('full').supervisedTokens);
    const evals = events.filter((e): e is EvalMetrics => e.kind === 'eval');
    expect(evals.map((e) => e.arm).sort()).toEqual(['critical', 'full']);
    for (const e of evals) {
      expect(e.step).toBe(4);
      expect(Number.isFinite(e.heldOutLossCritical) && Number.isFinite(e.heldOutLossAll)).toBe(true);
      expect(e.nextActionAccuracy).toBeGreaterThanOrEqual(0);
      expect(e.nextActionAccuracy).toBeLessThanOrEqual(1);
      expect(typeof e.successHeldIn).toBe('number');
      expect(typeof e.successHeldOut).toBe('number');
      expect(e.rolloutSeeds?.length).toBe(1);
      // The expert's ceiling: the same episodes and the same 3-turn cap, run on their own.
      for (const split of ['held-in', 'held-out'] as const) {
        const alone = await runEpisodes(getEnv('grid'), e.rolloutSeeds!, split, expertPolicy(), { maxSteps: 3 });
        expect(split === 'held-in' ? e.expertSuccessHeldIn : e.expertSuccessHeldOut).toBe(alone.filter((x) => x.success).length / alone.length);
      }
    }
    expect(results.map((x) => x.arm)).toEqual(['critical', 'full']);
    const status = events.filter((e) => e.kind === 'status').at(-1);
    expect(status).toMatchObject({ kind: 'status', state: 'done' });
  });

  it('is reproducible: the same configuration gives the same losses', async () => {
    const losses = async () => {
      const events: ExperimentEvent[] = [];
      const r = runner(config({ hyper: { ...config().hyper, steps: 2 }, nextActionQueries: 0 }), events);
      await r.run();
      r.destroy();
      return events.filter((e): e is TrainMetrics => e.kind === 'train').map((e) => `${e.arm}:${e.step}:${e.loss}`);
    };
    expect(await losses()).toEqual(await losses());
  });

  it('stops when asked and reports it', async () => {
    const events: ExperimentEvent[] = [];
    const r = runner(config({ hyper: { ...config().hyper, steps: 50 } }), events);
    const done = r.run();
    while (!events.some((e) => e.kind === 'train')) await new Promise((res) => setTimeout(res, 20));
    r.stop();
    await done;
    r.destroy();
    expect(events.filter((e) => e.kind === 'train').length).toBeLessThan(100);
    expect(events.filter((e) => e.kind === 'status').at(-1)).toMatchObject({ state: 'stopped' });
  });

  it('saves checkpoints and resumes from one with the same weights', async () => {
    const saved: Checkpoint[] = [];
    const store: CheckpointStore = { save: async (cp) => void saved.push(cp), load: async () => saved.find((c) => c.step === 2) };
    const events: ExperimentEvent[] = [];
    const cfg = config({ evalEvery: 2, nextActionQueries: 0 });
    const r1 = runner(cfg, events, store);
    await r1.run();
    r1.destroy();
    expect(saved.map((c) => c.step)).toEqual([2, 4]);
    const eval2 = events.filter((e): e is EvalMetrics => e.kind === 'eval' && e.step === 2);
    // A resumed run starts at step 3 from the step-2 weights: its held-out loss at the first
    // evaluation it would make equals the original's at step 2.
    const resumedEvents: ExperimentEvent[] = [];
    const r2 = runner({ ...cfg, evalEvery: 1 }, resumedEvents, store);
    const held = r2.run(await store.load('k'));
    await held;
    r2.destroy();
    const firstTrain = resumedEvents.find((e): e is TrainMetrics => e.kind === 'train')!;
    expect(firstTrain.step).toBe(3);
    // Step 3's loss is computed before its update, from the step-2 weights and the same batch:
    // the resumed run must report the original run's step-3 losses.
    for (const arm of ['critical', 'full'] as const) {
      const original = events.find((e): e is TrainMetrics => e.kind === 'train' && e.arm === arm && e.step === 3)!;
      const resumed = resumedEvents.find((e): e is TrainMetrics => e.kind === 'train' && e.arm === arm && e.step === 3)!;
      expect(Math.abs(resumed.loss - original.loss)).toBeLessThan(1e-5 * original.loss);
    }
    // Counters continue from the checkpoint instead of restarting at zero.
    const before = saved[0].progress!.supervisedTokens[firstTrain.arm]!;
    expect(before).toBeGreaterThan(0);
    expect(firstTrain.supervisedTokens).toBeGreaterThan(before);
    expect(resumedEvents.some((e) => e.kind === 'log' && /resumed from the checkpoint at step 2/.test(e.message))).toBe(true);
    expect(eval2.length).toBe(2);
    const cpWeights = saved[0].arms.critical!;
    expect(cpWeights.length).toBeGreaterThan(0);
  });

  it('trains every arm with several training seeds: the first seed\'s run is unchanged, the table summarises the per-seed runs', async () => {
    const cfg = config({ arms: ['critical', 'random'], evalEvery: 2, nextActionQueries: 2 });
    const eventsOf = async (c: ExperimentConfig) => {
      const events: ExperimentEvent[] = [];
      const r = runner(c, events);
      await r.run();
      r.destroy();
      return events;
    };
    const two = await eventsOf({ ...cfg, seeds: 2 });
    const one = await eventsOf(cfg);
    const train = (events: ExperimentEvent[], seed: number) => events.filter((e): e is TrainMetrics => e.kind === 'train' && (e.trainSeed ?? 1) === seed);
    const evals = (events: ExperimentEvent[]) => events.filter((e): e is EvalMetrics => e.kind === 'eval');
    for (const arm of ['critical', 'random'] as const) {
      for (const seed of [1, 2]) expect(train(two, seed).filter((e) => e.arm === arm).map((e) => e.step)).toEqual([1, 2, 3, 4]);
      // Adding a seed leaves the first seed's run exactly as it was alone.
      const key = (e: TrainMetrics | EvalMetrics) => JSON.stringify({ ...e, tokensPerSecond: 0, elapsedMs: 0 });
      expect(train(two, 1).filter((e) => e.arm === arm).map(key)).toEqual(train(one, 1).filter((e) => e.arm === arm).map(key));
      expect(evals(two).filter((e) => e.arm === arm && e.trainSeed === 1).map(key)).toEqual(evals(one).filter((e) => e.arm === arm).map(key));
      // The second seed trains in another order: some step's loss differs.
      const l1 = train(two, 1).filter((e) => e.arm === arm).map((e) => e.loss);
      const l2 = train(two, 2).filter((e) => e.arm === arm).map((e) => e.loss);
      expect(l2).not.toEqual(l1);
    }
    // The base is measured once, before the first step, on the same yardsticks.
    const baselines = two.filter((e): e is BaselineMetrics => e.kind === 'baseline');
    expect(baselines).toHaveLength(1);
    expect(two.findIndex((e) => e.kind === 'baseline')).toBeLessThan(two.findIndex((e) => e.kind === 'train'));
    expect(Number.isFinite(baselines[0].heldOutLossCritical) && baselines[0].nextActionAccuracy !== undefined).toBe(true);
    // The table's mean and min–max are those of the per-seed evaluations at the last step.
    const table = resultsTable(evals(two), baselines[0], ['critical', 'random']);
    for (const row of table.rows) {
      expect(row.seeds).toEqual([1, 2]);
      const last = evals(two).filter((e) => e.arm === row.arm && e.step === 4).map((e) => e.heldOutLossAll);
      const cell = row.cells.heldOutLossAll!;
      expect(cell.n).toBe(2);
      expect(cell.min).toBe(Math.min(...last));
      expect(cell.max).toBe(Math.max(...last));
      expect(cell.mean).toBeCloseTo((last[0] + last[1]) / 2, 12);
    }
    expect(table.base?.heldOutLossAll).toBe(baselines[0].heldOutLossAll);
  });

  it('sizes a run by a wall-clock budget: measures the first steps, then takes what fits, the same for every arm', async () => {
    const runWith = async (timeBudgetSeconds: number) => {
      const events: ExperimentEvent[] = [];
      const r = runner(config({ hyper: { ...config().hyper, steps: 6 }, timeBudgetSeconds, nextActionQueries: 0 }), events);
      await r.run();
      r.destroy();
      const steps = (arm: string) => events.filter((e): e is TrainMetrics => e.kind === 'train' && e.arm === arm).map((e) => e.step);
      const note = events.find((e) => e.kind === 'log' && e.message.startsWith('time budget'));
      return { critical: steps('critical'), full: steps('full'), note: note?.kind === 'log' ? note.message : '', done: events.filter((e) => e.kind === 'status').at(-1) };
    };
    // Too small a budget: only the three measured steps, and it says so.
    const tight = await runWith(0.001);
    expect(tight.critical).toEqual([1, 2, 3]);
    expect(tight.full).toEqual([1, 2, 3]);
    expect(tight.note).toMatch(/^time budget 0\.001 s: 3 steps per arm fit — measured [\d.]+ s per step of all 2 runs/);
    expect(tight.done).toMatchObject({ state: 'done', totalSteps: 3 });
    // A large budget: every configured step.
    const ample = await runWith(1e6);
    expect(ample.critical).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ample.note).toMatch(/6 steps per arm fit \(the most this run allows\)/);
  });
});
