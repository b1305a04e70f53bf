// Restarting a built-in environment inside a recorded demonstration: the replay reproduces
// every recorded observation, refuses an edited record by name and step, and the rollout loop
// lets a policy continue from the replayed state (src/envs/restart.ts).
import { describe, expect, it } from 'vitest';
import type { Trajectory } from '../../../src/data/trajectory.ts';
import { generateDemo } from '../../../src/envs/demo.ts';
import { ENVIRONMENTS, getEnv } from '../../../src/envs/registry.ts';
import { builtinOrigin, replayedStart, runRestarts } from '../../../src/envs/restart.ts';
import { modelPolicy, type GenerateBatch } from './text-policy.ts';
import { renderEpisodePrompt } from '../../../src/envs/episode-prompt.ts';
import type { EpisodeState, Policy } from '../../../src/envs/policy.ts';

const demo = (env: string, seed: number): Trajectory => {
  const def = getEnv(env);
  return generateDemo(def, seed, def.taskTypes['held-in'].length ? 'held-in' : 'held-out', { mistakeRate: 0.3 });
};

/** A fake policy that records every call's episode states and babbles (an invalid action). */
function recordingPolicy(): Policy & { calls: EpisodeState[][] } {
  const calls: EpisodeState[][] = [];
  return { name: 'recording', calls, act: async (eps) => (calls.push(eps.map((e) => ({ ...e, steps: e.steps.slice() }))), eps.map(() => 'I am not sure.')) };
}

/** A fake policy that writes the recorded demonstration's next turn (so it can only succeed if
 *  the restarted state is exactly the recorded one). */
function scriptPolicy(t: Trajectory): Policy {
  return { name: 'script', act: async (eps) => eps.map((e) => t.steps[e.steps.length].agent) };
}

describe('replaying a demonstration', () => {
  for (const def of ENVIRONMENTS) {
    it(`${def.name}: every prefix replays with the recorded observations and history`, () => {
      for (const seed of [0, 1, 2]) {
        const t = demo(def.name, seed);
        for (let k = -1; k < t.steps.length; k++) {
          const s = replayedStart(t, k);
          expect(s.replayed).toBe(k + 1);
          expect(s.state.instruction).toBe(t.instruction);
          expect(s.state.steps).toEqual(t.steps.slice(0, k + 1));
          expect(s.state.lastObservation).toBe(k < 0 ? s.state.instruction.slice(-s.state.lastObservation.length) : t.steps[k].observation);
          expect(s.state.env.steps).toBe(k + 1);
          expect(s.done).toBe(k === t.steps.length - 1);
        }
      }
    });
  }

  it('refuses a tampered action, naming the trajectory and the step, before any policy call', async () => {
    const t = demo('household', 4);
    const tampered: Trajectory = { ...t, steps: t.steps.map((s, i) => (i === 2 ? { ...s, action: 'go to garbagecan 1', agent: 'Thought: x\nAction: go to garbagecan 1' } : s)) };
    expect(() => replayedStart(tampered, 1)).not.toThrow();
    expect(() => replayedStart(tampered, 3)).toThrow(new RegExp(`^trajectory "${t.id}" step 2: replaying "go to garbagecan 1" gives ".*", but the recorded observation is "${t.steps[2].observation.slice(0, 20)}`));
    const policy = recordingPolicy();
    // Even a restart before the tampered step is refused: the whole record is checked first.
    await expect(runRestarts([{ trajectory: tampered, afterStep: 0 }], policy)).rejects.toThrow(/step 2: replaying/);
    expect(policy.calls).toHaveLength(0);
  });

  it('refuses trajectories that are not built-in demonstrations, or whose record was edited', () => {
    const t = demo('grid', 3);
    expect(builtinOrigin(t)).toMatchObject({ split: 'held-in', seed: 3 });
    expect(() => builtinOrigin({ ...t, provenance: undefined })).toThrow(`trajectory "${t.id}": not a built-in demonstration`);
    expect(() => builtinOrigin({ ...t, id: 'grid/held-in/open/3', taskType: 'open' })).toThrow(/gives the task "grid\/held-in\/\w+\/3", not this one/);
    expect(() => builtinOrigin({ ...t, instruction: 'x' } as Trajectory)).not.toThrow();
    expect(() => replayedStart({ ...t, instruction: 'x' }, 0)).toThrow(`trajectory "${t.id}": the environment's instruction differs from the recorded one`);
    expect(() => replayedStart(t, t.steps.length)).toThrow(/cannot restart after step/);
  });
});

describe('continuing from a replayed state', () => {
  it('after the last step of a successful trajectory: success, no model turn', async () => {
    const t = demo('crafting', 5);
    expect(t.outcome?.success).toBe(true);
    const policy = recordingPolicy();
    const [r] = await runRestarts([{ trajectory: t, afterStep: t.steps.length - 1 }], policy);
    expect(policy.calls).toHaveLength(0);
    expect(r).toMatchObject({ success: true, steps: t.steps.length, replayedSteps: t.steps.length, invalidActions: 0 });
  });

  it('the policy sees the instruction and the replayed history, rendered as in evaluation; the cap counts its own turns', async () => {
    const t = demo('household', 7);
    const k = 3;
    const prompts: string[][] = [];
    const generate: GenerateBatch = async (ps) => (prompts.push(ps), ps.map(() => 'Thought: hmm.\nAction: look'));
    const [r] = await runRestarts([{ trajectory: t, afterStep: k }], modelPolicy(generate), { maxSteps: 2 });
    expect(prompts[0][0]).toBe(renderEpisodePrompt(t.instruction, t.steps.slice(0, k + 1)));
    expect(prompts).toHaveLength(2);
    expect(r.replayedSteps).toBe(k + 1);
    expect(r.steps).toBe(k + 3);
    expect(r.episode.steps.slice(0, k + 1)).toEqual(t.steps.slice(0, k + 1));
  });

  it('replaying the recorded continuation succeeds from every restart point; all restarts share policy calls', async () => {
    for (const def of ENVIRONMENTS) {
      const t = demo(def.name, 11);
      const restarts = Array.from({ length: t.steps.length }, (_, k) => ({ trajectory: t, afterStep: k - 1 }));
      const inner = scriptPolicy(t);
      const sizes: number[] = [];
      const counting: Policy = { name: 'counting', act: (eps) => (sizes.push(eps.length), inner.act(eps)) };
      const rs = await runRestarts(restarts, counting, { batchSize: restarts.length });
      expect(rs.every((r) => r.success)).toBe(true);
      expect(rs.map((r) => r.steps - r.replayedSteps)).toEqual(restarts.map((x) => t.steps.length - 1 - x.afterStep));
      expect(sizes[0]).toBe(restarts.length);
      expect(sizes).toHaveLength(t.steps.length);
    }
  });

  it('a restart from step −1 is the plain episode: the same result as a rollout from reset', async () => {
    const t = demo('grid', 2);
    const [a] = await runRestarts([{ trajectory: t, afterStep: null }], scriptPolicy(t));
    expect(a).toMatchObject({ success: true, steps: t.steps.length, replayedSteps: 0, seed: 2, split: 'held-in', taskType: t.taskType });
    expect(a.episode.steps.map((s) => s.observation)).toEqual(t.steps.map((s) => s.observation));
  });
});
