import { describe, expect, it } from 'vitest';
import { heuristicSelect, heuristicCandidates, targetWords } from '../../../src/select/heuristic.ts';
import { makeTrajectory } from './fixtures.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';

describe('heuristic selector', () => {
  it('finds the task target words', () => {
    expect(targetWords('You are in the middle of a room. Your task is to: put a clean apple in fridge.')).toEqual(['apple', 'fridge']);
  });

  it('marks plan, self-correction, the revealing observation and the final action, in that order', () => {
    const t = makeTrajectory('h', 12, { withMistake: true });
    expect(heuristicCandidates(t).map((c) => `${c.step}:${c.category}`)).toEqual(['0:plan', '2:self-correction', '10:observation', '11:action', '11:action']);
    // The candidates agree with the fixture's ground truth.
    for (const c of heuristicCandidates(t)) expect(t.groundTruth![c.step]).toBe(c.category);
  });

  it('respects the budget and records what it left out', () => {
    const t = makeTrajectory('h', 12, { withMistake: true });
    const r = heuristicSelect(t, 0.25); // floor(3) = 3
    expect(r.critical.map((c) => c.step)).toEqual([0, 2, 10]);
    expect(r.critical.every((c) => c.reason && c.category)).toBe(true);
    expect(r.repairs).toEqual(['budget: 3 step(s) allowed, left out 11 (action)']);
    expect(heuristicSelect(t, 0.1).critical.map((c) => c.step)).toEqual([0]);
  });

  it('ignores an observation that only echoes the action, and skips think-only final turns', () => {
    const t: Trajectory = {
      version: 1,
      id: 'e',
      source: { format: 'synthetic' },
      instruction: 'Your task is to: find a mug.',
      selections: [],
      steps: [
        { agent: 'go to mug shelf', action: 'go to mug shelf', observation: 'You see a mug shelf.' },
        { agent: 'open box', action: 'open box', observation: 'Inside the box you see a mug.' },
        { agent: 'take mug', action: 'take mug', observation: 'Done.' },
        { agent: 'think: finished', action: 'think: finished', observation: 'OK.' },
      ],
    };
    const c = heuristicCandidates(t);
    expect(c.find((x) => x.category === 'observation')?.step).toBe(2); // the turn after "Inside the box you see a mug."

    expect(c.find((x) => x.category === 'action')?.step).toBe(2);
    expect(c.find((x) => x.category === 'plan')).toBeUndefined();
  });
});
