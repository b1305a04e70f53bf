// The memory plan the Train step shows before Start, and the reason Start is refused when the
// run cannot be built (src/experiment/run-memory.ts: the engine's plan, sized as the runner
// sizes the run; its code loads on first use). Its inputs: the model's shape — a preset's at
// once, a URL or picked folder's (or downloaded hub model's) config.json read once per source
// (src/experiment/model-config.ts), never the weights — the configuration's batch, context,
// LoRA, arms and seeds, and the adapter's limits (gpu.svelte.ts; without WebGPU the bytes are
// shown against no limit).
import type { LlamaConfig } from '../../engine/config.ts';
import { knownModelConfig, modelConfigOf, type StoredFiles } from '../../experiment/model-config.ts';
import type { ModelSource } from '../../experiment/protocol.ts';
import type { ExperimentMemoryPlan } from '../../experiment/run-memory.ts';
import { loadModelFiles } from '../../store/models.ts';
import { refFromStoreKey } from '../../hub/hub-id.ts';
import { cachedHubFiles } from '../../hub/opfs-folder.ts';
import { experiment } from './experiment.svelte.ts';
import { gpu } from './gpu.svelte.ts';

export type PlanView =
  /** The model's config.json is being read. */
  | { kind: 'loading'; text: string }
  /** The model's shape could not be read before loading it (the run will say more). */
  | { kind: 'unknown'; text: string }
  /** Settings no memory fixes (bad LoRA settings, a model the engine does not run): Start is refused. */
  | { kind: 'invalid'; text: string }
  | { kind: 'plan'; plan: ExperimentMemoryPlan; limitsKnown: boolean };

/** A URL typed into the field is read once typing pauses. */
const URL_PAUSE_MS = 400;

const sourceKey = (src: ModelSource) => JSON.stringify(src);

/** A stored model's files where the workers find them (workers/model-files.ts): a downloaded hub
 *  model's in OPFS, a picked folder's in IndexedDB. */
async function storedFiles(src: Extract<ModelSource, { kind: 'stored' }>): Promise<StoredFiles | undefined> {
  const hub = refFromStoreKey(src.key);
  if (hub) return (await cachedHubFiles(hub)).map((f) => ({ path: f.name, blob: f }));
  return (await loadModelFiles(src.key))?.files;
}

/** The plan's code (the engine's allocators' sizing functions), loaded on first use so the page
 *  itself starts without the engine. */
type RunMemory = typeof import('../../experiment/run-memory.ts');

class MemoryPlanState {
  /** The shape of the last URL or stored model read, by its source. */
  private shape = $state.raw<{ key: string; config?: LlamaConfig; error?: string } | null>(null);
  private lib = $state.raw<RunMemory | { error: string } | null>(null);
  private libLoading = false;
  private pending = '';
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Loads the plan's code, and reads the shape of `src` unless it is known or being read
   *  (call it from an effect). */
  watch(src: ModelSource): void {
    if (!this.libLoading) {
      this.libLoading = true;
      import('../../experiment/run-memory.ts').then(
        (m) => (this.lib = m),
        (err: unknown) => (this.lib = { error: `the memory plan's code did not load: ${err instanceof Error ? err.message : String(err)}` }),
      );
    }
    const key = sourceKey(src);
    if (knownModelConfig(src) || this.shape?.key === key || this.pending === key) return;
    this.pending = key;
    clearTimeout(this.timer);
    const read = async () => {
      let next: { key: string; config?: LlamaConfig; error?: string };
      try {
        next = { key, config: await modelConfigOf(src, { fetch: (u) => fetch(u), storedFiles }) };
      } catch (err) {
        next = { key, error: err instanceof Error ? err.message : String(err) };
      }
      // A later source replaced this one meanwhile: its own read will report.
      if (this.pending === key) {
        this.pending = '';
        this.shape = next;
      }
    };
    this.timer = setTimeout(read, src.kind === 'url' ? URL_PAUSE_MS : 0);
  }

  readonly view: PlanView = $derived.by(() => {
    const lib = this.lib;
    if (!lib) return { kind: 'loading', text: 'Loading the memory plan…' };
    if ('error' in lib) return { kind: 'unknown', text: `No memory plan: ${lib.error}` };
    const e = experiment.config.experiment;
    const key = sourceKey(e.model);
    const config = knownModelConfig(e.model) ?? (this.shape?.key === key ? this.shape.config : undefined);
    if (!config) {
      if (this.shape?.key === key && this.shape.error) return { kind: 'unknown', text: `No memory plan before the model loads: ${this.shape.error}` };
      return { kind: 'loading', text: 'Reading the model’s config.json for the memory plan…' };
    }
    try {
      return { kind: 'plan', plan: lib.experimentMemoryPlan(config, e, gpu.limits ?? lib.NO_LIMITS), limitsKnown: gpu.limits !== null };
    } catch (err) {
      return { kind: 'invalid', text: err instanceof Error ? err.message : String(err) };
    }
  });

  /** Why Start is refused ('' when it is not): the plan's refusal or the settings' problem. */
  readonly refusal: string = $derived(this.view.kind === 'invalid' ? this.view.text : this.view.kind === 'plan' && !this.view.plan.run.fits ? this.view.plan.run.message : '');
}

export const memoryPlanState = new MemoryPlanState();
