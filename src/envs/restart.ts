// Restarting a built-in environment inside a recorded demonstration: the task is rebuilt from
// the trajectory's provenance (environments are deterministic per env, task type, split and
// seed), the expert's actions of steps 0..k are replayed, and the rollout loop
// (runEpisodeSpecs) lets a policy continue from there. Every replayed observation must equal
// the recorded one, so a restart never continues from a state the expert was not in.
import type { Trajectory } from '../data/trajectory.ts';
import { demoId, DEMO_GENERATOR, EXPLORER_GENERATOR } from './demo.ts';
import { parseReAct } from './react.ts';
import { getEnv } from './registry.ts';
import { runEpisodeSpecs, type EpisodeResult, type EpisodeSpec, type EpisodeStart, type RolloutOptions } from './rollout.ts';
import type { Policy } from './policy.ts';
import type { EnvDefinition, Split } from './types.ts';

/** Where a built-in demonstration came from: enough to reset its environment with the same task. */
export interface BuiltinOrigin {
  def: EnvDefinition;
  split: Split;
  seed: number;
}

const BUILTIN_GENERATORS: readonly string[] = [DEMO_GENERATOR, EXPLORER_GENERATOR];

/** The environment, split and seed of a built-in demonstration, or why a trajectory is not one. */
export function originOrReason(t: Trajectory): BuiltinOrigin | string {
  const p = t.provenance;
  if (!p?.generator || !BUILTIN_GENERATORS.includes(p.generator)) return 'not a built-in demonstration (its provenance names no built-in generator), so its environment cannot be restarted';
  if (!t.env || p.seed === undefined || !p.split) return 'its provenance lacks the environment, seed or split';
  let def: EnvDefinition;
  try {
    def = getEnv(t.env);
  } catch (err) {
    return (err as Error).message;
  }
  const task = def.sampleTask(p.seed, p.split);
  // The id and task type are written from the task the seed gave: a mismatch means an edited record.
  const expected = demoId(def.name, p.split, task.taskType, p.seed);
  if (t.id !== expected || t.taskType !== task.taskType) return `its provenance (${def.name}, ${p.split}, seed ${p.seed}) gives the task "${expected}", not this one`;
  return { def, split: p.split, seed: p.seed };
}

/** The environment, split and seed of a built-in demonstration; throws saying why a trajectory is not one. */
export function builtinOrigin(t: Trajectory): BuiltinOrigin {
  const o = originOrReason(t);
  if (typeof o === 'string') throw new Error(`trajectory "${t.id}": ${o}`);
  return o;
}

/** The environment after the recorded actions of steps 0..lastStep, with those steps as the
 *  history. lastStep −1 is the reset state. Throws, naming the trajectory and the step, when a
 *  replayed observation differs from the recorded one or the episode ends early. */
export function replayedStart(t: Trajectory, lastStep: number): EpisodeStart {
  if (!Number.isInteger(lastStep) || lastStep < -1 || lastStep >= t.steps.length) {
    throw new Error(`trajectory "${t.id}" has ${t.steps.length} steps: cannot restart after step ${lastStep}`);
  }
  const { def, split, seed } = builtinOrigin(t);
  const task = def.sampleTask(seed, split);
  const env = def.create();
  const reset = env.reset(task);
  if (reset.instruction !== t.instruction) throw new Error(`trajectory "${t.id}": the environment's instruction differs from the recorded one`);
  const start: EpisodeStart = { state: { task, instruction: reset.instruction, steps: [], lastObservation: reset.observation, env }, replayed: 0, done: false, success: false, reward: 0 };
  for (let i = 0; i <= lastStep; i++) {
    if (start.done) throw new Error(`trajectory "${t.id}" step ${i}: the replayed episode already ended at step ${i - 1}`);
    const recorded = t.steps[i];
    const action = recorded.action ?? parseReAct(recorded.agent).action;
    if (action === null) throw new Error(`trajectory "${t.id}" step ${i}: the recorded turn has no action to replay`);
    const r = env.step(action);
    if (r.observation !== recorded.observation) {
      throw new Error(`trajectory "${t.id}" step ${i}: replaying "${action}" gives "${r.observation}", but the recorded observation is "${recorded.observation}"`);
    }
    start.state.steps.push({ ...recorded });
    start.state.lastObservation = r.observation;
    Object.assign(start, { replayed: i + 1, done: r.done, success: r.success, reward: r.reward });
  }
  return start;
}

/** One restart: a trajectory and the step after which the policy takes over (null: from the start). */
export interface RestartAt {
  trajectory: Trajectory;
  afterStep: number | null;
}

/** A rollout spec that starts after the replayed prefix. */
export function restartSpec({ trajectory, afterStep }: RestartAt): EpisodeSpec {
  const { def, split, seed } = builtinOrigin(trajectory);
  return { def, split, seed, start: () => replayedStart(trajectory, afterStep ?? -1) };
}

/** Runs every restart in shared batches (one policy call per turn for all live episodes).
 *  Each trajectory is replayed to its end first, so a bad record fails before any model call. */
export async function runRestarts(restarts: readonly RestartAt[], policy: Policy, opts: RolloutOptions = {}): Promise<EpisodeResult[]> {
  for (const t of new Set(restarts.map((r) => r.trajectory))) replayedStart(t, t.steps.length - 1);
  return runEpisodeSpecs(restarts.map(restartSpec), policy, opts);
}
