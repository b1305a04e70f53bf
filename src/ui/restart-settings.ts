// The Select step's restart-test settings and the restarts they would run on the open dataset
// (planned on the page, so the panel says how many before anything starts).
import type { Trajectory } from '../data/trajectory.ts';
import type { RestartPlan } from '../select/restart-plan.ts';
import { restartPlan } from '../select/restart-test.ts';

export interface RestartSettings {
  /** Trajectories to use (the first usable ones). */
  episodes: number;
  perTrajectory: number;
  /** Most model turns per restart. */
  maxSteps: number;
}

/** Small by default: every restart is a rollout of the model, and this runs before any training. */
export const DEFAULT_RESTART_SETTINGS: RestartSettings = { episodes: 4, perTrajectory: 2, maxSteps: 12 };

/** The settings as the test takes them: an emptied or fractional field falls back to a whole default. */
export function usableSettings(s: RestartSettings): RestartSettings {
  const whole = (x: number, fallback: number) => (Number.isFinite(x) && x >= 1 ? Math.floor(x) : fallback);
  return { episodes: whole(s.episodes, DEFAULT_RESTART_SETTINGS.episodes), perTrajectory: whole(s.perTrajectory, DEFAULT_RESTART_SETTINGS.perTrajectory), maxSteps: whole(s.maxSteps, DEFAULT_RESTART_SETTINGS.maxSteps) };
}

/** The restarts the test would run for this dataset, selection and settings (nothing runs). */
export function previewPlan(ts: readonly Trajectory[], selection: string, settings: RestartSettings, seed: number): RestartPlan {
  const { episodes, perTrajectory } = usableSettings(settings);
  return restartPlan(ts, { selection, episodes, perTrajectory, seed });
}
