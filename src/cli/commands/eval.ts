// `atlas eval`: roll out a policy (expert, random or a model) on held-in / held-out tasks and
// report success, reward, steps and invalid actions per environment and task type.
import type { Command } from '../main.ts';
import { booleanOptions, intOption, parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { resolveEnvs } from '../../envs/registry.ts';
import { SPLITS, type Split } from '../../envs/types.ts';
import { expertPolicy, randomPolicy, type Policy } from '../../envs/policy.ts';
import { loadModelPolicy } from '../model-arg.ts';
import { formatReport } from '../../envs/report.ts';
import { evaluatePolicy } from '../../envs/evaluate.ts';
import { parseSplit } from './env.ts';

const USAGE = 'usage: atlas eval --model <path|expert|random> --env <name|all> [--split held-in|held-out] --episodes N [--seed S] [--batch B] [--max-steps N] [--json]\n  --model: expert, random, an HF folder, a llama2.c .bin, preset:base (the shipped base agent) or preset:NAME (seeded random weights in that shape, a floor to compare with)';

/** What `--model` names: the expert, the random policy, or a model (also `atlas score --restart`). */
export async function policyFor(model: string, seed: number, batchSize?: number): Promise<Policy> {
  if (model === 'expert') return expertPolicy();
  if (model === 'random') return randomPolicy(seed);
  return loadModelPolicy(model, { seed, batchSize });
}

export const command: Command = {
  summary: 'evaluate a policy (expert, random, or a model) in the built-in environments',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('eval', argv, USAGE, {
      ...stringOptions('model', 'env', 'split', 'episodes', 'seed', 'batch', 'max-steps'),
      ...booleanOptions('json'),
    });
    if (!parsed) return 0;
    const { values } = parsed;
    const model = requireOption('eval', values.model, 'model');
    const defs = resolveEnvs(requireOption('eval', values.env, 'env'));
    const episodes = intOption('eval', requireOption('eval', values.episodes, 'episodes'), 'episodes', 0);
    if (episodes <= 0) throw new Error(`--episodes must be a positive integer (got ${episodes})`);
    const seed = intOption('eval', values.seed, 'seed', 0);
    const batchSize = intOption('eval', values.batch, 'batch', 16);
    if (batchSize <= 0) throw new Error(`--batch must be a positive integer (got ${batchSize})`);
    const splits: Split[] = values.split ? [parseSplit(values.split, 'held-in')] : SPLITS.slice();
    const maxSteps = values['max-steps'] === undefined ? undefined : intOption('eval', values['max-steps'], 'max-steps', 0);
    if (maxSteps !== undefined && maxSteps <= 0) throw new Error(`--max-steps must be a positive integer (got ${maxSteps})`);
    const policy = await policyFor(model, seed);
    const { report, skipped } = await evaluatePolicy(defs, policy, { episodes, seed, splits, batchSize, maxSteps });
    if (values.json) console.log(JSON.stringify({ ...report, skipped }, null, 2));
    else {
      console.log(formatReport(report));
      for (const s of skipped) console.log(`note: ${s}`);
    }
    return 0;
  },
};
