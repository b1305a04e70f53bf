// atlas experiment — trains several arms side by side (headless, in Node) and prints a
// table shaped like the paper's: arm × held-out loss / next-action accuracy / success.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../main.ts';
import { intOption, numberOption, parseCommandArgs } from '../args.ts';
import { ARMS, type Arm } from '../../data/arms.ts';
import { parseTrajectoriesJsonl, type JsonlIssue } from '../../data/jsonl.ts';
import { BINARY_FILE_REASON, looksBinary } from '../../data/lines.ts';
import type { Trajectory } from '../../data/trajectory.ts';
import { getPreset } from '../../../models/presets.ts';
import { createGpuContext } from '../../engine/device.ts';
import { loadModelFromArg } from '../model-policy.ts';
import type { DataSource, EvalMetrics, ExperimentConfig, ExperimentEvent } from '../../experiment/protocol.ts';
import { experimentPreset } from '../../experiment/presets.ts';
import { ExperimentSession } from '../../experiment/session.ts';

const HELP = `usage: atlas experiment [--arms critical,full] [--model preset:NAME|<hf-folder>|<model.bin>]
       [--envs household,grid | --data <trajectories.jsonl>] [--selector heuristic|ground-truth|NAME]
       [--budget 0.3] [--steps N] [--batch B] [--seq T] [--lr LR] [--warmup N] [--accum N] [--seed S]
       [--train-episodes N] [--heldout-episodes N] [--eval-every N] [--rollout-every N] [--rollout-episodes N]
       [--next-action N] [--rollout-max-steps N] [--turn-tokens N] [--json] [--out results.json]
  All arms start from the same weights and see the same examples in the same order; only the
  loss weights differ. --json prints every event as a JSON line. Every default is the
  playground's Quick demo (src/experiment/presets.ts): arms critical,full; model preset:tiny;
  household + grid, 32 training and 4 held-out episodes per environment, seed 1; heuristic
  labels, budget 0.3; 120 steps of batch 2 × 512, lr 5e-3; evaluation every 30 steps with 8
  next-action queries; at the end 2 rollout episodes per environment and split, at most 16
  turns each (within 16 turns the built-in expert solves ≈ 94 % held-in and 62 % held-out;
  the table prints its rate on the same episodes). Larger evaluations (--next-action,
  --rollout-episodes, --rollout-max-steps) take minutes on a software adapter.`;

const OPTIONS = {
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
  'turn-tokens': { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Options = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** The run the options describe: every option left out keeps the playground's Quick demo value. */
export function experimentConfigFromOptions(v: Options): ExperimentConfig {
  const c = 'experiment';
  // Every default is the playground's Quick demo (src/experiment/presets.ts).
  const quick = experimentPreset('quick-demo');
  const quickData = quick.data as Extract<DataSource, { kind: 'builtin' }>;
  const arms = (v.arms ?? quick.arms.join(',')).split(',').map((s) => s.trim()) as Arm[];
  for (const a of arms) if (!ARMS.includes(a)) throw new Error(`unknown arm "${a}" (arms: ${ARMS.join(', ')})`);
  const modelArg = v.model ?? `preset:${(quick.model as { name: string }).name}`;
  const seed = intOption(c, v.seed, 'seed', quick.seed);
  const steps = intOption(c, v.steps, 'steps', quick.hyper.steps);
  if (steps < 1) throw new Error(`--steps must be at least 1 (got ${steps})`);
  const rolloutMaxSteps = v['rollout-max-steps'] !== undefined ? intOption(c, v['rollout-max-steps'], 'rollout-max-steps', 0) : quick.rolloutMaxSteps;
  return {
    name: 'cli',
    arms,
    model: modelArg.startsWith('preset:') ? { kind: 'preset', name: modelArg.slice(7) } : { kind: 'url', url: path.resolve(modelArg) },
    data: v.data
      ? { kind: 'dataset', datasetId: path.resolve(v.data) }
      : {
          kind: 'builtin',
          envs: (v.envs ?? quickData.envs.join(',')).split(',').map((s) => s.trim()),
          trainEpisodes: intOption(c, v['train-episodes'], 'train-episodes', quickData.trainEpisodes),
          heldOutEpisodes: intOption(c, v['heldout-episodes'], 'heldout-episodes', quickData.heldOutEpisodes),
          seed,
          mistakeRate: quickData.mistakeRate,
        },
    hyper: {
      ...quick.hyper,
      steps,
      batchSize: intOption(c, v.batch, 'batch', quick.hyper.batchSize),
      seqLen: intOption(c, v.seq, 'seq', quick.hyper.seqLen),
      lr: numberOption(c, v.lr, 'lr', quick.hyper.lr),
      warmupSteps: intOption(c, v.warmup, 'warmup', Math.min(quick.hyper.warmupSteps, Math.floor(steps / 10))),
      accumSteps: intOption(c, v.accum, 'accum', quick.hyper.accumSteps),
    },
    selector: v.selector ?? quick.selector,
    budget: numberOption(c, v.budget, 'budget', quick.budget),
    seed,
    evalEvery: intOption(c, v['eval-every'], 'eval-every', quick.evalEvery),
    rolloutEvery: intOption(c, v['rollout-every'], 'rollout-every', quick.rolloutEvery),
    rolloutEpisodes: intOption(c, v['rollout-episodes'], 'rollout-episodes', quick.rolloutEpisodes),
    nextActionQueries: intOption(c, v['next-action'], 'next-action', quick.nextActionQueries ?? 32),
    ...(v['turn-tokens'] !== undefined ? { maxTurnTokens: intOption(c, v['turn-tokens'], 'turn-tokens', 48) } : quick.maxTurnTokens !== undefined ? { maxTurnTokens: quick.maxTurnTokens } : {}),
    ...(rolloutMaxSteps ? { rolloutMaxSteps } : {}),
  };
}

/** Refuses a model argument that cannot load (an unknown preset name, a missing path) before any GPU work. */
export function checkModelArg(arg: string): void {
  if (arg.startsWith('preset:')) getPreset(arg.slice('preset:'.length));
  else if (!existsSync(arg)) throw new Error(`model path ${arg} does not exist`);
}

/** The --data file's trajectories, read before any GPU work: a binary file, or one without a
 *  single trajectory, is refused with one message instead of an error per line. */
export function datasetFromText(text: string, file: string): { trajectories: Trajectory[]; issues: JsonlIssue[] } {
  const convert = 'expected trajectories JSONL (convert other formats with "atlas import")';
  if (looksBinary(text)) throw new Error(`--data ${file}: ${BINARY_FILE_REASON}: ${convert}`);
  const parsed = parseTrajectoriesJsonl(text, file, false);
  if (parsed.trajectories.length === 0) {
    const first = parsed.issues[0];
    throw new Error(`--data ${file}: no trajectory in the file (${first ? `line ${first.line}: ${first.reason}` : 'it is empty'}); ${convert}`);
  }
  return parsed;
}

export const command: Command = {
  summary: 'train several arms (critical, full, random, rejected, highest-loss) side by side and compare them',
  async run(argv) {
    const { values: v } = parseCommandArgs('experiment', argv, OPTIONS);
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    const config = experimentConfigFromOptions(v);
    const modelArg = v.model ?? `preset:${(config.model as { name: string }).name}`;
    const seed = config.seed;
    const steps = config.hyper.steps;
    // Everything that can be refused is checked before the GPU is opened.
    checkModelArg(modelArg);
    const dataset = v.data !== undefined ? datasetFromText(readFileSync(v.data, 'utf8'), v.data) : undefined;
    for (const i of dataset?.issues ?? []) console.error(`warning: ${i.file}:${i.line}: ${i.reason}`);
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
        if (dataset && file === path.resolve(v.data!)) return dataset.trajectories;
        return datasetFromText(readFileSync(file, 'utf8'), file).trajectories;
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
      const expert = results.find((r) => r.eval?.expertSuccessHeldIn !== undefined || r.eval?.expertSuccessHeldOut !== undefined)?.eval;
      if (expert) console.log(`${'expert'.padEnd(13)}${''.padStart(11)}${''.padStart(15)}${''.padStart(14)}${''.padStart(13)}${fmt(expert.expertSuccessHeldIn, true).padStart(14)}${fmt(expert.expertSuccessHeldOut, true).padStart(15)}   (the built-in expert on the same episodes and turn cap)`);
      if (results[0]?.eval?.rolloutSeeds) console.log(`rollout seeds: ${results[0].eval.rolloutSeeds.join(', ')}`);
    }
    if (v.out) writeFileSync(v.out, JSON.stringify({ config, results, evals }, null, 2) + '\n');
    return 0;
  },
};
