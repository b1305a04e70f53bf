// `atlas bench [--config NAME] [--steps N] [--warmup N] [--matmul register8x8|register8x16|register16x8|register|register8x4|register4x8|shared] [--attention stored|recompute|auto] [--json]`:
// trains a named model size on random tokens and reports throughput. Every timed step is
// finished on the GPU (onSubmittedWorkDone) before the next starts.
import { cpus, loadavg } from 'node:os';
import type { Command } from '../main.ts';
import { booleanOptions, intOption, parseCommandArgsOrHelp, stringOptions } from '../args.ts';
import { createGpuContext } from '../../engine/device.ts';
import { createModel } from '../../engine/model.ts';
import { Trainer } from '../../engine/trainer.ts';
import { nonEmbeddingParams } from '../../engine/params.ts';
import { Rng } from '../../data/rng.ts';
import { getPreset } from '../../../models/presets.ts';
import type { TokenBatch } from '../../engine/batch.ts';
import { MATMUL_VARIANTS, type MatmulVariant } from '../../engine/kernels/matmul.ts';
import { ATTENTION_MODES, type AttentionMode } from '../../engine/workspace.ts';

const USAGE = 'usage: atlas bench [--config S|M|test|tiny|default] [--steps 5] [--warmup 2] [--matmul register8x8|register8x16|register16x8|register|register8x4|register4x8|shared] [--attention stored|recompute|auto] [--json] [--profile] [--browser]\n       atlas bench --quick-demo [--hash "#preset=…"] [--screenshot file.png] [--json]\n  --attention: keep the attention probabilities (stored) or recompute them in the backward pass (default auto: stored while they fit 128 MiB);\n  --profile: time every kernel of a step on its own; --browser: run the same steps in headless Chromium through the engine worker;\n  --quick-demo: open the playground (its defaults, or the config link in --hash) in headless Chromium, click Start and time the run until it is done';

export const command: Command = {
  summary: 'benchmark training throughput of a named model size (tokens/s, GFLOP/s)',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('bench', argv, USAGE, {
      config: { type: 'string', default: 'S' },
      attention: { type: 'string', default: 'auto' },
      ...stringOptions('steps', 'warmup', 'matmul', 'hash', 'screenshot'),
      ...booleanOptions('json', 'profile', 'browser', 'quick-demo'),
    });
    if (!parsed) return 0;
    const { values } = parsed;
    if (values['quick-demo']) {
      const { benchQuickDemo, formatQuickDemoTiming } = await import('../quick-demo-bench.ts');
      if (values.hash !== undefined && !values.hash.startsWith('#')) throw new Error(`--hash must start with "#" (a playground config link's hash), got "${values.hash.slice(0, 40)}"`);
      const t = await benchQuickDemo({ hash: values.hash, screenshot: values.screenshot });
      console.log(values.json ? JSON.stringify(t) : formatQuickDemoTiming(t));
      return t.finalStatus.startsWith('done') ? 0 : 1;
    }
    const preset = getPreset(values.config!);
    const steps = intOption('bench', values.steps, 'steps', 5);
    const warmup = intOption('bench', values.warmup, 'warmup', 2);
    if (values.matmul !== undefined && !MATMUL_VARIANTS.includes(values.matmul as MatmulVariant)) throw new Error(`--matmul must be one of ${MATMUL_VARIANTS.join(', ')} (got ${values.matmul})`);
    if (!(ATTENTION_MODES as readonly string[]).includes(values.attention!)) throw new Error(`--attention must be one of ${ATTENTION_MODES.join(', ')} (got ${values.attention})`);
    const attention = values.attention as AttentionMode | 'auto';
    const c = preset.config;
    const B = preset.batch;
    const T = c.maxSeqLen;
    const flopsPerToken = 6 * nonEmbeddingParams(c) + 12 * c.nLayers * c.dModel * T;
    if (values.browser) {
      if (attention !== 'auto') throw new Error('--attention is not supported with --browser (the engine worker picks its workspace mode)');
      // The same training step in headless Chromium, through the engine worker.
      const r = await benchInBrowser(preset.name, steps, warmup, values.matmul);
      const tokensPerSecond = (B * T * 1000) / r.msPerStep;
      const result = {
        config: preset.name, where: 'chromium worker', batch: B, seqLen: T, matmul: r.variant, steps,
        msPerStep: round(r.msPerStep, 1), tokensPerSecond: round(tokensPerSecond, 1), modelFlopsPerToken: flopsPerToken,
        modelGflopsPerSecond: round((flopsPerToken * tokensPerSecond) / 1e9, 3), dispatchesPerStep: r.dispatchesPerStep,
        adapter: r.adapter, hostLoadAverage: round(loadavg()[0], 2), hostCpus: cpus().length,
      };
      if (values.json) console.log(JSON.stringify(result));
      else {
        console.log(`config ${preset.name} in headless Chromium (engine worker), batch ${B} × ${T}, matmul ${r.variant}`);
        console.log(`  ${result.msPerStep} ms/step (median of ${steps}), ${result.tokensPerSecond} tokens/s`);
        console.log(`  model FLOPs/token ${flopsPerToken} → ${result.modelGflopsPerSecond} GFLOP/s; ${r.dispatchesPerStep} dispatches/step`);
        console.log(`  adapter: ${r.adapter}; host load average ${result.hostLoadAverage} on ${result.hostCpus} CPUs`);
      }
      return 0;
    }
    const ctx = await createGpuContext();
    const model = await createModel(ctx, c, { seed: 1 });
    const trainer = new Trainer(model, { lr: 1e-3, warmupSteps: 0, totalSteps: warmup + steps }, { maxBatch: B, maxSeqLen: T, matmul: values.matmul as MatmulVariant | undefined, attention });
    const rng = new Rng(7);
    const batch = (): TokenBatch => {
      const ids = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
      const labels = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -100 : ids[i + 1]));
      return { inputIds: ids, labels, weights: new Float32Array(B * T).fill(1), batch: B, seqLen: T };
    };
    for (let i = 0; i < warmup; i++) await trainer.step([batch()]);
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let lastLoss = NaN;
    for (let i = 0; i < steps; i++) {
      const b = batch();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const result = await trainer.step([b]); // resolves once the loss is read back
      await ctx.device.queue.onSubmittedWorkDone();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuTimes.push((c.user + c.system) / 1000);
      lastLoss = result.loss;
    }
    const msPerStep = median(times);
    const tokensPerStep = B * T;
    const tokensPerSecond = (tokensPerStep / msPerStep) * 1000;
    const result = {
      config: preset.name,
      model: preset.description,
      params: model.layout.paramCount,
      nonEmbeddingParams: nonEmbeddingParams(c),
      batch: B,
      seqLen: T,
      matmul: trainer.variant,
      attention: trainer.workspace.attention,
      steps,
      msPerStep: round(msPerStep, 1),
      // CPU time of this process (SwiftShader's threads included) per step: less sensitive
      // than wall time to other processes on a shared machine
      cpuMsPerStep: round(median(cpuTimes), 1),
      tokensPerSecond: round(tokensPerSecond, 1),
      modelFlopsPerToken: flopsPerToken,
      modelGflopsPerSecond: round((flopsPerToken * tokensPerSecond) / 1e9, 3),
      dispatchesPerStep: trainer.dispatchesPerStep(B, T),
      gpuBytes: model.res.gpuBytes,
      workspaceBytes: trainer.workspace.bytes,
      adapter: ctx.description,
      lastLoss: round(lastLoss, 4),
      // other processes compete for the CPU that runs the software adapter
      hostLoadAverage: round(loadavg()[0], 2),
      hostCpus: cpus().length,
    };
    if (values.profile) await profile(ctx.device, trainer, B, T);
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`config ${result.config}: ${result.model} (${result.params} params, ${result.nonEmbeddingParams} non-embedding), batch ${B} × ${T}, matmul ${result.matmul}, ${result.attention} attention`);
      console.log(`  ${result.msPerStep} ms/step (median of ${steps}), ${result.tokensPerSecond} tokens/s; ${result.cpuMsPerStep} CPU-ms/step`);
      console.log(`  model FLOPs/token ${flopsPerToken} → ${result.modelGflopsPerSecond} GFLOP/s`);
      console.log(`  ${result.dispatchesPerStep} dispatches/step, GPU bytes held ${result.gpuBytes} (activation workspace ${result.workspaceBytes})`);
      console.log(`  adapter: ${result.adapter}`);
      console.log(`  host load average ${result.hostLoadAverage} on ${result.hostCpus} CPUs (SwiftShader shares them)`);
    }
    trainer.destroy();
    model.destroy();
    return 0;
  },
};

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

/** Times every dispatch of a step on its own (submit + onSubmittedWorkDone) and prints the
 *  total per kernel: slow, but shows where a step's time goes. */
async function profile(device: GPUDevice, trainer: Trainer, B: number, T: number): Promise<void> {
  const byKernel = new Map<string, { ms: number; cpuMs: number; count: number }>();
  for (const d of trainer.stepDispatches(B, T)) {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
    pass.end();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const c = process.cpuUsage(c0);
    const e = byKernel.get(d.label) ?? { ms: 0, cpuMs: 0, count: 0 };
    e.ms += performance.now() - t0;
    e.cpuMs += (c.user + c.system) / 1000;
    e.count++;
    byKernel.set(d.label, e);
  }
  const rows = [...byKernel].sort((a, b) => b[1].cpuMs - a[1].cpuMs);
  const total = rows.reduce((a, [, e]) => a + e.ms, 0);
  const totalCpu = rows.reduce((a, [, e]) => a + e.cpuMs, 0);
  console.log(`profile (each dispatch submitted alone; total ${total.toFixed(1)} ms wall, ${totalCpu.toFixed(1)} ms CPU):`);
  for (const [k, e] of rows) console.log(`  ${k.padEnd(40)} ${e.ms.toFixed(1).padStart(8)} ms ${e.cpuMs.toFixed(1).padStart(8)} CPU-ms ${String(e.count).padStart(4)}×`);
}

/** Runs test/browser/pages/engine-bench.html in headless Chromium (Vite dev server +
 *  Debian's chromium, as the browser tests do) and returns its timing. */
async function benchInBrowser(config: string, steps: number, warmup: number, matmul?: string): Promise<{ msPerStep: number; dispatchesPerStep: number; variant: string; adapter: string }> {
  const { startHarness } = await import('../../../test/browser/harness.ts');
  const h = await startHarness();
  try {
    const page = await h.newPage();
    const q = new URLSearchParams({ config, steps: String(steps), warmup: String(warmup), ...(matmul ? { matmul } : {}) });
    await page.goto(`${h.baseUrl}/test/browser/pages/engine-bench.html?${q}`);
    await page.waitForFunction(() => {
      const w = window as unknown as { __benchResult?: unknown; __benchError?: string };
      return w.__benchResult !== undefined || w.__benchError !== undefined;
    }, undefined, { timeout: 900_000 });
    const { result, error } = await page.evaluate(() => {
      const w = window as unknown as { __benchResult?: { msPerStep: number; dispatchesPerStep: number; variant: string; adapter: string }; __benchError?: string };
      return { result: w.__benchResult, error: w.__benchError };
    });
    if (error || !result) throw new Error(`browser bench failed: ${error}`);
    return result;
  } finally {
    await h.close();
  }
}
