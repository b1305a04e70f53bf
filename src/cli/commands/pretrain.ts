// `atlas pretrain --out <hf-folder> [--model preset:NAME] [--tokens N] [--seed S] [--resume]`:
// pretrains the base agent on the explorer's episodes (src/experiment/pretrain-corpus.ts) and
// saves it as a Hugging Face folder with its tokenizer and a provenance file. One JSON line of
// metrics per logged step on stdout (also appended to <out>/metrics.jsonl), progress and ETA on
// stderr, a checkpoint in <out>/checkpoint/ every --checkpoint-every steps; --resume continues
// from it and gives the same losses as a run that never stopped. --init <hf-folder> continues
// pretraining from a folder this command wrote (a second stage: its weights, fresh AdamW
// moments and schedule, the corpus read on from the chunk after the last one it saw).
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { appendFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, platform, arch } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../main.ts';
import { intOption, numberOption, parseCommandArgs, requireOption } from '../args.ts';
import { getPreset } from '../../../models/presets.ts';
import { createGpuContext } from '../../engine/device.ts';
import { createModel, initParams } from '../../engine/model.ts';
import { buildParamLayout, unpackParams, type NamedTensors } from '../../engine/params.ts';
import { Trainer } from '../../engine/trainer.ts';
import { loadHfModel, saveHfModel } from '../../engine/weights/hf.ts';
import type { LlamaConfig } from '../../engine/config.ts';
import { dirSink, dirSource } from '../../engine/weights/file-source-node.ts';
import { parseSafetensors, writeSafetensors } from '../../engine/weights/safetensors.ts';
import { defaultTokenizer } from '../../data/defaultTokenizer.ts';
import { CorpusStream, DEFAULT_RECIPE, type CorpusRecipe, describeRecipe, recipeOf, EPISODES_PER_CHUNK, EXPLORER_MISTAKE_RATE, PRETRAIN_SEED_BASE, validationBatches } from '../../experiment/pretrain-corpus.ts';
import { pretrainLoop, type PretrainCheckpoint, type PretrainMetrics, type PretrainProgress } from '../../experiment/pretrain.ts';

const USAGE = `usage: atlas pretrain --out <hf-folder> [--model preset:small] [--tokens 2000000] [--seed 0] [--resume] [--init <hf-folder>]
  [--batch 4] [--seq <context>] [--lr 0.003] [--warmup 100] [--min-lr-ratio 0.1] [--weight-decay 0.1] [--grad-clip 1]
  [--log-every 10] [--checkpoint-every 100] [--validation-episodes 16] [--stop-after STEP] [--observation-weight 0] [--plan-weight 1] [--name-weight 1] [--first-turns 0] [--shuffle-objects] [--copy-mix 0] [--copy-warmup 0]
  Trains a preset's shape from seeded random weights on the explorer's episodes in every built-in
  environment (docs/base-agent.md), loss on every agent turn; --observation-weight W also puts
  weight W on the environment's replies (language modelling of the episode; the validation loss
  stays on agent turns); --plan-weight W weighs each episode's first agent turn, the plan, W
  times; --name-weight W weighs W times the agent-turn tokens that spell a name from the task
  (object, place, goal, item to craft); --first-turns K cuts every episode after its first K
  agent turns (many more plans per token); --shuffle-objects renames the object classes of each
  household episode by its own random permutation (the room then no longer tells which object
  the task wants; the task line does); --copy-mix F makes a fraction F of the batches synthetic
  copying rows (random tokens, then the same again; loss on the repeat), which teach attention
  to copy; --copy-warmup N makes the first N batches copying rows only, before any episode
  (from random weights, where the copying heads grow). --tokens counts token positions (steps = ceil(tokens / (batch × seq))). Writes
  <out>/config.json, model.safetensors, the tokenizer files, provenance.json and metrics.jsonl; <out>/checkpoint/ holds the last checkpoint
  (parameters, AdamW moments, step, corpus position) until the run ends. --resume continues from it
  with the options it was started with. --stop-after STEP saves a checkpoint at STEP and stops
  (a long run in several sittings; --resume continues it). --init <hf-folder> starts from the
  weights of a folder this command wrote instead of random ones (a further stage: fresh AdamW
  moments and learning-rate schedule; the corpus goes on after the chunks that folder was trained
  on, so no episode is seen twice; provenance.json lists every stage).`;

/** Options that decide the result: a resume must use the same ones. */
interface RunSettings extends CorpusRecipe {
  model: string;
  tokens: number;
  seed: number;
  batch: number;
  seq: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  gradClip: number;
  checkpointEvery: number;
  /** The folder a further stage starts from ('' for random weights). */
  init: string;
}

interface CheckpointState {
  format: 'atlas-pretrain-checkpoint@1';
  settings: RunSettings;
  progress: PretrainProgress;
  /** Every command line that worked on this run, and its wall time. */
  sessions: { command: string; startedAt: string; wallSeconds: number }[];
}

const TOKENIZER_DIR = fileURLToPath(new URL('../../../models/default-tokenizer/', import.meta.url));

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${Math.round(s % 60)} s` : `${Math.round(s)} s`;
}

/** What a further stage takes from the folder it starts from: the weights, where its corpus
 *  ended, and its provenance (kept in the new one). */
async function readInitStage(dir: string, config: LlamaConfig, modelArg: string): Promise<{ tensors: NamedTensors; nextChunk: number; stages: unknown[] }> {
  const provPath = path.join(dir, 'provenance.json');
  if (!existsSync(provPath)) throw new Error(`--init ${dir}: no provenance.json (a further stage starts from a folder atlas pretrain wrote)`);
  const prov = JSON.parse(await readFile(provPath, 'utf8')) as { settings?: { model?: string }; corpus?: { chunks?: number }; previousStages?: unknown[] };
  const chunks = prov.corpus?.chunks;
  if (typeof chunks !== 'number' || !(chunks > 0)) throw new Error(`--init ${provPath}: no corpus.chunks (the number of corpus chunks that stage read)`);
  const { config: found, tensors } = await loadHfModel(dirSource(dir));
  const differs = (Object.keys(config) as (keyof LlamaConfig)[]).filter((k) => config[k] !== found[k]);
  if (differs.length) throw new Error(`--init ${dir}: its config (${prov.settings?.model ?? 'unknown shape'}) differs from --model ${modelArg} in ${differs.map((k) => `${k} (${String(found[k])} vs ${String(config[k])})`).join(', ')}`);
  const { previousStages = [], ...own } = prov;
  return { tensors, nextChunk: chunks, stages: [...previousStages, own] };
}

function settingsDiff(a: RunSettings, b: RunSettings): string[] {
  return (Object.keys(a) as (keyof RunSettings)[]).filter((k) => a[k] !== b[k]).map((k) => `${k}: checkpoint ${a[k]}, now ${b[k]}`);
}

export const command: Command = {
  summary: 'pretrain the base agent on the explorer\'s episodes in the built-in environments (deterministic, checkpoints, --resume)',
  async run(argv) {
    const { values } = parseCommandArgs('pretrain', argv, {
      out: { type: 'string' },
      model: { type: 'string', default: 'preset:small' },
      tokens: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      seq: { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      'min-lr-ratio': { type: 'string' },
      'weight-decay': { type: 'string' },
      'grad-clip': { type: 'string' },
      'log-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'stop-after': { type: 'string' },
      'validation-episodes': { type: 'string' },
      resume: { type: 'boolean', default: false },
      init: { type: 'string' },
      'observation-weight': { type: 'string' },
      'plan-weight': { type: 'string' },
      'first-turns': { type: 'string' },
      'name-weight': { type: 'string' },
      'shuffle-objects': { type: 'boolean', default: false },
      'copy-mix': { type: 'string' },
      'copy-warmup': { type: 'string' },
      help: { type: 'boolean', default: false },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const out = requireOption('pretrain', values.out, 'out');
    const modelArg = values.model!;
    if (!modelArg.startsWith('preset:')) throw new Error(`--model must name a preset shape to start from, preset:NAME (got "${modelArg}")`);
    const preset = getPreset(modelArg.slice('preset:'.length));
    if (preset.weights) throw new Error(`--model ${modelArg} is a pretrained model; pretraining starts from a shape with random weights (e.g. preset:small)`);
    const config = preset.config;
    const positive = (flag: string, n: number) => {
      if (!(n > 0)) throw new Error(`--${flag} must be positive (got ${n})`);
      return n;
    };
    const settings: RunSettings = {
      model: modelArg,
      tokens: positive('tokens', intOption('pretrain', values.tokens, 'tokens', 2_000_000)),
      seed: intOption('pretrain', values.seed, 'seed', 0),
      batch: positive('batch', intOption('pretrain', values.batch, 'batch', 4)),
      seq: positive('seq', intOption('pretrain', values.seq, 'seq', config.maxSeqLen)),
      lr: positive('lr', numberOption('pretrain', values.lr, 'lr', 3e-3)),
      warmup: intOption('pretrain', values.warmup, 'warmup', 100),
      minLrRatio: numberOption('pretrain', values['min-lr-ratio'], 'min-lr-ratio', 0.1),
      weightDecay: numberOption('pretrain', values['weight-decay'], 'weight-decay', 0.1),
      gradClip: numberOption('pretrain', values['grad-clip'], 'grad-clip', 1),
      checkpointEvery: positive('checkpoint-every', intOption('pretrain', values['checkpoint-every'], 'checkpoint-every', 100)),
      init: values.init ?? '',
      observationWeight: numberOption('pretrain', values['observation-weight'], 'observation-weight', DEFAULT_RECIPE.observationWeight),
      planWeight: numberOption('pretrain', values['plan-weight'], 'plan-weight', DEFAULT_RECIPE.planWeight),
      nameWeight: numberOption('pretrain', values['name-weight'], 'name-weight', DEFAULT_RECIPE.nameWeight),
      firstTurns: intOption('pretrain', values['first-turns'], 'first-turns', DEFAULT_RECIPE.firstTurns),
      shuffleObjects: values['shuffle-objects']!,
      copyMix: numberOption('pretrain', values['copy-mix'], 'copy-mix', DEFAULT_RECIPE.copyMix),
      copyWarmup: intOption('pretrain', values['copy-warmup'], 'copy-warmup', DEFAULT_RECIPE.copyWarmup),
    };
    if (!(settings.copyWarmup >= 0)) throw new Error(`--copy-warmup must be 0 or more batches (got ${settings.copyWarmup})`);
    if (!(settings.copyMix >= 0 && settings.copyMix < 1)) throw new Error(`--copy-mix must be at least 0 and below 1 (got ${settings.copyMix})`);
    if (!(settings.nameWeight > 0)) throw new Error(`--name-weight must be positive (got ${settings.nameWeight})`);
    if (!(settings.firstTurns >= 0)) throw new Error(`--first-turns must be 0 (whole episodes) or more (got ${settings.firstTurns})`);
    if (!(settings.observationWeight >= 0)) throw new Error(`--observation-weight must be 0 or more (got ${settings.observationWeight})`);
    if (!(settings.planWeight > 0)) throw new Error(`--plan-weight must be positive (got ${settings.planWeight})`);
    const logEvery = positive('log-every', intOption('pretrain', values['log-every'], 'log-every', 10));
    if (settings.seq > config.maxSeqLen) throw new Error(`--seq ${settings.seq} exceeds the context of ${modelArg} (${config.maxSeqLen})`);
    const steps = Math.ceil(settings.tokens / (settings.batch * settings.seq));
    const warmup = Math.min(settings.warmup, steps);
    const stopAfter = values['stop-after'] === undefined ? undefined : positive('stop-after', intOption('pretrain', values['stop-after'], 'stop-after', 0));

    const cpDir = path.join(out, 'checkpoint');
    const statePath = path.join(cpDir, 'state.json');
    const tensorsPath = path.join(cpDir, 'state.safetensors');
    let state: CheckpointState | undefined;
    let saved: { params: Float32Array; m: Float32Array; v: Float32Array } | undefined;
    if (values.resume) {
      if (!existsSync(statePath)) throw new Error(`--resume: no checkpoint in ${cpDir} (start without --resume)`);
      state = JSON.parse(await readFile(statePath, 'utf8')) as CheckpointState;
      state.settings = { ...DEFAULT_RECIPE, ...state.settings }; // checkpoints from before some options
      const diff = settingsDiff(state.settings, settings);
      if (diff.length) throw new Error(`--resume: the checkpoint was made with other options (${diff.join('; ')}); resume with the same options`);
      const st = parseSafetensors(await readFile(tensorsPath), tensorsPath);
      const get = (name: string) => {
        if (!st.entries.some((e) => e.name === name)) throw new Error(`${tensorsPath}: no tensor "${name}"`);
        return st.read(name);
      };
      saved = { params: get('params'), m: get('adam_m'), v: get('adam_v') };
    } else if (existsSync(statePath)) {
      throw new Error(`${out} already holds a checkpoint of an unfinished run: pass --resume to continue it, or choose another --out`);
    }

    const stage = settings.init ? await readInitStage(settings.init, config, modelArg) : undefined;

    const commandLine = `npx atlas pretrain ${argv.join(' ')}`;
    const startedAt = new Date().toISOString();
    const wallStart = performance.now();
    const sessions = [...(state?.sessions ?? [])];
    const thisSession = () => ({ command: commandLine, startedAt, wallSeconds: (performance.now() - wallStart) / 1000 });

    const tokenizer = defaultTokenizer();
    const saveModelFolder = async (dir: string, tensors: NamedTensors) => {
      await saveHfModel(dirSink(dir), config, tensors);
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(path.join(TOKENIZER_DIR, f), path.join(dir, f));
    };
    const ctx = await createGpuContext();
    const layout = buildParamLayout(config);
    const model = await createModel(ctx, config, saved ? unpackParams(layout, saved.params) : stage ? stage.tensors : initParams(config, settings.seed));
    const trainer = new Trainer(
      model,
      { lr: settings.lr, warmupSteps: warmup, totalSteps: steps, minLrRatio: settings.minLrRatio, weightDecay: settings.weightDecay, gradClip: settings.gradClip },
      { maxBatch: settings.batch, maxSeqLen: settings.seq },
    );
    if (saved) trainer.writeOptimizerState(saved);
    const firstChunk = stage?.nextChunk ?? 0;
    const from: PretrainProgress = state?.progress ?? { step: 0, position: { chunk: firstChunk, batch: 0 }, tokens: 0, supervisedTokens: 0, trainMs: 0 };
    const corpus = { seed: settings.seed, tokenizer, batchSize: settings.batch, seqLen: settings.seq };
    const stream = new CorpusStream({ ...corpus, ...recipeOf(settings) }, from.position);
    const held = validationBatches(corpus, positive('validation-episodes', intOption('pretrain', values['validation-episodes'], 'validation-episodes', 16)));
    if (!held.batches.length) throw new Error(`--seq ${settings.seq} is too short: no agent turn of the validation episodes fits a window after its instruction (the built-in instructions take 220–340 tokens)`);
    if (held.droppedTurns) console.error(`warning: ${held.droppedTurns} of ${held.turns} agent turns of the validation episodes do not fit a ${settings.seq}-token window after their instruction; the corpus loses such turns as well (a longer --seq keeps them)`);
    const validation = held.batches;
    const startsFrom = stage ? `, from the weights in ${settings.init} (corpus from chunk ${firstChunk})` : '';
    console.error(`pretraining ${modelArg} (${model.layout.paramCount} parameters) on ${ctx.description}: ${steps} steps of ${settings.batch} × ${settings.seq} tokens${startsFrom}${from.step ? `, resuming at step ${from.step}` : ''}`);

    await mkdir(out, { recursive: true });
    const metricsPath = path.join(out, 'metrics.jsonl');
    if (!values.resume) await rm(metricsPath, { force: true });
    let lastMetrics: PretrainMetrics | undefined;
    const progress = await pretrainLoop(trainer, stream, validation, { steps, logEvery, checkpointEvery: settings.checkpointEvery, stopAfter }, {
      record(m) {
        lastMetrics = { ...m, validationLoss: m.validationLoss ?? lastMetrics?.validationLoss };
        const line = JSON.stringify(m);
        console.log(line);
        appendFileSync(metricsPath, line + '\n');
        const val = m.validationLoss !== undefined ? ` · validation ${m.validationLoss.toFixed(3)}` : '';
        console.error(`step ${m.step}/${m.steps} · ${m.tokens.toLocaleString('en-US')} tokens · loss ${m.loss.toFixed(3)}${val} · ${Math.round(m.tokensPerSecond)} tokens/s · ETA ${fmtDuration(m.etaS)}`);
      },
      async checkpoint(cp: PretrainCheckpoint) {
        await mkdir(cpDir, { recursive: true });
        const tensors = new Map([
          ['params', { shape: [cp.params.length], data: cp.params }],
          ['adam_m', { shape: [cp.m.length], data: cp.m }],
          ['adam_v', { shape: [cp.v.length], data: cp.v }],
        ]);
        // Written beside, then renamed: a run killed mid-write keeps the previous checkpoint.
        await writeFile(tensorsPath + '.tmp', writeSafetensors(tensors));
        const { params: _p, m: _m, v: _v, ...progress } = cp;
        const next: CheckpointState = { format: 'atlas-pretrain-checkpoint@1', settings, progress, sessions: [...sessions, thisSession()] };
        await writeFile(statePath + '.tmp', JSON.stringify(next, null, 2) + '\n');
        await rename(tensorsPath + '.tmp', tensorsPath);
        await rename(statePath + '.tmp', statePath);
        // The weights so far as a loadable folder: \`atlas eval --model <out>/checkpoint/model\` mid-run.
        await saveModelFolder(path.join(cpDir, 'model'), unpackParams(layout, cp.params));
      },
    }, from);

    if (progress.step < steps) {
      console.error(`stopped after step ${progress.step} of ${steps}; the checkpoint is in ${cpDir} (continue with the same options and --resume)`);
      trainer.destroy();
      model.destroy();
      return 0;
    }
    await saveModelFolder(out, await model.readParams());
    const allSessions = [...sessions, thisSession()];
    const provenance = {
      what: `the base agent: the explorer's episodes in every built-in environment, loss on every agent turn${describeRecipe(settings)} (docs/base-agent.md)`,
      command: allSessions.map((s) => s.command),
      settings: { ...settings, steps, warmupSteps: warmup, logEvery },
      corpus: { demonstrator: 'explorer', mistakeRate: EXPLORER_MISTAKE_RATE, episodesPerChunk: EPISODES_PER_CHUNK, episodeSeedsFrom: PRETRAIN_SEED_BASE, firstChunk, chunks: progress.position.chunk + 1 },
      parameters: model.layout.paramCount,
      tokens: progress.tokens,
      supervisedTokens: progress.supervisedTokens,
      trainSeconds: Math.round(progress.trainMs / 1000),
      wallSeconds: Math.round(allSessions.reduce((s, x) => s + x.wallSeconds, 0)),
      finalLoss: lastMetrics?.loss,
      validationLoss: lastMetrics?.validationLoss,
      adapter: ctx.description,
      machine: `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${arch()}, Node ${process.version}`,
      sessions: allSessions,
      finishedAt: new Date().toISOString(),
      // The stages before this one, oldest first (each with its own command, tokens and time).
      ...(stage ? { previousStages: stage.stages } : {}),
    };
    await writeFile(path.join(out, 'provenance.json'), JSON.stringify(provenance, null, 2) + '\n');
    await rm(cpDir, { recursive: true, force: true });
    console.error(`saved ${out}: config.json, model.safetensors, tokenizer.json, tokenizer_config.json, provenance.json, metrics.jsonl (${progress.tokens.toLocaleString('en-US')} tokens in ${fmtDuration(progress.trainMs / 1000)})`);
    trainer.destroy();
    model.destroy();
    return 0;
  },
};
