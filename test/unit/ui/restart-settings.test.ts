// The Select step's restart panel: what it would run, planned on the page before anything
// starts, and settings fields that were emptied or hold fractions.
import { describe, expect, it } from 'vitest';
import { generateDemos } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { applySelector } from '../../../src/experiment/data.ts';
import { DEFAULT_RESTART_SETTINGS, previewPlan, usableSettings } from '../../../src/ui/restart-settings.ts';
import { makeTrajectory } from '../select/fixtures.ts';

describe('restart panel settings', () => {
  it('an emptied, zero or fractional field falls back to a whole number', () => {
    expect(usableSettings({ episodes: null as unknown as number, perTrajectory: 0, maxSteps: 7.6 })).toEqual({ episodes: DEFAULT_RESTART_SETTINGS.episodes, perTrajectory: DEFAULT_RESTART_SETTINGS.perTrajectory, maxSteps: 7 });
  });

  it('plans the run on the page: the first N built-in trajectories with the selection, ground truth built from roles', () => {
    const ts = [makeTrajectory('imported'), ...generateDemos(getEnv('grid'), 5, 100001, 'held-in')];
    applySelector(ts.slice(1), 'heuristic', 0.3);
    const plan = previewPlan(ts, 'heuristic', { episodes: 3, perTrajectory: 1, maxSteps: 5 }, 0);
    expect(plan.trajectories).toEqual(ts.slice(1, 4).map((t) => t.id));
    expect(plan.points).toHaveLength(3 * 4);
    expect(plan.skipped.map((s) => s.id)).toEqual(['imported']);
    expect(previewPlan(ts, 'ground-truth', { episodes: 2, perTrajectory: 1, maxSteps: 5 }, 0).trajectories).toHaveLength(2);
    expect(previewPlan(ts.slice(0, 1), 'heuristic', DEFAULT_RESTART_SETTINGS, 0).points).toEqual([]);
  });
});
