// Expert demonstrations: run an environment's expert on a sampled task and record the
// episode as a canonical Trajectory with the ground-truth role of every step.
import { TRAJECTORY_VERSION, type StepRole, type Step, type Trajectory } from '../data/trajectory.ts';
import { formatReAct } from './react.ts';
import type { DemonstratorStyle, EnvDefinition, Split } from './types.ts';

export const DEMO_GENERATOR = 'atlas-envs/expert@1';
/** The weaker, exploratory demonstrator the base agent is pretrained on (docs/base-agent.md). */
export const EXPLORER_GENERATOR = 'atlas-envs/explorer@1';

export interface DemoOptions {
  /** Probability of a mistake (followed by a self-correction) at each opportunity; default 0.15. */
  mistakeRate?: number;
  /** The demonstrator: the expert (default) or the explorer. */
  style?: DemonstratorStyle;
}

export function demoId(env: string, split: Split, taskType: string, seed: number): string {
  return `${env}/${split}/${taskType}/${seed}`;
}

/** One expert episode for an episode seed. Deterministic: same arguments, same bytes. */
export function generateDemo(def: EnvDefinition, seed: number, split: Split, opts: DemoOptions = {}): Trajectory {
  const task = def.sampleTask(seed, split);
  const env = def.create();
  const start = env.reset(task);
  const expert = def.createExpert(env, task, { mistakeRate: opts.mistakeRate ?? 0.15, seed, style: opts.style });
  const steps: Step[] = [];
  const roles: StepRole[] = [];
  let observation = start.observation;
  let result = { done: false, success: false, reward: 0 };
  while (!result.done) {
    const t = expert.next(observation);
    const r = env.step(t.action);
    steps.push({ agent: formatReAct(t.thought, t.action), thought: t.thought, action: t.action, observation: r.observation });
    roles.push(t.role);
    observation = r.observation;
    result = r;
  }
  // The turn that completes the task is decisive whatever the expert thought of it (e.g. the
  // last step of a walk that ends facing the goal).
  if (result.success && roles[roles.length - 1] === 'routine') roles[roles.length - 1] = 'action';
  const id = demoId(def.name, split, task.taskType, seed);
  return {
    version: TRAJECTORY_VERSION,
    id,
    source: { format: 'builtin', record: id },
    env: def.name,
    taskType: task.taskType,
    instruction: start.instruction,
    steps,
    selections: [],
    groundTruth: roles,
    outcome: { success: result.success, reward: result.reward },
    provenance: { generator: opts.style === 'explorer' ? EXPLORER_GENERATOR : DEMO_GENERATOR, seed, split, note: `task: ${start.task}; mistakeRate ${opts.mistakeRate ?? 0.15}` },
  };
}

/** n demonstrations with episode seeds seed, seed+1, … */
export function generateDemos(def: EnvDefinition, n: number, seed: number, split: Split, opts: DemoOptions = {}): Trajectory[] {
  return Array.from({ length: n }, (_, i) => generateDemo(def, seed + i, split, opts));
}
