// atlas experiment — trains several arms side by side (headless, in Node) and prints a
// table shaped like the paper's: arm × held-out loss / next-action accuracy / success.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../main.ts';
import { booleanOptions, intOption, parseCommandArgsOrHelp, stringOptions } from '../args.ts';
import { settingOption, settingOptions, settingsUsage } from '../setting-options.ts';
import { ARMS, type Arm } from '../../data/arms.ts';
import { parseTrajectoriesJsonl, type JsonlIssue } from '../../data/jsonl.ts';
import { BINARY_FILE_REASON, looksBinary } from '../../data/lines.ts';
import type { Trajectory } from '../../data/trajectory.ts';
import { getPreset } from '../../../models/presets.ts';
import { createGpuContext } from '../../engine/device.ts';
import { loadModelFromArg } from '../model-arg.ts';
import { failureMessage, isFailure, type BaselineMetrics, type DataSource, type EvalMetrics, type ExperimentConfig, type ExperimentEvent } from '../../experiment/protocol.ts';
import { EXPERIMENT_PRESET_NAMES, experimentPreset, type ExperimentPresetName } from '../../experiment/presets.ts';
import { MEASURES, bestAndTies, formatSpread, resultsTable, spreadOf, type ResultsTable } from '../../experiment/results.ts';
import { summarizeResults } from '../../experiment/summary.ts';
import { ExperimentSession } from '../../experiment/session.ts';
import { getSetting, SETTINGS, setSettingValue } from '../../experiment/settings-spec.ts';
import { parseLoraTargets } from '../../engine/lora.ts';
import { fileCheckpointStore } from '../checkpoint-files.ts';

const SETTING_OPTIONS = SETTINGS.filter((x) => x.commands.includes('experiment'));

export const EXPERIMENT_USAGE = `usage: atlas experiment [--preset quick-demo|paper-arms|byod] [--arms critical,full] [--model preset:NAME|<hf-folder>|<model.bin>]
       [--envs household,grid | --data <trajectories.jsonl>] [--selector heuristic|ground-truth|NAME]
       [--train-episodes N] [--heldout-episodes N] [--json] [--out results.json] [--lora-targets q,k,v,o,gate,up,down]
       [--checkpoints DIR [--resume]]
${settingsUsage(SETTING_OPTIONS)}
  All arms start from the same weights and see the same examples in the same order; only the
  loss weights differ. --json prints every event as a JSON line. Every default comes from
  --preset (src/experiment/presets.ts; default quick-demo, the playground's Quick demo; byod
  needs --data); any option overrides it. --seeds K trains every arm with K training seeds
  (seed, seed+1, …: the order of the examples and the random arm's steps) and prints each
  measure as the mean and min–max over them; "≈" marks an arm whose seeds' range overlaps the
  best arm's (a difference smaller than run-to-run noise). --time-budget S sizes the run by
  wall-clock time (training and evaluation): --steps is then the most steps, and the runner
  takes as many as fit on this adapter (the Quick demo's default, 120 s); --time-budget none
  trains exactly --steps, reproducibly anywhere. --warmup defaults to the preset's, at most
  a tenth of --steps; --rollout-max-steps 0 is the environment's own limit. The table also has the untuned
  base (the starting weights, measured before training) and the built-in expert on the same
  episodes and turn cap. Larger evaluations (--next-action, --rollout-episodes,
  --rollout-max-steps) take minutes on a software adapter. The settings, their ranges and
  link keys: docs/playground.md#settings. --lora R trains every arm's own rank-R LoRA adapters
  (from the same start; alpha --lora-alpha, default 2R; projections --lora-targets, default all
  seven) over one frozen copy of the base instead of every weight. --checkpoints DIR saves every
  run's weights and AdamW moments at each evaluation (--eval-every) and at the end; after a kill,
  the same command with --resume continues from the last one and ends with the same losses.`;

export const EXPERIMENT_OPTIONS = {
  ...stringOptions('preset', 'arms', 'model', 'envs', 'data', 'selector', 'train-episodes', 'heldout-episodes', 'lora-targets', 'checkpoints'),
  ...booleanOptions('resume'),
  ...settingOptions(SETTING_OPTIONS),
  ...booleanOptions('json'),
  ...stringOptions('out'),
};

/** Parsed options (util.parseArgs values), by flag. */
type Options = { [flag: string]: string | boolean | undefined };
const text = (v: Options, flag: string) => v[flag] as string | undefined;

/** The run the options describe: every option left out keeps the --preset's value (default the Quick demo). */
export function experimentConfigFromOptions(v: Options): ExperimentConfig {
  const c = 'experiment';
  const presetName = (text(v, 'preset') ?? 'quick-demo') as ExperimentPresetName;
  if (!EXPERIMENT_PRESET_NAMES.includes(presetName)) throw new Error(`--preset must be one of ${EXPERIMENT_PRESET_NAMES.join(', ')} (got "${v.preset}")`);
  const data = text(v, 'data');
  if (presetName === 'byod' && data === undefined) throw new Error('--preset byod trains on your own data: give it with --data <trajectories.jsonl>');
  // Every default is the preset's (src/experiment/presets.ts); built-in data defaults come from
  // the Quick demo when the preset has none (byod with --envs instead of --data never happens).
  const preset = experimentPreset(presetName);
  const quickData = (preset.data.kind === 'builtin' ? preset.data : experimentPreset('quick-demo').data) as Extract<DataSource, { kind: 'builtin' }>;
  const config: ExperimentConfig = { ...preset, hyper: { ...preset.hyper }, name: text(v, 'preset') ? preset.name : 'cli' };
  // The warm-up the preset has, at most a tenth of the steps the options ask for.
  setSettingValue(config, getSetting('warmupSteps'), Math.min(preset.hyper.warmupSteps, Math.floor(settingOption(c, getSetting('steps'), text(v, 'steps'), preset.hyper.steps)! / 10)));
  for (const s of SETTING_OPTIONS) {
    const raw = text(v, s.cli);
    if (raw !== undefined) setSettingValue(config, s, settingOption(c, s, raw));
  }
  const arms = (text(v, 'arms') ?? preset.arms.join(',')).split(',').map((x) => x.trim()) as Arm[];
  for (const a of arms) if (!ARMS.includes(a)) throw new Error(`unknown arm "${a}" (arms: ${ARMS.join(', ')})`);
  const modelArg = text(v, 'model') ?? `preset:${(preset.model as { name: string }).name}`;
  config.arms = arms;
  config.model = modelArg.startsWith('preset:') ? { kind: 'preset', name: modelArg.slice(7) } : { kind: 'url', url: path.resolve(modelArg) };
  config.data = data
    ? { kind: 'dataset', datasetId: path.resolve(data) }
    : {
        kind: 'builtin',
        envs: (text(v, 'envs') ?? quickData.envs.join(',')).split(',').map((x) => x.trim()),
        trainEpisodes: intOption(c, text(v, 'train-episodes'), 'train-episodes', quickData.trainEpisodes),
        heldOutEpisodes: intOption(c, text(v, 'heldout-episodes'), 'heldout-episodes', quickData.heldOutEpisodes),
        seed: config.seed,
        mistakeRate: quickData.mistakeRate,
      };
  config.selector = text(v, 'selector') ?? preset.selector;
  const targets = text(v, 'lora-targets');
  if (targets !== undefined) {
    if (config.loraRank === undefined) throw new Error('--lora-targets needs --lora R');
    config.loraTargets = parseLoraTargets(targets);
  }
  if (config.loraAlpha !== undefined && config.loraRank === undefined) throw new Error('--lora-alpha needs --lora R');
  if (config.loraRank !== undefined && config.loraRank % 4 !== 0) throw new Error(`--lora must be a multiple of 4 (got ${config.loraRank}; the kernels read vec4s)`);
  return config;
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
    const parsed = parseCommandArgsOrHelp('experiment', argv, EXPERIMENT_USAGE, EXPERIMENT_OPTIONS);
    if (!parsed) return 0;
    const { values: v } = parsed;
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
    let baseline: BaselineMetrics | undefined;
    /** Each run's supervised tokens at its last step, by "arm#seed". */
    const supervisedAtEnd = new Map<string, number>();
    const every = Math.max(1, Math.floor(steps / 10));
    const started = performance.now();
    const emit = (e: ExperimentEvent) => {
      if (e.kind === 'eval') evals.push(e);
      if (e.kind === 'baseline') baseline = e;
      if (e.kind === 'train') supervisedAtEnd.set(`${e.arm}#${e.trainSeed}`, e.supervisedTokens);
      if (v.json) console.log(JSON.stringify(e));
      else if (e.kind === 'train' && (e.step % every === 0 || e.step === steps)) console.log(`step ${e.step}  ${runName(e.arm, e.trainSeed, config)} loss ${e.loss.toFixed(4)}  ${e.tokensPerSecond.toFixed(0)} tokens/s`);
      else if (e.kind === 'eval' || e.kind === 'baseline') console.log(`eval step ${e.step}  ${e.kind === 'baseline' ? 'base'.padEnd(12) : runName(e.arm, e.trainSeed, config)} ${evalLine(e)}`);
      else if (e.kind === 'log') console.error(`log: ${e.message}`);
      else if (isFailure(e)) console.error(`error: ${failureMessage(e)}`);
      else if (e.kind === 'status' && e.state !== 'training') console.error(`status: ${e.state}${e.message ? ` (${e.message})` : ''}`);
    };
    if (v.resume && v.checkpoints === undefined) throw new Error('--resume needs --checkpoints DIR (where the run saved its checkpoints)');
    const session = new ExperimentSession(config, {
      ctx,
      emit,
      checkpoints: v.checkpoints === undefined ? undefined : fileCheckpointStore(v.checkpoints as string),
      resolveModel: () => loadModelFromArg(modelArg, seed),
      loadDataset: async (file) => {
        if (dataset && file === path.resolve(v.data!)) return dataset.trajectories;
        return datasetFromText(readFileSync(file, 'utf8'), file).trajectories;
      },
    });
    const results = await session.run(v.resume === true);
    session.dispose();
    ctx.device.destroy();
    const table = resultsTable(evals, baseline, config.arms);
    const trainLoss = (arm: string) => spreadOf(results.filter((r) => r.arm === arm).map((r) => r.finalLoss));
    const lastSupervised = (arm: string) => [...supervisedAtEnd].filter(([key]) => key.startsWith(`${arm}#`)).map(([, n]) => n);
    if (!v.json) {
      console.log('');
      for (const line of formatResultsTable(table, trainLoss)) console.log(line);
      const supervised = Object.fromEntries(config.arms.map((arm) => [arm, spreadOf(lastSupervised(arm))?.mean]).filter(([, n]) => n !== undefined));
      for (const line of summarizeResults(table, supervised)) console.log(line);
      console.log(`wall time ${((performance.now() - started) / 1000).toFixed(0)} s on ${ctx.description}`);
    }
    if (v.out) writeFileSync(v.out, JSON.stringify({ config, results, evals, baseline, table }, null, 2) + '\n');
    return 0;
  },
};

function runName(arm: string, trainSeed: number | undefined, config: ExperimentConfig): string {
  return ((config.seeds ?? 1) > 1 && trainSeed !== undefined ? `${arm} s${trainSeed}` : arm).padEnd(12);
}

function evalLine(e: Omit<EvalMetrics, 'kind' | 'arm'>): string {
  const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(1)}%`);
  const parts = [`held-out loss ${e.heldOutLossCritical.toFixed(3)} / ${e.heldOutLossAll.toFixed(3)}`];
  if (e.nextActionAccuracy !== undefined) parts.push(`next action ${pct(e.nextActionAccuracy)}`);
  if (e.successHeldIn !== undefined || e.successHeldOut !== undefined) parts.push(`success ${pct(e.successHeldIn)} / ${pct(e.successHeldOut)}`);
  return parts.join('  ');
}

/** The paper-shaped table: mean (min–max) over seeds; "≈" = within the best arm's spread. */
export function formatResultsTable(table: ResultsTable, trainLoss: (arm: string) => ReturnType<typeof spreadOf>): string[] {
  const cols = [{ label: 'train loss', percent: false }, ...MEASURES.map((m) => ({ label: m.label, percent: m.percent }))];
  const marks = MEASURES.map((m) => bestAndTies(table, m));
  const header = ['arm'.padEnd(14), 'seeds'.padEnd(8), ...cols.map((c) => c.label.padStart(26))].join('');
  const lines = [header];
  for (const r of table.rows) {
    const cells = MEASURES.map((m, i) => {
      const mark = marks[i].best === r.arm ? ' *' : marks[i].tied.has(r.arm) ? ' ≈' : '  ';
      return (formatSpread(r.cells[m.key], m.percent) + mark).padStart(26);
    });
    lines.push([r.arm.padEnd(14), String(r.seeds.length || 1).padEnd(8), formatSpread(trainLoss(r.arm), false).padStart(26), ...cells].join(''));
  }
  const fixed = (x: number | undefined, percent: boolean) => (x === undefined ? '—' : percent ? (100 * x).toFixed(1) : x.toFixed(3));
  if (table.base) lines.push(['base'.padEnd(14), '—'.padEnd(8), ''.padStart(26), ...MEASURES.map((m) => (fixed(table.base![m.key], m.percent) + '  ').padStart(26))].join('') + '   (the untuned starting weights, same episodes)');
  if (table.expert) lines.push(['expert'.padEnd(14), '—'.padEnd(8), ''.padStart(26), ...MEASURES.map((m) => ((m.key === 'successHeldIn' ? fixed(table.expert!.successHeldIn, true) : m.key === 'successHeldOut' ? fixed(table.expert!.successHeldOut, true) : '—') + '  ').padStart(26))].join('') + '   (the built-in expert, same episodes and turn cap)');
  lines.push('success and accuracy in %; * best mean; ≈ within the best arm\'s min–max over seeds (the difference is smaller than run-to-run noise)' + (table.rows.every((r) => r.seeds.length < 2) ? '; one seed: no spread to judge differences by' : ''));
  if (table.rolloutSeeds) lines.push(`rollout episode seeds: ${table.rolloutSeeds.join(', ')}`);
  return lines;
}
