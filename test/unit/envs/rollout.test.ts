// Rollouts in ReAct form, policies (expert, random, injected model), and the report.
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, getEnv } from '../../../src/envs/registry.ts';
import { runEpisodes, runEpisodeSpecs, type EpisodeSpec } from '../../../src/envs/rollout.ts';
import { expertPolicy, randomPolicy, type Policy } from '../../../src/envs/policy.ts';
import { modelPolicy, type GenerateBatch } from './text-policy.ts';
import { buildReport, formatReport } from '../../../src/envs/report.ts';
import { parseReAct } from '../../../src/envs/react.ts';
import { renderEpisodePrompt } from '../../../src/envs/episode-prompt.ts';

const seeds = Array.from({ length: 40 }, (_, i) => i);

describe('ReAct parsing', () => {
  it('takes the first Action line and ignores what follows', () => {
    expect(parseReAct('Thought: find it.\nAction: go to cabinet 1\nObservation: made up')).toEqual({ thought: 'find it.', action: 'go to cabinet 1' });
    expect(parseReAct('Thought: multi\nline\nAction:  open fridge 1  ')).toEqual({ thought: 'multi\nline', action: 'open fridge 1' });
    expect(parseReAct('I will go to cabinet 1').action).toBeNull();
    expect(parseReAct('Thought: hmm\nAction:').action).toBeNull();
    expect(parseReAct('action: look').action).toBe('look');
  });
});

describe('rollouts', () => {
  for (const def of ENVIRONMENTS) {
    const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
    it(`${def.name}: the expert policy succeeds everywhere; random scores far below`, async () => {
      const expert = await runEpisodes(def, seeds, split, expertPolicy(), { batchSize: 8 });
      const random = await runEpisodes(def, seeds, split, randomPolicy(1), { batchSize: 8 });
      const rate = (rs: typeof expert) => rs.filter((r) => r.success).length / rs.length;
      expect(rate(expert)).toBe(1);
      expect(expert.every((r) => r.invalidActions === 0)).toBe(true);
      expect(rate(random)).toBeLessThan(0.5 * rate(expert));
      const meanReward = (rs: typeof expert) => rs.reduce((a, r) => a + r.reward, 0) / rs.length;
      expect(meanReward(random)).toBeLessThan(0.5 * meanReward(expert));
    });
  }

  it('an unparseable turn is an invalid action with the environment\'s usual reply, and uses a step', async () => {
    const replies: Record<string, string> = { household: 'Nothing happens.', grid: 'The action is not recognized. Please check valid actions.', crafting: 'Could not execute the command.' };
    for (const def of ENVIRONMENTS) {
      const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
      const babble: Policy = { name: 'babble', act: async (eps) => eps.map(() => 'I am not sure what to do.') };
      const [r] = await runEpisodes(def, [3], split, babble);
      expect(r.steps).toBe(def.create().stepLimit);
      expect(r.invalidActions).toBe(r.steps);
      expect(r.success).toBe(false);
      expect(r.episode.steps[0].observation).toBe(replies[def.name]);
      expect(def.create().invalidReply).toBe(replies[def.name]);
    }
  });

  it('a model policy renders prompts with the shared renderer and batches episodes', async () => {
    const def = getEnv('household');
    const calls: string[][] = [];
    // A fake model: always looks, with an invented observation the policy must cut off.
    const generate: GenerateBatch = async (prompts, opts) => {
      calls.push(prompts);
      expect(opts.stop).toContain('\nObservation:');
      return prompts.map(() => 'Thought: let me look.\nAction: look\nObservation: a dragon');
    };
    const results = await runEpisodes(def, [0, 1, 2, 3, 4], 'held-in', modelPolicy(generate), { batchSize: 5 });
    expect(calls[0]).toHaveLength(5);
    expect(calls).toHaveLength(def.create().stepLimit);
    const first = results[0].episode;
    expect(calls[0][0]).toBe(renderEpisodePrompt(first.instruction, []));
    expect(calls[1][0]).toBe(renderEpisodePrompt(first.instruction, first.steps.slice(0, 1)));
    expect(calls[1][0]).toContain('Human: You are in the middle of a room.'.slice(0, 10));
    expect(calls[1][0].endsWith('Assistant: ')).toBe(true);
    expect(first.steps[0].agent).toBe('Thought: let me look.\nAction: look');
    expect(results.every((r) => r.invalidActions === 0 && !r.success)).toBe(true);
  });


  it('the report aggregates per env, split and task type with seeds', async () => {
    const def = getEnv('grid');
    const results = [...(await runEpisodes(def, [0, 1, 2, 3], 'held-in', expertPolicy())), ...(await runEpisodes(def, [0, 1], 'held-out', randomPolicy()))];
    const rep = buildReport('mixed', results);
    const all = rep.rows.filter((r) => r.taskType === 'all');
    expect(all.map((r) => [r.split, r.episodes])).toEqual([['held-in', 4], ['held-out', 2]]);
    expect(all[0].successRate).toBe(1);
    const perType = rep.rows.filter((r) => r.split === 'held-in' && r.taskType !== 'all');
    expect(perType.reduce((a, r) => a + r.episodes, 0)).toBe(4);
    expect(perType.flatMap((r) => r.seeds).sort()).toEqual([0, 1, 2, 3]);
    const steps = results.slice(0, 4).reduce((a, r) => a + r.steps, 0) / 4;
    expect(all[0].meanSteps).toBeCloseTo(steps, 10);
    const text = formatReport(rep);
    expect(text).toMatch(/\ngrid +held-in +all +4 +100\.0%/);
    expect(text).toMatch(/episode seeds:\n {2}grid held-in /);
  });
});

describe('valid actions', () => {
  for (const def of ENVIRONMENTS) {
    const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
    it(`${def.name}: every action listed as valid is accepted (random walks over 30 episodes)`, async () => {
      let checked = 0;
      for (const seed of seeds.slice(0, 30)) {
        const env = def.create();
        env.reset(def.sampleTask(seed, split));
        let k = seed;
        for (let done = false; !done; ) {
          const valid = env.validActions();
          expect(valid.length).toBeGreaterThan(0);
          const a = valid[(k = (k * 1103515245 + 12345) >>> 0) % valid.length];
          const r = env.step(a);
          expect(r.valid, `${def.name} seed ${seed}: "${a}" → ${r.observation}`).toBe(true);
          checked++;
          done = r.done;
        }
      }
      expect(checked).toBeGreaterThan(300);
    });
  }
});

describe('evaluatePolicy', () => {
  it('runs every env × split with tasks, names what it skips, and rejects a bad episode count', async () => {
    const { evaluatePolicy } = await import('../../../src/envs/evaluate.ts');
    const ev = await evaluatePolicy(ENVIRONMENTS, expertPolicy(), { episodes: 3, seed: 10, batchSize: 2 });
    expect(ev.results).toHaveLength(3 * 5);
    expect(new Set(ev.results.map((r) => r.seed))).toEqual(new Set([10, 11, 12]));
    expect(ev.skipped).toEqual([expect.stringMatching(/^crafting has no held-in tasks/)]);
    expect(ev.report.rows.filter((r) => r.taskType === 'all').every((r) => r.successRate === 1)).toBe(true);
    await expect(evaluatePolicy([getEnv('crafting')], expertPolicy(), { episodes: 2, splits: ['held-in'] })).rejects.toThrow(/nothing to evaluate: crafting has no held-in tasks/);
    await expect(evaluatePolicy(ENVIRONMENTS, expertPolicy(), { episodes: 0 })).rejects.toThrow(/episodes must be a positive integer/);
  });
});

describe('command descriptions', () => {
  it('every environment describes its commands and starts each instruction with them', () => {
    for (const def of ENVIRONMENTS) {
      const env = def.create();
      const split = def.taskTypes['held-in'].length ? 'held-in' : 'held-out';
      const start = env.reset(def.sampleTask(0, split));
      expect(env.commands.length).toBeGreaterThan(100);
      expect(start.instruction.startsWith(env.commands + '\n\n')).toBe(true);
      expect(start.instruction.endsWith(start.observation)).toBe(true);
    }
  });
});

describe('rollout step cap', () => {
  it('ends episodes as failures after maxSteps turns, below the environment limit', async () => {
    const def = getEnv('household');
    const capped = await runEpisodes(def, [1, 2, 3], 'held-in', randomPolicy(1), { maxSteps: 2 });
    for (const r of capped) {
      expect(r.steps).toBeLessThanOrEqual(2);
      if (r.steps === 2) expect(r.success).toBe(false);
    }
    // The expert needs more than two turns: capped, it cannot finish.
    const expert = await runEpisodes(def, [1, 2, 3], 'held-in', expertPolicy(), { maxSteps: 2 });
    expect(expert.every((r) => !r.success && r.steps === 2)).toBe(true);
    // null (an emptied number field in the page) means no cap, like undefined.
    const uncapped = await runEpisodes(def, [1, 2, 3], 'held-in', expertPolicy(), { maxSteps: null as unknown as undefined });
    expect(uncapped.every((r) => r.success)).toBe(true);
  });
});

describe('mixed rollout batches', () => {
  it('steps episodes of every environment and split in one policy call, with the same results as separate runs', async () => {
    const specs: EpisodeSpec[] = [];
    for (const def of ENVIRONMENTS) for (const split of ['held-in', 'held-out'] as const) if (def.taskTypes[split].length) for (const seed of [5, 6]) specs.push({ def, seed, split });
    // Random actions (seeded per env/split/seed) make long, failing episodes too: both ends are covered.
    const inner = randomPolicy(3);
    const callSizes: number[] = [];
    const counting: Policy = { name: 'counting', act: (eps) => (callSizes.push(eps.length), inner.act(eps)) };
    const mixed = await runEpisodeSpecs(specs, counting, { batchSize: specs.length, maxSteps: 12 });
    // The first turn steps every episode together, whatever its environment.
    expect(callSizes[0]).toBe(specs.length);
    expect(callSizes.length).toBeLessThanOrEqual(12);
    expect(mixed.map((r) => [r.env, r.split, r.seed])).toEqual(specs.map((s) => [s.def.name, s.split, s.def.sampleTask(s.seed, s.split).seed]));
    for (const [i, s] of specs.entries()) {
      const [alone] = await runEpisodes(s.def, [s.seed], s.split, randomPolicy(3), { maxSteps: 12 });
      expect(JSON.stringify(mixed[i].episode.steps)).toBe(JSON.stringify(alone.episode.steps));
      expect([mixed[i].success, mixed[i].taskType]).toEqual([alone.success, alone.taskType]);
    }
    const expert = await runEpisodeSpecs(specs, expertPolicy(), { batchSize: 3 });
    expect(expert.every((r) => r.success)).toBe(true);
  });
});
