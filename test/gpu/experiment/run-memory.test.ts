// The experiment's memory plan (src/experiment/run-memory.ts, what the page shows before Start)
// against what the runner actually allocates for a whole experiment: two arms × two training
// seeds, full training and LoRA, with accumulation slots, evaluation and a generator per run.
// After the run (every buffer made, the evaluation's included), the live buffers the runner
// created — kernel uniforms and generation's prefix-copy scratch apart, which the plan leaves
// out — are the plan's: per-run buffers once per run, shared ones (the workspace, with LoRA the
// frozen base) once, by label and size, and their bytes are its total.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { gpuResources, UNIFORM_LABEL } from '../../../src/engine/gpu/resources.ts';
import { getPreset } from '../../../models/presets.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { initParams } from '../../../src/engine/model.ts';
import { prepareBuiltinData } from '../../../src/experiment/data.ts';
import type { ExperimentConfig } from '../../../src/experiment/protocol.ts';
import { ExperimentRunner } from '../../../src/experiment/runner.ts';
import { experimentMemoryPlan } from '../../../src/experiment/run-memory.ts';
import { tinyExperimentConfig } from './tiny-experiment.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

const tiny = getPreset('tiny').config;
const START = initParams(tiny, 1);
const counts = (labels: string[]) => labels.reduce<Record<string, number>>((m, l) => ((m[l] = (m[l] ?? 0) + 1), m), {});

const CASES: Array<{ name: string; over: Partial<ExperimentConfig> }> = [
  { name: 'full training', over: {} },
  { name: 'LoRA rank 4 on q, v, down', over: { loraRank: 4, loraTargets: ['q', 'v', 'down'] } },
];

describe('the experiment memory plan = the runner’s buffers', () => {
  for (const k of CASES) {
    it(k.name, async () => {
      const cfg = tinyExperimentConfig({ evalEvery: 2, seeds: 2, nextActionQueries: 2, ...k.over, hyper: { ...tinyExperimentConfig().hyper, steps: 2, batchSize: 1, accumSteps: 2 } });
      const limits = { maxStorageBufferBindingSize: ctx.limits.maxStorageBufferBindingSize, maxBufferSize: ctx.limits.maxBufferSize };
      const plan = experimentMemoryPlan(tiny, cfg, limits);
      expect(plan.runs).toBe(4);
      expect(plan.run.fits).toBe(true);

      const res = gpuResources(ctx);
      const before = new Set<object>(res.liveBuffers());
      if (cfg.data.kind !== 'builtin') throw new Error('builtin data only here');
      const r = new ExperimentRunner(cfg, { ctx, tokenizer: defaultTokenizer(), model: { config: tiny, label: 'tiny', tensors: START }, data: prepareBuiltinData(cfg.data, cfg.selector, cfg.budget), emit: () => undefined });
      await r.run();
      const made = res.liveBuffers().filter((b) => !before.has(b) && b.label !== UNIFORM_LABEL && b.label !== 'generator.prefixScratch');
      r.destroy();

      // every planned buffer, shared ones once and the rest once per run
      const expected: Array<{ label: string; size: number }> = [];
      for (const b of plan.run.buffers) for (let i = 0; i < (plan.shared.includes(b.category) ? 1 : plan.runs); i++) expected.push({ label: b.label, size: b.bytes });
      expect(counts(made.map((b) => `${b.label} ${b.size}`))).toEqual(counts(expected.map((b) => `${b.label} ${b.size}`)));
      expect(made.reduce((a, b) => a + b.size, 0)).toBe(plan.total);
    });
  }
});
