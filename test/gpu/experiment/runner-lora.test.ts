// The experiment runner with LoRA: every arm trains its own adapters over ONE frozen base,
// from the same start (the baseline is the base itself), the arms still differ only in their
// loss masks, the exported weights are the merged W + s·B·A, and a checkpoint holds the
// adapters and resumes to the same losses. Tiny model, few steps: plumbing, not learning curves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { gpuResources } from '../../../src/engine/gpu/resources.ts';
import { prepareBuiltinData } from '../../../src/experiment/data.ts';
import { getPreset } from '../../../models/presets.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { initParams } from '../../../src/engine/model.ts';
import type { ExperimentConfig, ExperimentEvent, TrainMetrics } from '../../../src/experiment/protocol.ts';
import { ExperimentRunner } from '../../../src/experiment/runner.ts';
import { tinyExperimentConfig } from './tiny-experiment.ts';
import type { Checkpoint, CheckpointStore } from '../../../src/experiment/checkpoint.ts';
import { loraLayout } from '../../../src/engine/lora.ts';
import { experimentConfigFromOptions } from '../../../src/cli/commands/experiment.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const tiny = getPreset('tiny').config;
const START = initParams(tiny, 1);

function config(over: Partial<ExperimentConfig> = {}): ExperimentConfig {
  return tinyExperimentConfig({ loraRank: 4, loraTargets: ['q', 'v', 'down'], ...over }, 2e-2);
}

function runner(cfg: ExperimentConfig, events: ExperimentEvent[], checkpoints?: CheckpointStore) {
  const model = { config: tiny, label: 'tiny', tensors: START };
  if (cfg.data.kind !== 'builtin') throw new Error('builtin data only here');
  const data = prepareBuiltinData(cfg.data, cfg.selector, cfg.budget);
  return new ExperimentRunner(cfg, { ctx, tokenizer: defaultTokenizer(), model, data, emit: (e) => events.push(e), checkpoints, checkpointKey: checkpoints ? 'k' : undefined });
}

describe('ExperimentRunner with LoRA', () => {
  it('trains each arm’s adapters over one frozen base; the exported weights are the merged ones', async () => {
    const events: ExperimentEvent[] = [];
    const bytesBefore = gpuResources(ctx).gpuBytes;
    const r = runner(config({ evalEvery: 4, nextActionQueries: 0 }), events);
    await r.run();
    const train = events.filter((e): e is TrainMetrics => e.kind === 'train');
    for (const arm of ['critical', 'full'] as const) {
      const losses = train.filter((e) => e.arm === arm).map((e) => e.loss);
      expect(losses).toHaveLength(4);
      expect(losses[3]).toBeLessThan(losses[0]);
    }
    expect(events.some((e) => e.kind === 'log' && /LoRA: 3 projections per layer, rank 4, alpha 8; one frozen base shared by 2 runs/.test(e.message))).toBe(true);
    // the merged weights: every adapted projection moved, nothing else (norms, embedding, k, up) did
    const w = await r.armWeights('critical');
    const changed = (n: string) => w.get(n)!.some((x, i) => x !== START.get(n)![i]);
    expect(changed('model.layers.0.self_attn.q_proj.weight')).toBe(true);
    expect(changed('model.layers.0.mlp.down_proj.weight')).toBe(true);
    for (const n of ['model.layers.0.self_attn.k_proj.weight', 'model.layers.0.mlp.up_proj.weight', 'model.norm.weight', 'model.embed_tokens.weight']) expect(changed(n), n).toBe(false);
    // the two arms' merged weights differ (their masks differ)
    const full = await r.armWeights('full');
    expect(full.get('model.layers.0.self_attn.q_proj.weight')!.some((x, i) => x !== w.get('model.layers.0.self_attn.q_proj.weight')![i])).toBe(true);
    r.destroy();
    // the shared base was freed (once), and every adapter, trainer and workspace; what is left is
    // the device's cache of small uniform buffers (kept for later plans)
    expect(gpuResources(ctx).gpuBytes - bytesBefore).toBeLessThan(4096);
  });

  it('the untuned baseline is the base model itself (every adapter starts at B = 0)', async () => {
    const withLora: ExperimentEvent[] = [];
    const without: ExperimentEvent[] = [];
    for (const [cfg, ev] of [[config({ evalEvery: 2, nextActionQueries: 0 }), withLora], [config({ evalEvery: 2, nextActionQueries: 0, loraRank: undefined, loraTargets: undefined }), without]] as const) {
      const r = runner(cfg, ev);
      await r.run();
      r.destroy();
    }
    const base = (ev: ExperimentEvent[]) => ev.find((e) => e.kind === 'baseline') as { heldOutLossAll?: number; heldOutLossCritical?: number } | undefined;
    expect(base(withLora)?.heldOutLossAll).toBeGreaterThan(0);
    expect(base(withLora)!.heldOutLossAll).toBe(base(without)!.heldOutLossAll);
    expect(base(withLora)!.heldOutLossCritical).toBe(base(without)!.heldOutLossCritical);
  });

  it('checkpoints hold the adapters and resume to the same losses', async () => {
    const saved: Checkpoint[] = [];
    const store: CheckpointStore = { save: async (cp) => void saved.push(cp), load: async () => saved.find((c) => c.step === 2) };
    const events: ExperimentEvent[] = [];
    const cfg = config({ evalEvery: 2, nextActionQueries: 0 });
    const r1 = runner(cfg, events, store);
    await r1.run();
    r1.destroy();
    expect(saved[0].arms.critical!.length).toBe(loraLayout(tiny, { rank: 4, alpha: 8, targets: ['q', 'v', 'down'] }).totalFloats);
    const resumed: ExperimentEvent[] = [];
    const r2 = runner(cfg, resumed, store);
    await r2.run(await store.load('k'));
    r2.destroy();
    for (const arm of ['critical', 'full'] as const) {
      const a = events.find((e): e is TrainMetrics => e.kind === 'train' && e.arm === arm && e.step === 3)!;
      const b = resumed.find((e): e is TrainMetrics => e.kind === 'train' && e.arm === arm && e.step === 3)!;
      expect(Math.abs(b.loss - a.loss)).toBeLessThan(1e-5 * a.loss);
    }
  });

  it('atlas experiment takes --lora, --lora-alpha and --lora-targets, and refuses them alone', () => {
    const c = experimentConfigFromOptions({ lora: '8', 'lora-alpha': '4', 'lora-targets': 'v,q' });
    expect([c.loraRank, c.loraAlpha, c.loraTargets]).toEqual([8, 4, ['q', 'v']]);
    expect(experimentConfigFromOptions({ lora: '0' }).loraRank).toBeUndefined();
    expect(() => experimentConfigFromOptions({ 'lora-targets': 'q' })).toThrow(/--lora-targets needs --lora R/);
    expect(() => experimentConfigFromOptions({ 'lora-alpha': '4' })).toThrow(/--lora-alpha needs --lora R/);
    expect(() => experimentConfigFromOptions({ lora: '6' })).toThrow(/multiple of 4/);
  });
});
