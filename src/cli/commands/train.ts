// `atlas train --model <path|preset:NAME> --data <file.jsonl> --steps N [...]`: trains on
// either a JSONL of token sequences {"input_ids": […], "labels"?: […], "weights"?: […]}
// (labels default to the inputs shifted by one; weights to 1) or the project's trajectories
// JSONL (records with "version") with `--arm`, whose loss masks come from src/data/masks.ts.
// Prints one JSON line of metrics per step and saves the result as a Hugging Face folder.
// The run, step by step: read the options → load the model → build the rows → train → save.
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '../main.ts';
import { booleanOptions, intOption, parseCommandArgsOrHelp, requireOption, stringOptions } from '../args.ts';
import { loadTrainCheckpoint, refuseOverwrite, removeTrainCheckpoint, saveTrainCheckpoint } from '../train-checkpoint.ts';
import { settingOption, settingOptions, settingsUsage } from '../setting-options.ts';
import { createGpuContext } from '../../engine/device.ts';
import { InFlight } from '../../engine/in-flight.ts';
import { createModel, initParams, type Model } from '../../engine/model.ts';
import { DEFAULT_HYPER, Trainer, type StepResult, type TrainHyper } from '../../engine/trainer.ts';
import type { TokenBatch } from '../../engine/batch.ts';
import { loadModelFromPath } from '../../engine/weights/load-node.ts';
import { saveHfModel } from '../../engine/weights/hf.ts';
import { dirSink } from '../../engine/weights/file-source-node.ts';
import { getPreset } from '../../../models/presets.ts';
import { Rng } from '../../data/rng.ts';
import type { LlamaConfig } from '../../engine/config.ts';
import type { NamedTensors } from '../../engine/params.ts';
import { MATMUL_VARIANTS, type MatmulVariant } from '../../engine/kernels/matmul.ts';
import { ARMS, DEFAULT_BUDGET, type Arm } from '../../data/arms.ts';
import type { TextTokenizer } from '../../data/tokenize.ts';
import { loadTokenizer } from '../../data/sources/node.ts';
import { loadModelFromArg } from '../model-arg.ts';
import { describeLora, LORA_OPTIONS, LORA_USAGE, loraSpecFromOptions } from '../lora-options.ts';
import { createAdapter, mergeLora, type Adapter, type LoraSpec } from '../../engine/lora.ts';
import { loadPeftAdapter, savePeftAdapter } from '../../engine/weights/peft.ts';
import { dirSource } from '../../engine/weights/file-source-node.ts';
import { perStepLoss } from '../../experiment/per-step-loss.ts';
import { stepLossFromJsonl } from '../../select/step-loss-file.ts';
import { getSetting, SETTINGS, type SettingName } from '../../experiment/settings-spec.ts';
import { detectDataKind, parseArm, parseTrainingJsonl, prepareTrajectories, tokenizerFilesOf, trajectoryRows, windows, type PreparedTrajectories, type Row } from '../train-data.ts';

/** The settings `atlas train` takes (src/experiment/settings-spec.ts), with the trainer's defaults. */
const TRAIN_SETTINGS = SETTINGS.filter((s) => s.commands.includes('train'));

export const TRAIN_USAGE = `usage: atlas train --model <path|preset:NAME> --data <file.jsonl> --steps N
  [--out atlas-train-out] [--matmul ${MATMUL_VARIANTS.join('|')}]
${settingsUsage(TRAIN_SETTINGS.filter((s) => s.name !== 'steps'), '  ')}
${LORA_USAGE}
  Defaults: --lr ${DEFAULT_HYPER.lr}, --warmup min(${DEFAULT_HYPER.warmupSteps}, steps/10), --min-lr-ratio ${DEFAULT_HYPER.minLrRatio}, --weight-decay ${DEFAULT_HYPER.weightDecay},
  --grad-clip ${DEFAULT_HYPER.gradClip}, --batch 4, --accum 1, --seq <context>, --seed 1, --budget ${DEFAULT_BUDGET} (ranges: docs/playground.md#settings).
  Token sequences: JSONL lines {"input_ids": [...], "labels"?: [...], "weights"?: [...]}; labels default to input_ids shifted by one.
  Sequences longer than --seq are cut into windows of --seq tokens (all positions kept); shorter ones are padded with weight 0.
  Trajectories (JSONL records with "version", e.g. from "atlas import" / "atlas env demo" / "atlas select"):
    --arm ${ARMS.join('|')} (required)   [--budget ${DEFAULT_BUDGET}] [--selection NAME]
    [--tokenizer default|<folder>|<tokenizer.json>|<tok.bin>]   (default: the model's own; preset:NAME uses the bundled default)
    [--step-loss <file.jsonl with {"id","stepLoss":[...]}>]     (highest-loss; default: the initial model's per-step loss)
  Loss masks, windows and the report (stderr) come from src/data/masks.ts. --seq (default: the model's context) is the
  examples' context; without --seq rows are as long as the longest example.
  With --lora or --adapter the base stays frozen: <out> gets the merged model (W + alpha/r·B·A, a plain HF folder)
  and <out>/adapter the PEFT adapter.
  [--checkpoint-every 50] [--resume] [--stop-after STEP]: every N steps <out>/checkpoint/ holds the trainable weights,
  AdamW's moments and the step; a run killed at any moment continues with the same command plus --resume and ends
  with the same losses as one that never stopped (at most N steps are redone). --checkpoint-every 0: none.`;

export const TRAIN_OPTIONS = {
  ...stringOptions('model', 'data'),
  ...settingOptions(TRAIN_SETTINGS),
  ...stringOptions('out', 'matmul', 'arm', 'tokenizer', 'selection', 'step-loss'),
  ...LORA_OPTIONS,
  ...stringOptions('checkpoint-every', 'stop-after'),
  ...booleanOptions('resume'),
};

type Values = { [flag: string]: string | boolean | undefined };
const text = (v: Values, flag: string) => v[flag] as string | undefined;

/** What the options ask for, checked before any file is read or the GPU is opened. */
interface TrainRequest {
  modelArg: string;
  dataPath: string;
  steps: number;
  seed: number;
  batch: number;
  budget: number;
  hyper: Partial<TrainHyper>;
  matmul?: MatmulVariant;
  out: string;
  /** A fresh LoRA adapter (--lora), or the PEFT folder to continue (--adapter). */
  lora?: LoraSpec;
  adapterDir?: string;
  /** Checkpoint every N steps (0 = never); continue from the checkpoint; stop after a step. */
  checkpointEvery: number;
  resume: boolean;
  stopAfter?: number;
  values: Values;
}

/** The trainer's options from the command line, with the trainer's own defaults. */
function readRequest(values: Values): TrainRequest {
  const c = 'train';
  const modelArg = requireOption(c, text(values, 'model'), 'model');
  const dataPath = requireOption(c, text(values, 'data'), 'data');
  const option = (name: SettingName, fallback?: number) => settingOption(c, getSetting(name), text(values, getSetting(name).cli), fallback)!;
  const steps = option('steps', Number(requireOption(c, text(values, 'steps'), 'steps')));
  const matmul = text(values, 'matmul');
  if (matmul !== undefined && !MATMUL_VARIANTS.includes(matmul as MatmulVariant)) throw new Error(`--matmul must be one of ${MATMUL_VARIANTS.join(', ')} (got ${matmul})`);
  return {
    modelArg,
    dataPath,
    steps,
    seed: option('seed', 1),
    batch: option('batchSize', 4),
    budget: option('budget', DEFAULT_BUDGET),
    hyper: {
      lr: option('lr', DEFAULT_HYPER.lr),
      warmupSteps: option('warmupSteps', Math.min(DEFAULT_HYPER.warmupSteps, Math.floor(steps / 10))),
      totalSteps: steps,
      minLrRatio: option('minLrRatio', DEFAULT_HYPER.minLrRatio),
      weightDecay: option('weightDecay', DEFAULT_HYPER.weightDecay),
      gradClip: option('gradClip', DEFAULT_HYPER.gradClip),
      accumSteps: option('accumSteps', 1),
    },
    matmul: matmul as MatmulVariant | undefined,
    out: text(values, 'out') ?? 'atlas-train-out',
    lora: loraSpecFromOptions(c, values),
    adapterDir: text(values, 'adapter'),
    checkpointEvery: intOption(c, text(values, 'checkpoint-every'), 'checkpoint-every', 50),
    resume: values.resume === true,
    stopAfter: values['stop-after'] === undefined ? undefined : intOption(c, text(values, 'stop-after'), 'stop-after', 0),
    values,
  };
}

type DataKindUsed = 'tokens' | 'trajectories';

/** Which kind of data the file holds, and the arm for trajectories; refuses options of the other kind. */
function readDataKind(r: TrainRequest, fileText: string): { kind: DataKindUsed; arm?: Arm } {
  const v = r.values;
  const detected = detectDataKind(fileText, r.dataPath);
  // No line says which kind (empty, truncated, binary): let the parser the user asked for
  // (--arm → trajectories) name the bad line.
  const kind = detected === 'unknown' ? (v.arm !== undefined ? 'trajectories' : 'tokens') : detected;
  const trajectoryOnly = ['arm', 'tokenizer', 'budget', 'selection', 'step-loss'].filter((k) => v[k] !== undefined);
  if (kind === 'tokens' && trajectoryOnly.length) {
    throw new Error(`--${trajectoryOnly.join(', --')} apply to trajectories JSONL, but ${r.dataPath} holds token sequences ({"input_ids": …}, no "version")`);
  }
  const arm = kind === 'trajectories' ? parseArm(text(v, 'arm')) : undefined;
  if (v['step-loss'] !== undefined && arm !== 'highest-loss') throw new Error('--step-loss applies to --arm highest-loss only');
  return { kind, arm };
}

interface LoadedModel {
  config: LlamaConfig;
  tensors: NamedTensors;
  tokenizer?: TextTokenizer;
}

/** The starting weights, and the tokenizer trajectories are rendered with: --tokenizer, else
 *  the model's own (beside its weights, or the bundled default for a preset). */
async function loadStart(r: TrainRequest, kind: DataKindUsed): Promise<LoadedModel> {
  const tokenizerArg = text(r.values, 'tokenizer');
  let loaded: LoadedModel;
  if (kind === 'tokens' || tokenizerArg !== undefined) {
    if (r.modelArg.startsWith('preset:')) {
      const config = getPreset(r.modelArg.slice('preset:'.length)).config;
      loaded = { config, tensors: initParams(config, r.seed) };
    } else loaded = await loadModelFromPath(r.modelArg);
    if (tokenizerArg !== undefined) loaded.tokenizer = loadTokenizer(tokenizerArg);
  } else {
    try {
      const { model, tokenizer } = await loadModelFromArg(r.modelArg, r.seed);
      loaded = { config: model.config, tensors: model.tensors!, tokenizer };
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (or name a tokenizer with --tokenizer)`);
    }
  }
  const { tokenizer, config } = loaded;
  if (tokenizer && tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`tokenizer "${tokenizer.name}" has ${tokenizer.vocabSize} tokens but the model ${r.modelArg} only ${config.vocabSize}: its ids would fall outside the embedding (pick a tokenizer with ≤ ${config.vocabSize} tokens with --tokenizer, or a larger model)`);
  }
  return loaded;
}

/** The rows to train on, as far as they can be built before the GPU starts. */
interface TrainData {
  /** Token sequences as read (token data). */
  tokenRows?: Row[];
  /** Trajectories and the arm's choice of them (trajectory data). */
  prepared?: PreparedTrajectories;
  /** The examples' context (--seq, default the model's context or the longest sequence). */
  context: number;
  /** Row length when --seq is given for trajectories (else the longest example's). */
  packLen?: number;
  stepLoss?: Record<string, readonly number[]>;
  /** The packed rows, when they can be built before the GPU starts. */
  built?: ReturnType<typeof trajectoryRows>;
}

async function readTrainData(r: TrainRequest, fileText: string, kind: DataKindUsed, arm: Arm | undefined, m: LoadedModel): Promise<TrainData> {
  const tokenRows = kind === 'tokens' ? parseTrainingJsonl(fileText, r.dataPath, m.config.vocabSize) : undefined;
  const longest = tokenRows ? Math.max(...tokenRows.map((row) => row.ids.length)) : m.config.maxSeqLen;
  // Trajectories: the context is the examples'; rows are as long as the longest example unless --seq is given.
  const seqArg = text(r.values, 'seq');
  const context = settingOption('train', getSetting('seqLen'), seqArg, Math.min(m.config.maxSeqLen, longest))!;
  if (context > m.config.maxSeqLen) throw new Error(`--seq must be in 1..${m.config.maxSeqLen} (the model's context)`);
  if (kind === 'trajectories' && context < 2) throw new Error('--seq must be ≥ 2 for trajectories');
  if (kind === 'tokens') return { tokenRows, context };
  const packLen = seqArg !== undefined ? context : undefined;
  const prepared = prepareTrajectories(fileText, r.dataPath, arm!, text(r.values, 'selection'));
  const stepLossFile = text(r.values, 'step-loss');
  let stepLoss: Record<string, readonly number[]> | undefined;
  if (stepLossFile !== undefined) {
    const fromFile = stepLossFromJsonl(await readFile(stepLossFile, 'utf8'), stepLossFile);
    stepLoss = Object.fromEntries(await Promise.all(prepared.used.map(async (t) => [t.id, await fromFile(t)] as const)));
  }
  // Examples are built before the GPU starts unless the highest-loss arm needs the model's own per-step loss.
  const needsModelLoss = arm === 'highest-loss' && !stepLoss;
  const built = needsModelLoss ? undefined : trajectoryRows(prepared, { tokenizer: m.tokenizer!, T: context, packLen, seed: r.seed, budget: r.budget, stepLoss });
  return { prepared, context, packLen, stepLoss, built };
}

/** highest-loss without --step-loss: the initial weights' per-step loss, before any update, picks the steps. */
async function buildWithModelLoss(r: TrainRequest, d: TrainData, trainer: Trainer, tokenizer: TextTokenizer): Promise<void> {
  if (d.built || !d.prepared) return;
  console.error(`computing the initial model's per-step loss on ${d.prepared.used.length} trajectories (highest-loss arm)…`);
  d.stepLoss = await perStepLoss(trainer, d.prepared.used, tokenizer, d.context, r.batch);
  d.built = trajectoryRows(d.prepared, { tokenizer, T: d.context, packLen: d.packLen, seed: r.seed, budget: r.budget, stepLoss: d.stepLoss });
}

/** `steps` optimizer steps over the rows in epochs of a seeded shuffled order, two in flight,
 *  printing one JSON line per step; from `firstStep` on (a resumed run replays the order of
 *  the steps before it); a checkpoint every r.checkpointEvery steps. Returns the last step. */
async function trainSteps(r: TrainRequest, trainer: Trainer, rows: Row[], T: number, firstStep: number, checkpoint: (step: number) => Promise<void>): Promise<number> {
  const B = r.batch;
  const accum = r.hyper.accumSteps!;
  const rng = new Rng(r.seed);
  let order: number[] = [];
  const nextRow = (): Row => {
    if (!order.length) order = rng.shuffle(rows.map((_, i) => i));
    return rows[order.pop()!];
  };
  const microBatch = (): TokenBatch => {
    const picked = Array.from({ length: B }, nextRow);
    return {
      inputIds: Int32Array.from(picked.flatMap((row) => row.ids)),
      labels: Int32Array.from(picked.flatMap((row) => row.labels)),
      weights: Float32Array.from(picked.flatMap((row) => row.weights)),
      batch: B,
      seqLen: T,
    };
  };
  const t0 = performance.now();
  const report = (s: StepResult) =>
    console.log(JSON.stringify({ step: s.step, loss: s.loss, lr: s.lr, gradNorm: s.gradNorm, weightSum: s.weightSum, tokens: s.step * accum * B * T, seconds: (performance.now() - t0) / 1000 }));
  for (let s = 0; s < firstStep * accum; s++) microBatch();
  const inFlight = new InFlight<StepResult>(report);
  const last = Math.min(r.steps, r.stopAfter ?? r.steps);
  for (let s = firstStep; s < last; s++) {
    inFlight.push(trainer.step(Array.from({ length: accum }, microBatch)));
    await inFlight.keep(1);
    const done = s + 1;
    if (r.checkpointEvery > 0 && (done % r.checkpointEvery === 0 || done === last) && done < r.steps) {
      await inFlight.drain();
      await checkpoint(done);
    }
  }
  await inFlight.drain();
  return last;
}

/** The model to train: every weight, or a frozen base with a fresh or loaded LoRA adapter. */
async function createTrainable(r: TrainRequest, start: LoadedModel): Promise<{ model: Model; adapter?: Adapter }> {
  const ctx = await createGpuContext();
  if (!r.lora && r.adapterDir === undefined) return { model: await createModel(ctx, start.config, start.tensors) };
  const model = await createModel(ctx, start.config, start.tensors, { frozen: true });
  if (r.adapterDir === undefined) return { model, adapter: createAdapter(model, r.lora!, { seed: r.seed }) };
  const { spec, tensors } = await loadPeftAdapter(dirSource(r.adapterDir), start.config);
  return { model, adapter: createAdapter(model, spec, tensors) };
}

/** The trained weights as a Hugging Face folder, with the tokenizer for trajectory data; with
 *  LoRA the merged weights, and the adapter as a PEFT folder in <out>/adapter. */
async function saveTrained(r: TrainRequest, model: Model, adapter: Adapter | undefined, d: TrainData, rows: Row[], T: number): Promise<void> {
  const base = await model.readParams();
  if (adapter) {
    const tensors = await adapter.readParams();
    await saveHfModel(dirSink(r.out), model.config, mergeLora(model.config, base, adapter.spec, tensors));
    await savePeftAdapter(dirSink(path.join(r.out, 'adapter')), model.config, adapter.spec, tensors, r.modelArg);
    console.error(`saved the LoRA adapter (${describeLora(adapter.spec)}) as ${r.out}/adapter/adapter_config.json + adapter_model.safetensors; ${r.out} holds the merged model`);
  } else await saveHfModel(dirSink(r.out), model.config, base);
  if (d.prepared) {
    const copied = tokenizerFilesOf(r.modelArg, text(r.values, 'tokenizer'), model.config.vocabSize);
    for (const f of copied) await copyFile(f.from, path.join(r.out, f.to));
    console.error(`saved ${r.out}/config.json and ${r.out}/model.safetensors${copied.map((f) => ` + ${f.to}`).join('')} (${rows.length} examples of ≤ ${d.context} positions, in rows of ${T}, from ${d.prepared.used.length} trajectories, --arm ${d.prepared.arm})`);
  } else {
    console.error(`saved ${r.out}/config.json and ${r.out}/model.safetensors (${rows.length} windows of ${T} tokens from ${d.tokenRows!.length} sequences)`);
  }
}

export const command: Command = {
  summary: 'train a model on token sequences with per-token weights, or on trajectories with --arm full|critical|random|rejected|highest-loss',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('train', argv, TRAIN_USAGE, TRAIN_OPTIONS);
    if (!parsed) return 0;
    const { values } = parsed;
    const r = readRequest(values);
    if (!r.resume) refuseOverwrite(r.out);
    const fileText = await readFile(r.dataPath, 'utf8');
    const { kind, arm } = readDataKind(r, fileText);
    const start = await loadStart(r, kind);
    const data = await readTrainData(r, fileText, kind, arm, start);
    const { model, adapter } = await createTrainable(r, start);
    if (adapter) console.error(`LoRA: ${describeLora(adapter.spec)}; ${adapter.layout.paramCount.toLocaleString('en-US')} trainable parameters, the base's ${model.layout.paramCount.toLocaleString('en-US')} frozen`);
    const trainer = new Trainer(model, r.hyper, { maxBatch: r.batch, maxSeqLen: data.built ? data.built.seqLen : data.context, matmul: r.matmul, adapter });
    try {
      // (highest-loss scores the steps with the starting weights, also when resuming)
      await buildWithModelLoss(r, data, trainer, start.tokenizer!);
      const rows = data.built ? data.built.rows : windows(data.tokenRows!, data.context);
      const T = data.built ? data.built.seqLen : data.context;
      const firstStep = r.resume ? await loadTrainCheckpoint(r.out, argv, trainer) : 0;
      if (r.resume) console.error(`resuming after step ${firstStep} of ${r.steps} from ${r.out}/checkpoint`);
      const last = await trainSteps(r, trainer, rows, T, firstStep, (step) => saveTrainCheckpoint(r.out, argv, trainer, step));
      if (last < r.steps) {
        console.error(`stopped after step ${last} of ${r.steps}; continue with the same options and --resume`);
        return 0;
      }
      await saveTrained(r, model, adapter, data, rows, T);
      await removeTrainCheckpoint(r.out);
    } finally {
      trainer.destroy();
      adapter?.destroy();
      model.destroy();
    }
    return 0;
  },
};
