// The engine behind a message boundary: arms (model + trainer) addressed by id, plain
// data in and out. workers/engine.worker.ts exposes one EngineHost with comlink; Node code
// and tests can use it directly. Holds no DOM or worker references.
import { createGpuContext, type GpuContext } from './device.ts';
import { createModel, type Model } from './model.ts';
import { Trainer, type EvalResult, type StepResult, type TrainHyper } from './trainer.ts';
import { Workspace } from './workspace.ts';
import { gpuResources } from './gpu/resources.ts';
import type { LlamaConfig } from './config.ts';
import type { NamedTensors } from './params.ts';
import type { TokenBatch } from './batch.ts';
import type { MatmulVariant } from './kernels/matmul.ts';

export interface ArmOptions {
  hyper?: Partial<TrainHyper>;
  /** Id of a workspace made with createWorkspace (arms trained side by side share it). */
  workspace?: string;
  maxBatch?: number;
  maxSeqLen?: number;
  matmul?: MatmulVariant;
}

export class EngineHost {
  private ctx?: GpuContext;
  private arms = new Map<string, { model: Model; trainer: Trainer }>();
  private workspaces = new Map<string, Workspace>();

  /** Acquires the GPU; returns the adapter description. */
  async init(): Promise<{ adapter: string }> {
    this.ctx ??= await createGpuContext();
    return { adapter: this.ctx.description };
  }

  private gpu(): GpuContext {
    if (!this.ctx) throw new Error('engine not initialised: call init() first');
    return this.ctx;
  }

  private arm(id: string) {
    const a = this.arms.get(id);
    if (!a) throw new Error(`no arm "${id}" (create it with createArm)`);
    return a;
  }

  createWorkspace(id: string, opts: { maxBatch: number; maxSeqLen: number; configs: LlamaConfig[] }): { bytes: number } {
    if (this.workspaces.has(id)) throw new Error(`workspace "${id}" exists`);
    const ws = new Workspace(gpuResources(this.gpu()), opts);
    this.workspaces.set(id, ws);
    return { bytes: ws.bytes };
  }

  async createArm(id: string, config: LlamaConfig, init: { seed: number } | NamedTensors, opts: ArmOptions = {}): Promise<{ params: number; gpuBytes: number }> {
    if (this.arms.has(id)) throw new Error(`arm "${id}" exists`);
    const workspace = opts.workspace === undefined ? undefined : this.workspaces.get(opts.workspace);
    if (opts.workspace !== undefined && !workspace) throw new Error(`no workspace "${opts.workspace}"`);
    const model = await createModel(this.gpu(), config, init);
    try {
      const trainer = new Trainer(model, opts.hyper, { workspace, maxBatch: opts.maxBatch, maxSeqLen: opts.maxSeqLen, matmul: opts.matmul });
      this.arms.set(id, { model, trainer });
      return { params: model.layout.paramCount, gpuBytes: model.res.gpuBytes };
    } catch (err) {
      model.destroy();
      throw err;
    }
  }

  step(id: string, microBatches: TokenBatch[]): Promise<StepResult> {
    return this.arm(id).trainer.step(microBatches);
  }

  evalLoss(id: string, batch: TokenBatch): Promise<EvalResult> {
    return this.arm(id).trainer.forwardLoss(batch);
  }

  readParams(id: string): Promise<NamedTensors> {
    return this.arm(id).model.readParams();
  }

  writeParams(id: string, tensors: NamedTensors): void {
    this.arm(id).model.writeParams(tensors);
  }

  /** Trains arm `id` on `batch` for warmup + steps steps, each awaited (loss read back,
   *  queue drained); returns the median milliseconds per timed step. For benchmarks. */
  async timeSteps(id: string, batch: TokenBatch, warmup: number, steps: number): Promise<{ msPerStep: number; dispatchesPerStep: number; variant: string }> {
    const { trainer } = this.arm(id);
    for (let i = 0; i < warmup; i++) await trainer.step([batch]);
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await trainer.step([batch]);
      await this.gpu().device.queue.onSubmittedWorkDone();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const msPerStep = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    return { msPerStep, dispatchesPerStep: trainer.dispatchesPerStep(batch.batch, batch.seqLen), variant: trainer.variant };
  }

  disposeArm(id: string): void {
    const a = this.arm(id);
    a.trainer.destroy();
    a.model.destroy();
    this.arms.delete(id);
  }

  disposeWorkspace(id: string): void {
    this.workspaces.get(id)?.destroy();
    this.workspaces.delete(id);
  }
}
