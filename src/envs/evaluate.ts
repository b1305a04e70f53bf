// Evaluation of a policy over environments and splits: episode seeds seed..seed+n−1 per
// (environment, split); environments without tasks in a split are skipped with a reason.
import type { Policy } from './policy.ts';
import { buildReport, type EvalReport } from './report.ts';
import { runEpisodes, type EpisodeResult } from './rollout.ts';
import { SPLITS, type EnvDefinition, type Split } from './types.ts';

export interface EvaluateOptions {
  /** Agent turns per episode before it counts as failed (default: the environment's limit). */
  maxSteps?: number;
  episodes: number;
  seed?: number;
  splits?: readonly Split[];
  batchSize?: number;
}

export interface Evaluation {
  report: EvalReport;
  results: EpisodeResult[];
  /** Why an (environment, split) pair was not run, e.g. crafting has no held-in tasks. */
  skipped: string[];
}

export async function evaluatePolicy(defs: readonly EnvDefinition[], policy: Policy, opts: EvaluateOptions): Promise<Evaluation> {
  if (!Number.isInteger(opts.episodes) || opts.episodes <= 0) throw new Error(`episodes must be a positive integer (got ${opts.episodes})`);
  const seed = opts.seed ?? 0;
  const seeds = Array.from({ length: opts.episodes }, (_, i) => seed + i);
  const results: EpisodeResult[] = [];
  const skipped: string[] = [];
  for (const def of defs) {
    for (const split of opts.splits ?? SPLITS) {
      if (def.taskTypes[split].length === 0) {
        skipped.push(`${def.name} has no ${split} tasks (${def.splitNote})`);
        continue;
      }
      results.push(...(await runEpisodes(def, seeds, split, policy, { batchSize: opts.batchSize, maxSteps: opts.maxSteps })));
    }
  }
  if (results.length === 0) throw new Error(`nothing to evaluate: ${skipped.join('; ')}`);
  return { report: buildReport(policy.name, results), results, skipped };
}
