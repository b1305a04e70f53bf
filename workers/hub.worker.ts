// Thin comlink shell over src/hub for the Train step's model picker: inspects a hub model
// (file list, config, tokenizer) and downloads its weights into the browser's origin-private
// file system (src/hub/opfs-folder.ts: sync access handles, so only a worker can write), and
// computes the memory plan of training it (the engine's plan code stays off the page's
// main bundle).
import * as Comlink from 'comlink';
import { memoryPlan, WEBGPU_DEFAULT_LIMITS } from '../src/engine/memory-plan.ts';
import { fetchHubModel } from '../src/hub/fetch-model.ts';
import { opfsHubFolder } from '../src/hub/opfs-folder.ts';
import type { HubWorkerApi } from '../src/hub/protocol.ts';

let running: AbortController | undefined;

const api: HubWorkerApi = {
  async inspect(ref, mirror) {
    return fetchHubModel({ ref, mirror, folder: await opfsHubFolder(ref), weights: false });
  },
  async download(ref, mirror, onProgress) {
    if (running) throw new Error('a download is already running');
    running = new AbortController();
    try {
      return await fetchHubModel({ ref, mirror, folder: await opfsHubFolder(ref), onProgress, signal: running.signal });
    } catch (err) {
      if (running.signal.aborted) throw new Error('download cancelled: what arrived is kept, and Download resumes from it');
      throw err;
    } finally {
      running = undefined;
    }
  },
  async cancel() {
    running?.abort();
  },
  async plan({ config, batch, seq, lora, limits }) {
    try {
      const p = memoryPlan(config, { batch, seq: Math.min(seq, config.maxSeqLen), lora, limits: limits ?? WEBGPU_DEFAULT_LIMITS });
      return { batch: p.batch, seq: p.seq, totals: p.totals, total: p.total, fits: p.fits, message: p.message, trainableParams: p.trainableParams, frozenParams: p.frozenParams, attention: p.attention };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  },
};

Comlink.expose(api);
