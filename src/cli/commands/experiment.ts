// atlas experiment — trains several arms side by side (headless, in Node) and prints a
// table shaped like the paper's: arm × held-out loss / next-action accuracy / success.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../main.ts';
import { intOption, numberOption, parseCommandArgs } from '../args.ts';
import { ARMS, type Arm } from '../../data/arms.ts';
import { parseTrajectoriesJsonl } from '../../data/jsonl.ts';
import { createGpuContext } from '../../engine/device.ts';
import { loadModelFromArg } from '../model-policy.ts';
import type { EvalMetrics, ExperimentConfig, ExperimentEvent } from '../../experiment/protocol.ts';
import { ExperimentSession } from '../../experiment/session.ts';

const HELP = `usage: atlas experiment [--arms critical,full] [--model preset:NAME|<hf-folder>|<model.bin>]
       [--envs household,grid | --data <trajectories.jsonl>] [--selector heuristic|ground-truth|NAME]
       [--budget 0.3] [--steps N] [--batch B] [--seq T] [--lr LR] [--warmup N] [--accum N] [--seed S]
       [--train-episodes N] [--heldout-episodes N] [--eval-every N] [--rollout-every N] [--rollout-episodes N]
       [--next-action N] [--rollout-max-steps N] [--json] [--out results.json]
  All arms start from the same weights and see the same examples in the same order; only the
  loss weights differ. --json prints every event as a JSON line. Defaults are the playground's
  Quick demo (model preset:default, lr 2e-3, weight decay 0.01, household + grid, 32 training
  and 8 held-out episodes per environment, heuristic labels, 8 rollout episodes per split).
  The final evaluation (next-action generation and rollouts of up to the environment's step
  limit) can take minutes on a software adapter: --rollout-max-steps, --rollout-episodes and
  --next-action bound it.`;

export const command: Command = {
  summary: 'train several arms (critical, full, random, rejected, highest-loss) side by side and compare them',
  async run(argv) {
    const { values: v } = parseCommandArgs('experiment', argv, {
      arms: { type: 'string' },
      model: { type: 'string' },
      envs: { type: 'string' },
      data: { type: 'string' },
      selector: { type: 'string' },
      budget: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      seq: { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      accum: { type: 'string' },
      seed: { type: 'string' },
      'train-episodes': { type: 'string' },
      'heldout-episodes': { type: 'string' },
      'eval-every': { type: 'string' },
      'rollout-every': { type: 'string' },
      'rollout-episodes': { type: 'string' },
      'next-action': { type: 'string' },
      'rollout-max-steps': { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    const c = 'experiment';
    const arms = (v.arms ?? 'critical,full').split(',').map((s) => s.trim()) as Arm[];
    for (const a of arms) if (!ARMS.includes(a)) throw new Error(`unknown arm "${a}" (arms: ${ARMS.join(', ')})`);
    const modelArg = v.model ?? 'preset:default';
    const seed = intOption(c, v.seed, 'seed', 0);
    const steps = intOption(c, v.steps, 'steps', 150);
    if (steps < 1) throw new Error(`--steps must be at least 1 (got ${steps})`);
    const config: ExperimentConfig = {
      name: 'cli',
      arms,
      model: modelArg.startsWith('preset:') ? { kind: 'preset', name: modelArg.slice(7) } : { kind: 'url', url: path.resolve(modelArg) },
      data: v.data
        ? { kind: 'dataset', datasetId: path.resolve(v.data) }
        : {
            kind: 'builtin',
            envs: (v.envs ?? 'household,grid').split(',').map((s) => s.trim()),
            trainEpisodes: intOption(c, v['train-episodes'], 'train-episodes', 32),
            heldOutEpisodes: intOption(c, v['heldout-episodes'], 'heldout-episodes', 8),
            seed,
            mistakeRate: 0.15,
          },
      hyper: {
        steps,
        batchSize: intOption(c, v.batch, 'batch', 4),
        seqLen: intOption(c, v.seq, 'seq', 512),
        lr: numberOption(c, v.lr, 'lr', 2e-3),
        warmupSteps: intOption(c, v.warmup, 'warmup', Math.min(10, Math.floor(steps / 10))),
        minLrRatio: 0.1,
        weightDecay: 0.01,
        gradClip: 1,
        accumSteps: intOption(c, v.accum, 'accum', 1),
      },
      selector: v.selector ?? 'heuristic',
      budget: numberOption(c, v.budget, 'budget', 0.3),
      seed,
      evalEvery: intOption(c, v['eval-every'], 'eval-every', 0),
      rolloutEvery: intOption(c, v['rollout-every'], 'rollout-every', 0),
      rolloutEpisodes: intOption(c, v['rollout-episodes'], 'rollout-episodes', 8),
      nextActionQueries: intOption(c, v['next-action'], 'next-action', 32),
      ...(v['rollout-max-steps'] ? { rolloutMaxSteps: intOption(c, v['rollout-max-steps'], 'rollout-max-steps', 0) } : {}),
    };
    const ctx = await createGpuContext();
    const evals: EvalMetrics[] = [];
    const every = Math.max(1, Math.floor(steps / 10));
    const emit = (e: ExperimentEvent) => {
      if (e.kind === 'eval') evals.push(e);
      if (v.json) console.log(JSON.stringify(e));
      else if (e.kind === 'train' && (e.step % every === 0 || e.step === steps)) console.log(`step ${e.step}  ${e.arm.padEnd(12)} loss ${e.loss.toFixed(4)}  ${e.tokensPerSecond.toFixed(0)} tokens/s`);
      else if (e.kind === 'log' || e.kind === 'error') console.error(`${e.kind}: ${e.message}`);
      else if (e.kind === 'status' && e.state !== 'training') console.error(`status: ${e.state}${e.message ? ` (${e.message})` : ''}`);
    };
    const session = new ExperimentSession(config, {
      ctx,
      emit,
      resolveModel: () => loadModelFromArg(modelArg, seed),
      loadDataset: async (file) => {
        const { trajectories, issues } = parseTrajectoriesJsonl(readFileSync(file, 'utf8'), file, false);
        for (const i of issues) console.error(`warning: ${JSON.stringify(i)}`);
        return trajectories;
      },
    });
    const results = await session.run();
    session.dispose();
    ctx.device.destroy();
    const fmt = (x: number | undefined, pct = false) => (x === undefined || Number.isNaN(x) ? '—' : pct ? `${(x * 100).toFixed(1)}%` : x.toFixed(4));
    if (!v.json) {
      console.log(`\n${'arm'.padEnd(13)}${'train loss'.padStart(11)}${'held-out crit'.padStart(15)}${'held-out all'.padStart(14)}${'next action'.padStart(13)}${'held-in succ'.padStart(14)}${'held-out succ'.padStart(15)}`);
      for (const r of results) {
        const e = r.eval;
        console.log(`${r.arm.padEnd(13)}${fmt(r.finalLoss).padStart(11)}${fmt(e?.heldOutLossCritical).padStart(15)}${fmt(e?.heldOutLossAll).padStart(14)}${fmt(e?.nextActionAccuracy, true).padStart(13)}${fmt(e?.successHeldIn, true).padStart(14)}${fmt(e?.successHeldOut, true).padStart(15)}`);
      }
      if (results[0]?.eval?.rolloutSeeds) console.log(`rollout seeds: ${results[0].eval.rolloutSeeds.join(', ')}`);
    }
    if (v.out) writeFileSync(v.out, JSON.stringify({ config, results, evals }, null, 2) + '\n');
    return 0;
  },
};
