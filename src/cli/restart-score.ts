// `atlas score --restart`: the restart test of a selection with a model (src/select/restart-test.ts),
// printed as a table with one sentence per comparison, or as one JSON object with --json.
import type { Trajectory } from '../data/trajectory.ts';
import { restartablePlan, runPlannedRestarts } from '../select/restart-test.ts';
import { formatRestartReport } from '../select/restart-report.ts';
import { DEFAULT_RESTARTS_PER_TRAJECTORY } from '../select/restart-plan.ts';
import { intOption, requireOption } from './args.ts';
import { policyFor } from './commands/eval.ts';

export const RESTART_HELP = `atlas score --in <labelled.jsonl> --restart --model <model> [--episodes N] [--seed S] [--max-steps N]
    [--selection NAME] [--per-trajectory N] [--batch B] [--json]
  The paper's restart test: replay the expert's actions up to and including a step, let the model
  continue, record success — after the selection's steps, as many random steps, as many rejected
  (unselected) steps, and from the start. Built-in demonstrations only (atlas env demo).
  --model           preset:NAME, an HF folder, a llama2.c .bin (as atlas eval), or random (a floor)
  --episodes N      trajectories to use: the first N that can be restarted (default 8)
  --per-trajectory  most restarts per trajectory in each category (default ${DEFAULT_RESTARTS_PER_TRAJECTORY})
  --max-steps N     most turns the model writes per restart (default: the environment's step limit)
  --selection NAME  which selection (default: each trajectory's active one; --selector works too);
                    ground-truth is built from the demonstrations' roles (budget 0.3) when not stored
  --seed S          seed of the random / rejected samples and of the model's random init (default 0)`;

/** The options of the restart path, as score's parser gives them. */
export interface RestartArgs {
  model?: string;
  episodes?: string;
  seed?: string;
  'max-steps'?: string;
  selection?: string;
  'per-trajectory'?: string;
  batch?: string;
  json?: boolean;
}

/** Flags that mean something only with --restart. */
export const RESTART_ONLY_FLAGS = ['model', 'episodes', 'seed', 'max-steps', 'selection', 'per-trajectory', 'batch', 'json'] as const;

function positive(value: string | undefined, flag: string, fallback: number): number {
  const n = intOption('score', value, flag, fallback);
  if (n <= 0) throw new Error(`--${flag} must be a positive integer (got ${value})`);
  return n;
}

/** Writes "restart: done/total episodes" to stderr when the count moves (at most once a second),
 *  every 30 s while it does not, and at the end. */
function progressPrinter(): (done: number, total: number) => void {
  let last = 0;
  let lastDone = -1;
  return (done, total) => {
    const now = Date.now();
    const due = done === total || (done !== lastDone ? now - last >= 1000 : now - last >= 30_000);
    if (!due || (done === total && lastDone === total)) return;
    [last, lastDone] = [now, done];
    process.stderr.write(`restart: ${done}/${total} episodes\n`);
  };
}

export async function runRestartScore(ts: readonly Trajectory[], args: RestartArgs): Promise<number> {
  const model = requireOption('score', args.model, 'model');
  // The built-in expert plans from an episode's first observation: it cannot take over mid-episode.
  if (model === 'expert') throw new Error('--model expert cannot continue a replayed episode (the expert plans from the first observation): give a model, or random for a floor');
  const seed = intOption('score', args.seed, 'seed', 0);
  const maxSteps = args['max-steps'] === undefined ? undefined : positive(args['max-steps'], 'max-steps', 0);
  const batchSize = positive(args.batch, 'batch', 16);
  // Options and data are checked before the model loads (seconds on a software adapter).
  const plan = restartablePlan(ts, {
    selection: args.selection,
    episodes: positive(args.episodes, 'episodes', 8),
    perTrajectory: positive(args['per-trajectory'], 'per-trajectory', DEFAULT_RESTARTS_PER_TRAJECTORY),
    seed,
  });
  const started = Date.now();
  const policy = await policyFor(model, seed, batchSize);
  const report = await runPlannedRestarts(plan, policy, { selection: args.selection, maxSteps, batchSize, onProgress: progressPrinter() });
  const seconds = (Date.now() - started) / 1000;
  if (args.json) {
    console.log(JSON.stringify({ restart: report, seconds }));
    return 0;
  }
  for (const line of formatRestartReport(report)) console.log(line);
  const episodes = report.categories.reduce((n, c) => n + c.restarts, 0);
  console.log(`ran ${episodes} episodes in ${seconds.toFixed(1)} s; "of" = steps available before the cap; standard errors treat restarts as independent (restarts of one trajectory are not quite)`);
  if (report.skipped.length) console.log(`  skipped ${report.skipped.length} trajectories (first: ${report.skipped[0].id}: ${report.skipped[0].reason})`);
  return 0;
}
