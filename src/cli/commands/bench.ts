// `atlas bench [--config NAME | --model <hf-folder>] [--batch B] [--seq T] [--lora R] [--f16] [--steps N] [--warmup N] [--matmul …] [--attention stored|recompute|auto] [--checkpoint none|layers|auto] [--plan] [--json]`:
// trains a named model size (a preset, or a real model's shape with random weights) on random
// tokens and reports throughput. Before allocating anything it prints the memory plan
// (src/engine/memory-plan.ts) against this adapter's limits and refuses, with the plan's
// message, when it does not fit; after building it reports the bytes actually allocated (the
// GpuResources tally) beside the plan. Every timed step is finished on the GPU
// (onSubmittedWorkDone) before the next starts.
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../main.ts';
import { booleanOptions, intOption, numberOption, parseCommandArgsOrHelp, stringOptions } from '../args.ts';
import { createGpuContext } from '../../engine/device.ts';
import { createModel } from '../../engine/model.ts';
import { Trainer } from '../../engine/trainer.ts';
import { nonEmbeddingParams } from '../../engine/params.ts';
import { createAdapter, LORA_TARGETS, type Adapter, type LoraSpec } from '../../engine/lora.ts';
import { configFromHf, type LlamaConfig } from '../../engine/config.ts';
import { formatMemoryPlan, memoryPlan, memoryPlanJson } from '../../engine/memory-plan.ts';
import { UNIFORM_LABEL } from '../../engine/gpu/resources.ts';
import { Rng } from '../../data/rng.ts';
import { getBenchConfig, PRESETS, REAL_MODEL_SHAPES } from '../../../models/presets.ts';
import type { TokenBatch } from '../../engine/batch.ts';
import { MATMUL_VARIANTS, type MatmulVariant } from '../../engine/kernels/matmul.ts';
import { ATTENTION_MODES, CHECKPOINT_MODES, type AttentionMode, type CheckpointMode } from '../../engine/workspace.ts';
import { describeLora, loraSpecFromOptions } from '../lora-options.ts';

const USAGE = `usage: atlas bench [--config ${[...Object.keys(PRESETS), ...Object.keys(REAL_MODEL_SHAPES)].join('|')} | --model <hf-folder>] [--batch B] [--seq T]
                   [--lora R [--lora-alpha 2R] [--lora-targets q,k,v,o,gate,up,down]] [--f16] [--budget GiB] [--plan]
                   [--steps 5] [--warmup 2] [--matmul register8x8|register8x16|register16x8|register|register8x4|register4x8|shared] [--attention stored|recompute|auto] [--checkpoint none|layers|auto] [--json] [--profile] [--browser]
       atlas bench --quick-demo [--hash "#preset=…"] [--screenshot file.png] [--json]
  --config: a preset, or a real model's shape with random weights (smollm2-135m, qwen2.5-0.5b, llama3.2-1b: batch 1 × 512, 1 warm-up + 1 timed step by default);
  --model: random weights in the shape of an HF folder's config.json (its weights are not read);
  --lora R: freeze the base and train rank-R adapters (default on all seven projections, alpha 2R); --f16: keep the frozen base's matrices 16-bit;
  --plan: print the memory plan and stop (nothing allocated); --budget: refuse plans above this many GiB in all;
  --attention: keep the attention probabilities (stored) or recompute them in the backward pass (default auto: stored while they fit 128 MiB);
  --checkpoint: keep every layer's activations (none) or only each block's input, re-running the block in the backward pass (layers; default auto: layers when every layer's activations would exceed 256 MiB);
  --profile: time every kernel of a step on its own; --browser: run the same steps in headless Chromium through the engine worker;
  --quick-demo: open the playground (its defaults, or the config link in --hash) in headless Chromium, click Start and time the run until it is done`;

export const command: Command = {
  summary: 'benchmark training throughput of a named model size (tokens/s, GFLOP/s) and print its memory plan',
  async run(argv) {
    const parsed = parseCommandArgsOrHelp('bench', argv, USAGE, {
      attention: { type: 'string', default: 'auto' },
      checkpoint: { type: 'string', default: 'auto' },
      ...stringOptions('config', 'model', 'batch', 'seq', 'lora', 'lora-alpha', 'lora-targets', 'budget', 'steps', 'warmup', 'matmul', 'hash', 'screenshot'),
      ...booleanOptions('json', 'profile', 'browser', 'quick-demo', 'f16', 'plan'),
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
    if (values.config !== undefined && values.model !== undefined) throw new Error('give --config NAME or --model <hf-folder>, not both');
    const shape = values.model !== undefined ? modelFolderShape(values.model) : getBenchConfig(values.config ?? 'S');
    const big = values.model !== undefined || shape.name in REAL_MODEL_SHAPES;
    const steps = intOption('bench', values.steps, 'steps', big ? 1 : 5);
    const warmup = intOption('bench', values.warmup, 'warmup', big ? 1 : 2);
    if (values.matmul !== undefined && !MATMUL_VARIANTS.includes(values.matmul as MatmulVariant)) throw new Error(`--matmul must be one of ${MATMUL_VARIANTS.join(', ')} (got ${values.matmul})`);
    if (!(ATTENTION_MODES as readonly string[]).includes(values.attention!)) throw new Error(`--attention must be one of ${ATTENTION_MODES.join(', ')} (got ${values.attention})`);
    const attention = values.attention as AttentionMode | 'auto';
    if (!(CHECKPOINT_MODES as readonly string[]).includes(values.checkpoint!)) throw new Error(`--checkpoint must be one of ${CHECKPOINT_MODES.join(', ')} (got ${values.checkpoint})`);
    const checkpoint = values.checkpoint as CheckpointMode | 'auto';
    const c = shape.config;
    const B = intOption('bench', values.batch, 'batch', shape.batch);
    const T = intOption('bench', values.seq, 'seq', shape.benchSeqLen ?? c.maxSeqLen);
    if (B < 1 || T < 1) throw new Error(`--batch and --seq must be positive (got ${B} × ${T})`);
    const lora = loraSpecFromOptions('bench', values);
    const weights = values.f16 ? 'f16' : 'f32';
    if (values.f16 && !lora) throw new Error('--f16 keeps a frozen base 16-bit: it needs --lora R (full training updates f32 weights)');
    const budget = values.budget === undefined ? undefined : numberOption('bench', values.budget, 'budget', 0) * 2 ** 30;
    const flopsPerToken = modelFlopsPerToken(c, T, lora);
    if (values.browser) {
      const extra = (['model', 'batch', 'seq', 'lora', 'f16', 'plan', 'budget'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
      if (extra.length) throw new Error(`--${extra.join(', --')} ${extra.length > 1 ? 'are' : 'is'} not supported with --browser (it runs a preset through the engine worker)`);
      if (attention !== 'auto' || checkpoint !== 'auto') throw new Error('--attention and --checkpoint are not supported with --browser (the engine worker picks its workspace mode)');
      // The same training step in headless Chromium, through the engine worker.
      const r = await benchInBrowser(shape.name, steps, warmup, values.matmul);
      const tokensPerSecond = (B * T * 1000) / r.msPerStep;
      const result = {
        config: shape.name, where: 'chromium worker', batch: B, seqLen: T, matmul: r.variant, steps,
        msPerStep: round(r.msPerStep, 1), tokensPerSecond: round(tokensPerSecond, 1), modelFlopsPerToken: flopsPerToken,
        modelGflopsPerSecond: round((flopsPerToken * tokensPerSecond) / 1e9, 3), dispatchesPerStep: r.dispatchesPerStep,
        adapter: r.adapter, hostLoadAverage: round(loadavg()[0], 2), hostCpus: cpus().length,
      };
      if (values.json) console.log(JSON.stringify(result));
      else {
        console.log(`config ${shape.name} in headless Chromium (engine worker), batch ${B} × ${T}, matmul ${r.variant}`);
        console.log(`  ${result.msPerStep} ms/step (median of ${steps}), ${result.tokensPerSecond} tokens/s`);
        console.log(`  model FLOPs/token ${flopsPerToken} → ${result.modelGflopsPerSecond} GFLOP/s; ${r.dispatchesPerStep} dispatches/step`);
        console.log(`  adapter: ${r.adapter}; host load average ${result.hostLoadAverage} on ${result.hostCpus} CPUs`);
      }
      return 0;
    }
    const ctx = await createGpuContext();
    // The plan, before any buffer exists: the same functions the allocators call.
    const plan = memoryPlan(c, { batch: B, seq: T, lora, weights, attention, checkpoint, limits: ctx.limits, maxTotalBytes: budget });
    const head = { config: shape.name, model: shape.description, batch: B, seqLen: T, lora: lora ?? null, weights, adapter: ctx.description };
    if (!values.json) {
      console.log(`config ${shape.name}: ${shape.description}${lora ? `; LoRA ${describeLora(lora)}, ${weights} base` : ''}`);
      for (const line of formatMemoryPlan(plan)) console.log(line);
    }
    if (!plan.fits || values.plan) {
      if (values.json) console.log(JSON.stringify({ ...head, plan: memoryPlanJson(plan) }));
      if (!plan.fits) {
        console.error(`atlas bench: ${plan.message}`);
        return 1;
      }
      return 0;
    }
    const built0 = Date.now();
    const model = await createModel(ctx, c, { seed: 1 }, { frozen: !!lora, weights });
    const adapter: Adapter | undefined = lora ? createAdapter(model, lora, { seed: 2 }) : undefined;
    const trainer = new Trainer(model, { lr: 1e-3, warmupSteps: 0, totalSteps: warmup + steps }, { maxBatch: B, maxSeqLen: T, matmul: values.matmul as MatmulVariant | undefined, attention, checkpoint, adapter });
    const buildSeconds = (Date.now() - built0) / 1000;
    // what the allocators created, kernel uniforms (made with the step plans) apart
    const allocated = model.res.liveBuffers().filter((b) => b.label !== UNIFORM_LABEL).reduce((a, b) => a + b.size, 0);
    const allocatedLine = `allocated by model${lora ? ', adapter' : ''} and trainer ${allocated} bytes, memory plan ${plan.total}${allocated === plan.total ? ' (equal)' : ` (DIFFERENT by ${allocated - plan.total})`}`;
    // a large model's step takes minutes on a software adapter: say what was built first
    if (!values.json && big) console.log(`  built in ${buildSeconds} s; ${allocatedLine}; now ${warmup} warm-up + ${steps} timed step${steps === 1 ? '' : 's'}`);
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
      config: shape.name,
      model: shape.description,
      params: model.layout.paramCount,
      nonEmbeddingParams: nonEmbeddingParams(c),
      trainableParams: trainer.trainable.layout.paramCount,
      lora: lora ?? null,
      weights,
      batch: B,
      seqLen: T,
      matmul: trainer.variant,
      attention: trainer.workspace.attention,
      checkpoint: trainer.workspace.checkpoint,
      steps,
      warmup,
      msPerStep: round(msPerStep, 1),
      // CPU time of this process (SwiftShader's threads included) per step: less sensitive
      // than wall time to other processes on a shared machine
      cpuMsPerStep: round(median(cpuTimes), 1),
      tokensPerSecond: round(tokensPerSecond, 1),
      modelFlopsPerToken: flopsPerToken,
      modelGflopsPerSecond: round((flopsPerToken * tokensPerSecond) / 1e9, 3),
      dispatchesPerStep: trainer.dispatchesPerStep(B, T),
      // the GpuResources tally after the steps: every buffer held, kernel uniforms included
      gpuBytes: model.res.gpuBytes,
      uniformBytes: model.res.uniformBytes,
      // what model, adapter and trainer allocated (no uniforms) and what the plan said
      allocatedBytes: allocated,
      planBytes: plan.total,
      workspaceBytes: trainer.workspace.bytes,
      plan: memoryPlanJson(plan),
      buildSeconds,
      adapter: ctx.description,
      lastLoss: round(lastLoss, 4),
      // other processes compete for the CPU that runs the software adapter
      hostLoadAverage: round(loadavg()[0], 2),
      hostCpus: cpus().length,
    };
    if (values.profile) await profile(ctx.device, trainer, B, T);
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`config ${result.config}: ${result.model} (${result.params} params, ${result.nonEmbeddingParams} non-embedding${lora ? `, ${result.trainableParams} trainable in the adapter` : ''}), batch ${B} × ${T}, matmul ${result.matmul}, ${result.attention} attention${result.checkpoint === 'layers' ? ', per-layer activation checkpointing' : ''}`);
      console.log(`  ${result.msPerStep} ms/step (median of ${steps}${warmup ? ` after ${warmup} warm-up` : ''}), ${result.tokensPerSecond} tokens/s; ${result.cpuMsPerStep} CPU-ms/step`);
      console.log(`  model FLOPs/token ${flopsPerToken} → ${result.modelGflopsPerSecond} GFLOP/s`);
      console.log(`  ${result.dispatchesPerStep} dispatches/step, GPU bytes held ${result.gpuBytes} (activation workspace ${result.workspaceBytes}; kernel uniforms ${result.uniformBytes})`);
      console.log(`  ${allocatedLine}`);
      console.log(`  adapter: ${result.adapter}`);
      console.log(`  host load average ${result.hostLoadAverage} on ${result.hostCpus} CPUs (SwiftShader shares them)`);
    }
    trainer.destroy();
    adapter?.destroy();
    model.destroy();
    return 0;
  },
};

/** Model FLOPs per trained token, the 6N convention over non-embedding parameters (the LM head
 *  and embedding are left out, as before) plus attention's 12·L·d·T: full training counts
 *  forward (2N), dX (2N) and dW (2N); under LoRA the frozen base has no dW (4N) and the
 *  adapters count 6 per parameter. */
export function modelFlopsPerToken(c: LlamaConfig, T: number, lora?: LoraSpec): number {
  const attention = 12 * c.nLayers * c.dModel * T;
  if (!lora) return 6 * nonEmbeddingParams(c) + attention;
  let adapterParams = 0;
  for (const t of lora.targets) {
    const [o, i] = LORA_TARGETS[t].dims(c);
    adapterParams += c.nLayers * lora.rank * (o + i);
  }
  return 4 * nonEmbeddingParams(c) + 6 * adapterParams + attention;
}

/** `--model <hf-folder>`: its config.json's shape, batch 1 × min(512, context). */
function modelFolderShape(folder: string) {
  const file = join(folder, 'config.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--model ${folder}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const config = configFromHf(json);
  return { name: folder, description: `random weights in the shape of ${file}`, config, batch: 1, benchSeqLen: Math.min(512, config.maxSeqLen) };
}

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
