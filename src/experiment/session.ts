// One experiment from configuration to result, independent of where it runs: resolves the
// model and data, runs the arms and relays events. The browser worker and the CLI wrap it.
import { hashSeed } from '../data/rng.ts';
import type { Trajectory } from '../data/trajectory.ts';
import type { GpuContext } from '../engine/device.ts';
import { prepareBuiltinData, prepareDatasetData, type ExperimentData } from './data.ts';
import type { ModelWithTokenizer } from './model-source.ts';
import type { ExperimentConfig, ExperimentEvent } from './protocol.ts';
import type { CheckpointStore } from './checkpoint.ts';
import { ExperimentRunner, type ArmResult } from './runner.ts';
import { BadInputError } from './run-events.ts';

export interface SessionDeps {
  ctx: GpuContext;
  resolveModel(config: ExperimentConfig): Promise<ModelWithTokenizer>;
  /** Trajectories of a stored/user dataset (DataSource kind 'dataset'). */
  loadDataset?(id: string): Promise<Trajectory[]>;
  checkpoints?: CheckpointStore;
  emit(e: ExperimentEvent): void;
}

/** Stable key of an experiment configuration (checkpoints are saved under it). */
export function experimentKey(config: ExperimentConfig): string {
  return `exp-${hashSeed(JSON.stringify(config)).toString(16).padStart(8, '0')}`;
}

export async function prepareData(config: ExperimentConfig, deps: Pick<SessionDeps, 'loadDataset'>): Promise<ExperimentData> {
  if (config.data.kind === 'builtin') return prepareBuiltinData(config.data, config.selector, config.budget);
  if (!deps.loadDataset) throw new Error('this runner cannot read stored datasets');
  const ts = await deps.loadDataset(config.data.datasetId);
  if (!ts.length) throw new BadInputError(`dataset "${config.data.datasetId}" holds no trajectories`);
  return prepareDatasetData(ts, config.selector, config.budget, config.seed);
}

export class ExperimentSession {
  runner?: ExperimentRunner;
  readonly key: string;
  constructor(
    readonly config: ExperimentConfig,
    private readonly deps: SessionDeps,
  ) {
    this.key = experimentKey(config);
  }

  async run(resume = false): Promise<ArmResult[]> {
    const { model, tokenizer } = await this.deps.resolveModel(this.config);
    const data = await prepareData(this.config, this.deps);
    this.deps.emit({ kind: 'log', message: `model: ${model.label}; tokenizer: ${tokenizer.name} (${tokenizer.vocabSize} ids); ${data.train.length} training and ${data.heldOut.length} held-out trajectories` });
    const checkpoint = resume && this.deps.checkpoints ? await this.deps.checkpoints.load(this.key) : undefined;
    if (resume && !checkpoint) this.deps.emit({ kind: 'log', message: 'no checkpoint for this configuration: starting from step 0' });
    this.runner = new ExperimentRunner(this.config, { ctx: this.deps.ctx, tokenizer, model, data, emit: this.deps.emit, checkpoints: this.deps.checkpoints, checkpointKey: this.key });
    // The models stay on the GPU after the run so their weights can be exported; dispose()
    // frees them (the worker does so before the next run).
    return this.runner.run(checkpoint);
  }

  dispose(): void {
    this.runner?.destroy();
    this.runner = undefined;
  }
}
