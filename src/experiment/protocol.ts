// The typed protocol between the playground UI and the experiment runner (which trains
// several arms side by side in one worker on one GPU device). Plain data only, so it
// crosses postMessage / comlink unchanged and serializes into URLs and IndexedDB.
import type { Arm } from '../data/arms.ts';
import type { LoraSpec, LoraTarget } from '../engine/lora.ts';

export type { LoraTarget };

export interface Hyperparameters {
  steps: number;
  batchSize: number;
  /** Tokens per training sequence (≤ the model's context). */
  seqLen: number;
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  gradClip: number;
  accumSteps: number;
}

export type ModelSource =
  | { kind: 'preset'; name: string }
  | { kind: 'url'; url: string }
  /** Files the user picked (HF folder or llama2.c .bin + tok512.bin), stored under a key in IndexedDB. */
  | { kind: 'stored'; key: string; label: string };

export type DataSource =
  | { kind: 'builtin'; envs: string[]; trainEpisodes: number; heldOutEpisodes: number; seed: number; mistakeRate: number }
  | { kind: 'dataset'; datasetId: string };

export interface ExperimentConfig {
  /** Name shown in the UI and in exports. */
  name: string;
  arms: Arm[];
  model: ModelSource;
  data: DataSource;
  hyper: Hyperparameters;
  /** Selector whose labels the critical arm trains on (e.g. "heuristic", "ground-truth", "oracle:gpt-4o"). */
  selector: string;
  /** Fraction of steps a selection may mark critical. */
  budget: number;
  seed: number;
  /** Evaluate held-out loss/accuracy every N steps (0 = never). */
  evalEvery: number;
  /** Run environment rollouts every N steps (0 = only at the end). */
  rolloutEvery: number;
  rolloutEpisodes: number;
  /** Held-out queries for next-action accuracy per evaluation (default 32). */
  nextActionQueries?: number;
  /** Agent turns per rollout episode before it counts as failed (default: the environment's limit). */
  rolloutMaxSteps?: number;
  /** New tokens a model may write per agent turn in evaluation (default 48). */
  maxTurnTokens?: number;
  /** Wall-clock budget in seconds for training and evaluation together (the Quick demo's):
   *  hyper.steps is then the most steps; the runner measures a few steps and the base's
   *  evaluation on this adapter and takes as many steps as fit, the same for every arm, and
   *  says how many. Absent: exactly hyper.steps (reproducible anywhere). */
  timeBudgetSeconds?: number;
  /** Training seeds per arm (default 1): seed, seed + 1, … Each changes the order of the
   *  training examples and the random arm's choice of steps; the starting weights, the data
   *  and the evaluation episodes stay the same, so the spread across seeds is the run-to-run
   *  noise a difference between arms must beat. */
  seeds?: number;
  /** LoRA instead of full fine-tuning: every arm trains its own rank-loraRank adapters (from
   *  the same start) over one frozen copy of the base. Absent: every weight trains. */
  loraRank?: number;
  /** The adapters' alpha (default 2 × loraRank). */
  loraAlpha?: number;
  /** The adapted projections (default all seven). */
  loraTargets?: LoraTarget[];
}

/** The training seeds of a run: config.seed, config.seed + 1, … (config.seeds of them). */
export function trainingSeeds(config: Pick<ExperimentConfig, 'seed' | 'seeds'>): number[] {
  return Array.from({ length: Math.max(1, config.seeds ?? 1) }, (_, k) => config.seed + k);
}

/** One training step of one arm. */
export interface TrainMetrics {
  kind: 'train';
  arm: Arm;
  /** The training seed of this arm's run (absent in runs recorded before seeds existed: config.seed). */
  trainSeed?: number;
  step: number;
  /** Weighted CE on the arm's supervised tokens (Σw·CE / Σw). */
  loss: number;
  lr: number;
  /** Supervised (weight > 0) tokens seen so far by this arm. */
  supervisedTokens: number;
  tokensPerSecond: number;
  elapsedMs: number;
}

/** Periodic evaluation of one arm on held-out data. */
export interface EvalMetrics {
  kind: 'eval';
  arm: Arm;
  /** The training seed of this arm's run (absent in runs recorded before seeds existed: config.seed). */
  trainSeed?: number;
  step: number;
  /** Held-out loss on the critical steps' agent turns and on all agent turns. */
  heldOutLossCritical: number;
  heldOutLossAll: number;
  /** Next-action exact match given the true history (held-out expert trajectories). */
  nextActionAccuracy?: number;
  /** Rollout success rates in the environments (when rollouts ran at this step). */
  successHeldIn?: number;
  successHeldOut?: number;
  rolloutSeeds?: number[];
  /** The built-in expert on the same rollout episodes under the same turn cap: the most
   *  these success rates could be (a cap below an environment's limit cuts long tasks). */
  expertSuccessHeldIn?: number;
  expertSuccessHeldOut?: number;
}

/** The starting weights — the untuned base every arm fine-tunes — measured once, before any
 *  training step, on the same held-out data, next-action queries and rollout episodes as the
 *  arms' evaluations: the reference every arm's line is read against. */
export interface BaselineMetrics extends Omit<EvalMetrics, 'kind' | 'arm' | 'trainSeed'> {
  kind: 'baseline';
  /** Always 0. */
  step: number;
}

export interface RunStatus {
  kind: 'status';
  state: 'idle' | 'preparing' | 'training' | 'paused' | 'evaluating' | 'done' | 'stopped' | 'error';
  message?: string;
  /** GPU memory held by the runner (parameters, gradients, moments, activations). */
  gpuBytes?: number;
  adapter?: string;
  step?: number;
  totalSteps?: number;
  /** Wall-clock time since the run started (training and evaluation), so a clock can keep
   *  running through evaluations. */
  elapsedMs?: number;
}

/** Why a run ended before its last step, as data: each is sent once per run, and nothing of
 *  that run follows it. The page shows `failureMessage(f)`; a lost device offers the resume. */
export type RunFailure =
  /** The GPU device is gone (driver reset, a background tab, a destroyed device):
   *  `reason` and `message` are the device's own (GPUDeviceLostInfo). */
  | { kind: 'device-lost'; reason: string; message: string }
  /** The model, batch or context does not fit the GPU's memory or its buffer limits. */
  | { kind: 'out-of-memory'; message: string }
  /** The configuration or its data cannot train (no arm, no labelled step, a too long sequence, …). */
  | { kind: 'bad-input'; message: string }
  /** The run was dropped before it ended (`reason`: another run replaced it). */
  | { kind: 'cancelled'; reason: 'replaced'; message: string }
  /** Anything else (also every failure of a run stored before failures had kinds). */
  | { kind: 'error'; message: string };

export type FailureKind = RunFailure['kind'];
export const FAILURE_KINDS: readonly FailureKind[] = ['device-lost', 'out-of-memory', 'bad-input', 'cancelled', 'error'];

export interface LogLine {
  kind: 'log';
  message: string;
}

/** What a run sends, before the worker stamps it with the run's id. */
export type RunEvent = TrainMetrics | EvalMetrics | BaselineMetrics | RunStatus | RunFailure | LogLine;

/** An event as the page receives it: `runId` is the id the page gave the run when it started
 *  it, so a late event of an earlier run is told apart and ignored. Absent in runs stored
 *  before run ids existed, and in the CLI's events (one run per process). */
export type ExperimentEvent = RunEvent & { runId?: string };

export function isFailure(e: { kind: string }): e is RunFailure {
  return (FAILURE_KINDS as readonly string[]).includes(e.kind);
}

/** The failure in one sentence, as the page and the CLI show it. */
export function failureMessage(f: RunFailure): string {
  if (f.kind === 'device-lost') return `The GPU device was lost (${deviceLostReason(f)}). Resume to continue from the last checkpoint.`;
  return f.message;
}

/** "destroyed: Device was destroyed": the device's reason and message, without a closing full stop. */
export function deviceLostReason(f: Extract<RunFailure, { kind: 'device-lost' }>): string {
  return `${f.reason}: ${f.message.replace(/\.$/, '')}`;
}

/** What the experiment worker exposes (through comlink). */
export interface ExperimentWorkerApi {
  /** Starts (or resumes from a checkpoint key) a run; its events stream to `onEvent`, each
   *  stamped with `runId` (the page's id for this start). Resolves when the run has ended. */
  start(runId: string, config: ExperimentConfig, onEvent: (e: ExperimentEvent) => void, resumeFrom?: string): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** Weights of one arm in Hugging Face layout (config.json text + model.safetensors bytes);
   *  with several training seeds, the run of `trainSeed` (default: the first seed). */
  exportWeights(arm: Arm, trainSeed?: number): Promise<{ configJson: string; safetensors: ArrayBuffer }>;
  /** LoRA runs: one arm's adapter tensors by PEFT's names (the run of `trainSeed`, default the
   *  first seed). Refused for a run that trained every weight. */
  exportAdapter(arm: Arm, trainSeed?: number): Promise<Map<string, Float32Array>>;
}

/** Every projection LoRA can adapt, in the engine's order (src/engine/lora.ts LORA_TARGET_NAMES):
 *  the default of `loraTargets`. */
export const ALL_LORA_TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];

/** The LoRA adapters a configuration asks for, or undefined for full fine-tuning. */
export function loraSpecOf(config: Pick<ExperimentConfig, 'loraRank' | 'loraAlpha' | 'loraTargets'>): LoraSpec | undefined {
  if (config.loraRank === undefined) return undefined;
  return { rank: config.loraRank, alpha: config.loraAlpha ?? 2 * config.loraRank, targets: config.loraTargets ?? [...ALL_LORA_TARGETS] };
}

/** How the arms train, in words: "LoRA rank 8 (alpha 16) on q, v, down" or "every weight". */
export function trainingText(config: Pick<ExperimentConfig, 'loraRank' | 'loraAlpha' | 'loraTargets'>): string {
  const spec = loraSpecOf(config);
  if (!spec) return 'every weight (full fine-tuning)';
  return `LoRA rank ${spec.rank} (alpha ${spec.alpha}) on ${spec.targets.length === ALL_LORA_TARGETS.length ? 'all seven projections' : spec.targets.join(', ')}`;
}
