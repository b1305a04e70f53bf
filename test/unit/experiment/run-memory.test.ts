// The experiment's memory plan (src/experiment/run-memory.ts): one run's plan is the engine's
// (src/engine/memory-plan.ts) for the sizes the runner builds — the shared workspace for batch ×
// seq, the trainer's accumulation slots and evaluation readback, a generator sized like the
// runner's — and the total counts what runs share once and the rest once per run (arms × seeds).
// A model's shape comes from config.json alone (src/experiment/model-config.ts).
import { describe, expect, it } from 'vitest';
import { getPreset } from '../../../models/presets.ts';
import { memoryPlan, PLAN_CATEGORIES } from '../../../src/engine/memory-plan.ts';
import { configToHf } from '../../../src/engine/config.ts';
import { experimentPreset } from '../../../src/experiment/presets.ts';
import { trainingText, type ExperimentConfig } from '../../../src/experiment/protocol.ts';
import { experimentMemoryPlan, generatorSize, runPlanOptions } from '../../../src/experiment/run-memory.ts';
import { modelConfigOf, storedModelConfig } from '../../../src/experiment/model-config.ts';

const SWIFTSHADER = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };
const tiny = getPreset('tiny').config;

function config(over: Partial<ExperimentConfig> = {}, hyper: Partial<ExperimentConfig['hyper']> = {}): ExperimentConfig {
  const c = experimentPreset('quick-demo');
  return { ...c, model: { kind: 'preset', name: 'tiny' }, ...over, hyper: { ...c.hyper, batchSize: 2, seqLen: 512, ...hyper } };
}

describe('the experiment memory plan', () => {
  it('one run is the engine plan for the runner’s sizes', () => {
    const c = config({ loraRank: 4, loraTargets: ['q', 'v'], nextActionQueries: 8, rolloutEpisodes: 2 }, { accumSteps: 2 });
    const p = experimentMemoryPlan(tiny, c, SWIFTSHADER);
    // the Quick demo's data: two environments × two splits × 2 episodes = 8 rollout rows
    expect(generatorSize(c)).toEqual({ maxBatch: 8, maxSeq: 512 });
    const engine = memoryPlan(tiny, { batch: 2, seq: 512, lora: { rank: 4, alpha: 8, targets: ['q', 'v'] }, limits: SWIFTSHADER, accumSteps: 2, eval: true, generation: { maxBatch: 8, maxSeq: 512 } });
    expect(p.run.totals).toEqual(engine.totals);
    expect(p.run.buffers.map((b) => [b.label, b.bytes])).toEqual(engine.buffers.map((b) => [b.label, b.bytes]));
    expect(p.run.fits).toBe(true);
  });

  it('counts the shared workspace (and with LoRA the frozen base) once, everything else per run', () => {
    for (const lora of [undefined, 8]) {
      const c = config({ loraRank: lora, seeds: 3, arms: ['critical', 'full'] });
      const p = experimentMemoryPlan(tiny, c, SWIFTSHADER);
      expect(p.runs).toBe(6);
      const once = lora ? ['weights', 'activations', 'logits'] : ['activations', 'logits'];
      expect(p.shared).toEqual(once);
      for (const cat of PLAN_CATEGORIES) expect(p.totals[cat], `${cat} with lora ${lora}`).toBe(p.run.totals[cat] * (once.includes(cat) ? 1 : 6));
      expect(p.total).toBe(PLAN_CATEGORIES.reduce((a, cat) => a + p.totals[cat], 0));
      expect(p.totals.gradients).toBeGreaterThan(0);
      expect(p.totals.adapter > 0).toBe(!!lora);
    }
  });

  it('plans no generator when the evaluation generates nothing', () => {
    const c = config({ nextActionQueries: 0, rolloutEpisodes: 0 });
    expect(runPlanOptions(c, SWIFTSHADER).generation).toBeUndefined();
    expect(experimentMemoryPlan(tiny, c, SWIFTSHADER).totals.kvCache).toBe(0);
  });

  it('refuses a huge batch × context, naming the largest buffer and what would fit', () => {
    const p = experimentMemoryPlan(tiny, config({}, { batchSize: 100_000 }), SWIFTSHADER);
    expect(p.run.fits).toBe(false);
    // the engine's refusal for the same options: the largest buffer over a limit, and what fits
    const engine = memoryPlan(tiny, { ...runPlanOptions(config({}, { batchSize: 100_000 }), SWIFTSHADER) });
    expect(p.run.message).toBe(engine.message);
    expect(p.run.message).toMatch(/^Model does not fit this GPU: .* needs [\d.]+ GiB.*above (maxStorageBufferBindingSize|maxBufferSize|this adapter's).*It would fit with .*batch ≤ \d+/);
    // a sequence longer than the model's context is refused as the runner refuses it
    expect(experimentMemoryPlan(getPreset('test').config, config(), SWIFTSHADER).run.message).toMatch(/sequence 512 is longer than the model's context \(32 positions\)/);
    // bad LoRA settings throw, as the runner refuses them
    expect(() => experimentMemoryPlan(tiny, config({ loraRank: 6 }), SWIFTSHADER)).toThrow(/rank must be a positive multiple of 4/);
  });

  it('says how the arms train', () => {
    expect(trainingText(config())).toBe('every weight (full fine-tuning)');
    expect(trainingText(config({ loraRank: 8 }))).toBe('LoRA rank 8 (alpha 16) on all seven projections');
    expect(trainingText(config({ loraRank: 4, loraAlpha: 2, loraTargets: ['q', 'down'] }))).toBe('LoRA rank 4 (alpha 2) on q, down');
  });
});

describe('a model’s shape without its weights', () => {
  const json = JSON.stringify(configToHf(tiny));
  const deps = (files: Record<string, string>) => ({
    fetch: (async (url: string) => (url in files ? new Response(files[url]) : new Response('', { status: 404, statusText: 'Not Found' }))) as typeof fetch,
    storedFiles: async () => undefined,
  });

  it('reads a preset, a URL folder’s config.json and a picked folder’s config.json or llama2.c header', async () => {
    expect(await modelConfigOf({ kind: 'preset', name: 'tiny' }, deps({}))).toEqual(tiny);
    const fromUrl = await modelConfigOf({ kind: 'url', url: 'https://x.test/m' }, deps({ 'https://x.test/m/config.json': json }));
    expect([fromUrl.dModel, fromUrl.nLayers, fromUrl.vocabSize, fromUrl.maxSeqLen]).toEqual([32, 1, 1024, 512]);
    await expect(modelConfigOf({ kind: 'url', url: 'https://x.test/none/' }, deps({}))).rejects.toThrow('https://x.test/none/config.json: HTTP 404 Not Found');
    await expect(modelConfigOf({ kind: 'stored', key: 'model:gone', label: 'gone' }, deps({}))).rejects.toThrow('the stored model "gone" is no longer in this browser\'s storage');
    const stored = await storedModelConfig('my-model', [{ path: 'my-model/config.json', blob: new Blob([json]) }]);
    expect(stored.hiddenDim).toBe(tiny.hiddenDim);
    // llama2.c: dim 64, hidden 172, 2 layers, 4 heads, 4 kv heads, vocab 512 (shared), context 128
    const header = new Blob([new Int32Array([64, 172, 2, 4, 4, 512, 128]), new Uint8Array(1000)]);
    const bin = await storedModelConfig('stories', [{ path: 'tok512.bin', blob: new Blob([new Uint8Array(10)]) }, { path: 'stories.bin', blob: header }]);
    expect([bin.dModel, bin.nLayers, bin.vocabSize, bin.maxSeqLen, bin.tiedEmbeddings]).toEqual([64, 2, 512, 128, true]);
    await expect(storedModelConfig('empty', [])).rejects.toThrow('empty: neither config.json (Hugging Face folder) nor a llama2.c .bin checkpoint');
    await expect(storedModelConfig('bad', [{ path: 'config.json', blob: new Blob(['{"model_type":"gpt2"}']) }])).rejects.toThrow(/^bad\/config\.json: .*model_type "gpt2"/);
  });
});
