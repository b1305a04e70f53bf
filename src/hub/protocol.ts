// What workers/hub.worker.ts exposes through comlink: a hub model's file list and config (the
// files before the weights) into the browser's cache, the memory plan of training it, and the
// resumable download of its weights with progress. One download at a time; cancel() stops it
// (the bytes that arrived stay, and the next download resumes from them).
import type { LoraSpec } from '../engine/lora.ts';
import type { MemoryPlan, PlanLimits } from '../engine/memory-plan.ts';
import type { LlamaConfig } from '../engine/config.ts';
import type { HubModelInfo, HubProgress } from './fetch-model.ts';
import type { HubRef } from './hub-id.ts';

export interface HubPlanRequest {
  config: LlamaConfig;
  batch: number;
  seq: number;
  lora?: LoraSpec;
  /** The adapter's limits; absent: WebGPU's defaults (the page has no adapter). */
  limits?: PlanLimits;
}

/** The plan, as plain data for the page (or the reason there is none). */
export type HubPlan = Pick<MemoryPlan, 'batch' | 'seq' | 'totals' | 'total' | 'fits' | 'message' | 'trainableParams' | 'frozenParams' | 'attention'> | { error: string };

export interface HubWorkerApi {
  /** The file list, config.json, the tokenizer files and the shard index — not the weights. */
  inspect(ref: HubRef, mirror: string): Promise<HubModelInfo>;
  /** Everything, resuming any part already there; progress per chunk. */
  download(ref: HubRef, mirror: string, onProgress: (p: HubProgress) => void): Promise<HubModelInfo>;
  cancel(): Promise<void>;
  plan(request: HubPlanRequest): Promise<HubPlan>;
}
