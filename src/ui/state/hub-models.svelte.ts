// The Train step's hub model picker: which hub id is picked, what it weighs (the file list and
// config.json, fetched first) and the memory plan of training it with the current settings,
// the download in progress (workers/hub.worker.ts, into OPFS), and the models already in the
// browser's hub cache. Downloads go through the hub-mirror setting the local judge uses
// (experiment.config.selector.hubMirror).
import { DEFAULT_HUB_MIRROR, HUB_SUGGESTIONS, hubRefText, hubStoreKey, normalizeHubMirror, parseHubRef, type HubRef } from '../../hub/hub-id.ts';
import type { HubModelInfo, HubProgress } from '../../hub/fetch-model.ts';
import type { HubPlan, HubWorkerApi } from '../../hub/protocol.ts';
import { deleteCachedHubModel, listCachedHubModels, type CachedHubModel } from '../../hub/opfs-folder.ts';
import { loraSpecOf } from '../../experiment/protocol.ts';
import type { PlanLimits } from '../../engine/memory-plan.ts';
import { experiment } from './experiment.svelte.ts';
import { spawnWorker, workerAvailable, Comlink, type WorkerHandle } from './workers.ts';

let limitsPromise: Promise<PlanLimits | undefined> | undefined;

/** This browser's adapter limits (the plan is checked against them); undefined without an adapter. */
function adapterLimits(): Promise<PlanLimits | undefined> {
  return (limitsPromise ??= (async () => {
    const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter().catch(() => null);
    return adapter ? { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } : undefined;
  })());
}

class HubModelsState {
  /** The hub id typed or picked (ORG/NAME[@REV]). */
  id = $state(HUB_SUGGESTIONS[0].id);
  /** The picked model's files and config (after inspect), for the id it was fetched for. */
  info = $state.raw<HubModelInfo | null>(null);
  plan = $state.raw<HubPlan | null>(null);
  /** The plan is checked against this browser's adapter (false: WebGPU's default limits). */
  planOwnLimits = $state(true);
  busy = $state<'' | 'inspecting' | 'downloading'>('');
  progress = $state.raw<HubProgress | null>(null);
  error = $state('');
  cached = $state.raw<CachedHubModel[]>([]);
  readonly available = workerAvailable('hub');
  private worker?: WorkerHandle<HubWorkerApi>;

  /** The mirror downloads go through (the judge's setting). */
  get mirror(): string {
    return experiment.config.selector.hubMirror?.trim() || DEFAULT_HUB_MIRROR;
  }

  private async api(): Promise<Comlink.Remote<HubWorkerApi>> {
    this.worker ??= await spawnWorker<HubWorkerApi>('hub', (m) => (this.error = m));
    return this.worker.api;
  }

  /** The picked id as a ref, or an error shown to the user. */
  private ref(): HubRef | undefined {
    try {
      return parseHubRef(this.id, 'hub id');
    } catch (err) {
      this.error = (err as Error).message;
      return undefined;
    }
  }

  pick(id: string) {
    this.id = id;
    this.info = null;
    this.plan = null;
    this.progress = null;
    this.error = '';
  }

  /** Fetches the file list and config.json (not the weights): size and memory plan. */
  async inspect(): Promise<void> {
    const ref = this.ref();
    if (!ref) return;
    this.info = null;
    this.plan = null;
    await this.whileBusy('inspecting', async () => {
      this.info = await (await this.api()).inspect(ref, normalizeHubMirror(this.mirror));
      await this.updatePlan();
    });
  }

  /** Runs one hub operation: busy while it runs, its error shown, the cached list refreshed. */
  private async whileBusy(kind: 'inspecting' | 'downloading', run: () => Promise<void>): Promise<void> {
    this.error = '';
    this.busy = kind;
    try {
      await run();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = '';
      await this.refreshCached();
    }
  }

  /** The memory plan of training the inspected model with the Train step's batch, sequence and LoRA settings. */
  async updatePlan(): Promise<void> {
    const info = this.info;
    if (!info) return;
    const e = experiment.config.experiment;
    const limits = await adapterLimits();
    this.planOwnLimits = limits !== undefined;
    const lora = loraSpecOf(e);
    this.plan = await (await this.api()).plan({ config: info.config, batch: e.hyper.batchSize, seq: e.hyper.seqLen, lora: lora && $state.snapshot(lora), limits });
  }

  /** Downloads the rest of the model (resuming any part), then trains from it. */
  async download(): Promise<void> {
    const ref = this.ref();
    if (!ref) return;
    await this.whileBusy('downloading', async () => {
      this.info = await (await this.api()).download(ref, normalizeHubMirror(this.mirror), Comlink.proxy((p: HubProgress) => (this.progress = p)));
      this.use(ref);
    });
  }

  async cancel(): Promise<void> {
    await this.worker?.api.cancel();
  }

  /** Trains from a cached model (the same path as a picked folder: ModelSource kind 'stored'). */
  use(ref: HubRef) {
    experiment.useModel({ kind: 'stored', key: hubStoreKey(ref), label: `${hubRefText(ref)} (downloaded from the hub)` });
  }

  async refreshCached(): Promise<void> {
    try {
      this.cached = await listCachedHubModels();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  async remove(ref: HubRef): Promise<void> {
    await deleteCachedHubModel(ref);
    await this.refreshCached();
  }
}

export const hubModels = new HubModelsState();
