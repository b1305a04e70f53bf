// Autoregressive generation on WebGPU with a KV cache, reading the model's parameters
// straight from a parameter buffer laid out by params.ts (so it can run on a model that
// is being trained, without copies).
//
// Flow per call: the prompts' tokens are flattened (row-major) into token slots and run
// through all layers in chunks (prefill; each slot writes its K/V into the cache, then
// attends to its row's cache positions ≤ its own). The last slot of each row feeds the
// final norm + LM head, and a sampling kernel picks each row's next token ON THE GPU and
// writes the row's next decode slot. Decode steps then run one slot per row, several
// steps per submit; the only readback is a small copy of the rows' states and chosen ids
// every `stepsPerSync` steps, to stop early once every row is finished.
//
// Prefix reuse: the generator remembers which tokens' K/V each cache row holds after a
// call, and a later prompt that extends them (a rollout's next turn) prefills only its new
// tokens (prefix-cache.ts picks the rows). The per-token kernels compute a slot the same way
// whatever else is in the submit, so the results are bit-identical to a full prefill. The
// cache cannot see writes to the parameter buffer: call reset() after changing the weights.
import type { GpuContext } from '../device.ts';
import type { LlamaConfig } from '../config.ts';
import { validateConfig } from '../config.ts';
import { buildParamLayout, packParams, type NamedTensors, type ParamLayout } from '../params.ts';
import { Rng } from '../../data/rng.ts';
import { freshPlan, planRows, type RowPlan } from './prefix-cache.ts';
import {
  attentionSerialWgsl,
  attentionWgsl,
  attnInWgsl,
  embedWgsl,
  gateUpNormWgsl,
  gatherLastWgsl,
  headNormWgsl,
  matmulWgsl,
  sampleSerialWgsl,
  sampleWgsl,
  type KernelDims,
} from './kernels.ts';

export interface GeneratorOptions {
  /** Most prompts per generate() call. */
  maxBatch: number;
  /** Longest prompt + new tokens per row (KV cache length). ≤ config.maxSeqLen. */
  maxSeq: number;
  /** Token slots per prefill submit (activation buffers are sized for this). Default min(maxBatch·maxSeq, 512). */
  prefillChunk?: number;
  /** Decode steps per submit between readbacks of the rows' state. Default 8. */
  stepsPerSync?: number;
  /** Attention / RMSNorm kernels: 'workgroup' (a workgroup per row or head, tree
   *  reductions with barriers: best on GPUs and long contexts) or 'thread' (one thread per
   *  row or head, no barriers: best on software adapters such as SwiftShader, where
   *  barriers are slow). Also picks the sampler (workgroup per row vs thread per row).
   *  Default: 'thread' on a fallback/software adapter, else 'workgroup'. */
  kernels?: 'workgroup' | 'thread';
  /** Reuse K/V of earlier calls for prompts that extend what a cache row holds (default
   *  true). Assumes the parameters are unchanged since the last call or reset(). */
  reusePrefix?: boolean;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Per prompt, fewer new tokens than maxNewTokens (each ≥ 1): a row's own limit, so what a
   *  prompt may write does not depend on the other prompts of its batch. */
  rowMaxNewTokens?: number[];
  /** 0 (default) = greedy argmax. */
  temperature?: number;
  /** Keep only the k most likely tokens (ties at the k-th logit kept); 0 = all. topK 1 = greedy. */
  topK?: number;
  /** Seed of the sampling random numbers (default 0). */
  seed?: number;
  /** A row stops after producing one of these (the stop token is included in its output). */
  stopTokens?: number[];
}

export interface GenerateResult {
  /** New tokens per row. */
  tokens: number[][];
  /** With collectLogits: per row, the logits each new token was chosen from (tests, debugging). */
  logits?: Float32Array[][];
}

/** Counters over the generator's life (reset() does not clear them). */
export interface GeneratorStats {
  /** Prompt tokens run through the model (prefill slots). */
  prefilledTokens: number;
  /** Prompt tokens whose K/V were reused from the cache instead. */
  reusedTokens: number;
  /** Cached prefixes copied from another row into the row their prompt runs in (their
   *  tokens count as reused). */
  prefixCopies: number;
}

export interface Generator {
  readonly config: LlamaConfig;
  readonly maxBatch: number;
  readonly maxSeq: number;
  readonly stats: GeneratorStats;
  generate(prompts: number[][], opts: GenerateOptions): Promise<number[][]>;
  generateDetailed(prompts: number[][], opts: GenerateOptions & { collectLogits?: boolean }): Promise<GenerateResult>;
  /** Forgets the cached K/V, so the next call prefills from scratch. Required after the
   *  parameter buffer changes (a training step, loaded weights): the cache was computed
   *  with the old weights. */
  reset(): void;
  /** Frees the generator's own buffers (not the parameter buffer). */
  destroy(): void;
}

const MAX_STOP_TOKENS = 64;

/** Uploads named tensors into a new parameter buffer in the params.ts layout, for
 *  generation without the training engine. */
export function uploadParams(ctx: GpuContext, config: LlamaConfig, tensors: NamedTensors): GPUBuffer {
  const layout = buildParamLayout(config);
  const flat = packParams(layout, tensors);
  const buf = ctx.device.createBuffer({
    label: 'params',
    size: flat.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  ctx.device.queue.writeBuffer(buf, 0, flat as Float32Array<ArrayBuffer>);
  return buf;
}

/** Prefill slots (id, row, pos, isLast) of every prompt's uncached tokens, prompt by prompt. */
function prefillSlots(prompts: number[][], plan: RowPlan): number[] {
  const slots: number[] = [];
  prompts.forEach((p, i) => {
    for (let pos = plan.starts[i]; pos < p.length; pos++) slots.push(p[pos], plan.rows[i], pos, pos === p.length - 1 ? 1 : 0);
  });
  return slots;
}

/** How many of a row's `count` new tokens went back through the model, so their K/V are in
 *  the cache, after `decodeSteps` decode steps. Decode step s feeds every row's token s−1;
 *  a finished row's slot keeps its last token at the same position, so later steps rewrite
 *  that token's K/V with the same values. Only a row's last token may be missing: it is fed
 *  iff a decode step ran after it was sampled. */
function fedTokens(count: number, decodeSteps: number): number {
  return Math.min(count, decodeSteps);
}

type BindingKind = 'uniform' | 'read' | 'rw';

/** Software adapters (SwiftShader) run barrier-free kernels faster. */
export function defaultKernels(ctx: GpuContext): 'workgroup' | 'thread' {
  const info = ctx.adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const software = info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(ctx.description);
  return software ? 'thread' : 'workgroup';
}

export async function createGenerator(ctx: GpuContext, config: LlamaConfig, params: GPUBuffer, opts: GeneratorOptions): Promise<Generator> {
  validateConfig(config);
  const { device } = ctx;
  const { maxBatch, maxSeq } = opts;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`createGenerator: maxBatch must be a positive integer (got ${maxBatch})`);
  if (!Number.isInteger(maxSeq) || maxSeq < 2) throw new Error(`createGenerator: maxSeq must be an integer ≥ 2 (got ${maxSeq})`);
  if (maxSeq > config.maxSeqLen) throw new Error(`createGenerator: maxSeq ${maxSeq} exceeds the model's context (${config.maxSeqLen})`);
  const layout: ParamLayout = buildParamLayout(config);
  if (params.size < layout.totalFloats * 4) {
    throw new Error(`createGenerator: parameter buffer has ${params.size} bytes; the config's layout needs ${layout.totalFloats * 4}`);
  }
  const cap = Math.max(maxBatch, Math.min(opts.prefillChunk ?? 512, maxBatch * maxSeq));
  if (cap > 65535) throw new Error(`createGenerator: prefillChunk ${cap} exceeds 65535 token slots per dispatch`);
  const stepsPerSync = Math.max(1, opts.stepsPerSync ?? 8);

  const c = config;
  const D = c.dModel;
  const HD = c.headDim;
  const qDim = c.nHeads * HD;
  const dims: KernelDims = { config, maxBatch, maxSeq };
  const maxBinding = ctx.limits.maxStorageBufferBindingSize;

  // ---- buffers (allocated once) -------------------------------------------------------
  const owned: GPUBuffer[] = [];
  const buffer = (label: string, bytes: number, usage: number) => {
    if (bytes > ctx.limits.maxBufferSize) throw new Error(`createGenerator: ${label} needs ${bytes} bytes; the adapter's maxBufferSize is ${ctx.limits.maxBufferSize}`);
    const b = device.createBuffer({ label: `gen.${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    owned.push(b);
    return b;
  };
  const S = GPUBufferUsage.STORAGE;
  const DST = GPUBufferUsage.COPY_DST;
  const SRC = GPUBufferUsage.COPY_SRC;
  const act = (label: string, floats: number) => {
    if (floats * 4 > maxBinding) throw new Error(`createGenerator: ${label} (${floats * 4} bytes) exceeds maxStorageBufferBindingSize ${maxBinding}; lower prefillChunk`);
    return buffer(label, floats * 4, S);
  };
  const dimsBuf = buffer('dims', 32, GPUBufferUsage.UNIFORM | DST);
  const metaBuf = buffer('meta', cap * 16, S | DST);
  const x = act('x', cap * D);
  const q = act('q', cap * qDim);
  const att = act('att', cap * qDim);
  const hid = act('hidden', cap * c.hiddenDim);
  const lastX = act('lastX', maxBatch * D);
  const logits = buffer('logits', maxBatch * c.vocabSize * 4, S | SRC);
  const slabFloats = maxBatch * c.nKvHeads * maxSeq * HD;
  if (slabFloats * 4 > maxBinding) throw new Error(`createGenerator: one layer's KV cache (${slabFloats * 4} bytes) exceeds maxStorageBufferBindingSize ${maxBinding}; lower maxBatch or maxSeq`);
  const slabBytes = Math.ceil((slabFloats * 4) / 256) * 256;
  const kCache = buffer('kCache', slabBytes * c.nLayers, S | SRC | DST);
  const vCache = buffer('vCache', slabBytes * c.nLayers, S | SRC | DST);
  let headScratch: GPUBuffer | undefined; // one kv head's positions, for prefix copies
  const ropeTab = buffer('rope', maxSeq * HD * 4, S | DST);
  const stateBuf = buffer('state', maxBatch * 16, S | DST | SRC);
  const outIds = buffer('outIds', maxBatch * maxSeq * 4, S | SRC);
  const randBuf = buffer('rand', maxSeq * maxBatch * 4, S | DST);
  const stopBuf = buffer('stops', MAX_STOP_TOKENS * 4, S | DST);
  const stagingBytes = maxBatch * 16 + maxBatch * maxSeq * 4;
  const staging = buffer('staging', stagingBytes, GPUBufferUsage.MAP_READ | DST);
  let logitsStaging: GPUBuffer | undefined;

  // cos/sin of pos·θ^(-2i/hd), computed in f64.
  const rope = new Float32Array(maxSeq * HD);
  for (let p = 0; p < maxSeq; p++) {
    for (let i = 0; i < HD / 2; i++) {
      const a = p / Math.pow(c.ropeTheta, (2 * i) / HD);
      rope[(p * HD) / 2 * 2 + i * 2] = Math.cos(a);
      rope[(p * HD) / 2 * 2 + i * 2 + 1] = Math.sin(a);
    }
  }
  device.queue.writeBuffer(ropeTab, 0, rope);

  // ---- pipelines ----------------------------------------------------------------------
  const pipelines = new Map<string, Promise<GPUComputePipeline>>();
  const pipeline = (key: string, code: string, kinds: BindingKind[]) => {
    let p = pipelines.get(key);
    if (!p) {
      const bindGroupLayout = device.createBindGroupLayout({
        label: `gen.${key}`,
        entries: kinds.map((kind, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
        })),
      });
      const module = device.createShaderModule({ label: `gen.${key}`, code });
      p = module.getCompilationInfo().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) throw new Error(`WGSL kernel gen.${key} failed to compile: ${errors.map((e) => `line ${e.lineNum}: ${e.message}`).join('; ')}`);
        return device.createComputePipelineAsync({
          label: `gen.${key}`,
          layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
          compute: { module, entryPoint: 'main' },
        });
      });
      pipelines.set(key, p);
    }
    return p;
  };
  const U: BindingKind = 'uniform';
  const R: BindingKind = 'read';
  const W: BindingKind = 'rw';
  const mm = (K: number, O: number, accumulate: boolean, rows: 'nTok' | 'nRows') =>
    pipeline(`matmul.${K}x${O}.${accumulate ? 'acc' : 'set'}.${rows}`, matmulWgsl(K, O, { accumulate, rows }), [U, R, R, W]);
  const threadKernels = (opts.kernels ?? defaultKernels(ctx)) === 'thread';
  const scoresBytes = maxSeq * 4 + 64 * 4;
  if (!threadKernels && scoresBytes > ctx.limits.maxComputeWorkgroupStorageSize) {
    throw new Error(`createGenerator: with 'workgroup' kernels, maxSeq ${maxSeq} needs ${scoresBytes} bytes of workgroup memory for attention scores; the adapter allows ${ctx.limits.maxComputeWorkgroupStorageSize} (use kernels: 'thread' or a shorter maxSeq)`);
  }

  // Fused kernels read several tensors of a layer through one binding: a window of the
  // parameter buffer from the first to the last tensor, with offsets baked into the WGSL
  // (the same for every layer, as every layer's slots have the same sizes).
  const window = (names: string[]) => {
    const slots = names.map((n) => {
      const s = layout.byName.get(n);
      if (!s) throw new Error(`createGenerator: no parameter ${n} in the layout`);
      return s;
    });
    const start = Math.min(...slots.map((s) => s.offset));
    const end = Math.max(...slots.map((s) => s.offset + s.size));
    if ((end - start) * 4 > maxBinding) throw new Error(`createGenerator: tensors ${names.join(', ')} span ${(end - start) * 4} bytes, above maxStorageBufferBindingSize ${maxBinding}`);
    return { binding: { buffer: params, offset: start * 4, size: (end - start) * 4 } as GPUBufferBinding, rel: slots.map((s) => s.offset - start) };
  };
  const attnNames = (l: number) => ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj'].map((t) => `model.layers.${l}.${t}.weight`);
  const mlpNames = (l: number) => ['post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj'].map((t) => `model.layers.${l}.${t}.weight`);
  const attnRel = window(attnNames(0)).rel;
  const mlpRel = window(mlpNames(0)).rel;
  for (let l = 1; l < c.nLayers; l++) {
    if (window(attnNames(l)).rel.join() !== attnRel.join() || window(mlpNames(l)).rel.join() !== mlpRel.join()) {
      throw new Error(`createGenerator: layer ${l}'s parameters are laid out differently from layer 0's`);
    }
  }

  const [pEmbed, pAttnIn, pAttn, pO, pGateUp, pDown, pGather, pHead, pSample] = await Promise.all([
    pipeline('embed', embedWgsl(dims), [U, R, R, W]),
    pipeline('attnIn', attnInWgsl(dims, { norm: attnRel[0], q: attnRel[1], k: attnRel[2], v: attnRel[3] }), [U, R, R, R, R, W, W, W]),
    threadKernels ? pipeline('attention.thread', attentionSerialWgsl(dims), [U, R, R, R, R, W]) : pipeline('attention', attentionWgsl(dims), [U, R, R, R, R, W]),
    mm(qDim, D, true, 'nTok'),
    pipeline('gateUp', gateUpNormWgsl(dims, { norm: mlpRel[0], gate: mlpRel[1], up: mlpRel[2] }), [U, R, R, W]),
    mm(c.hiddenDim, D, true, 'nTok'),
    pipeline('gather', gatherLastWgsl(dims), [U, R, R, W]),
    pipeline('head', headNormWgsl(dims), [U, R, R, R, W]),
    threadKernels ? pipeline('sample.thread', sampleSerialWgsl(dims), [U, R, W, W, R, R, W]) : pipeline('sample', sampleWgsl(dims), [U, R, W, W, R, R, W]),
  ]);

  // ---- bind groups (built once; the parameter buffer is bound per tensor or window) --
  const param = (name: string): GPUBufferBinding => {
    const slot = layout.byName.get(name);
    if (!slot) throw new Error(`createGenerator: no parameter ${name} in the layout`);
    return { buffer: params, offset: slot.offset * 4, size: slot.size * 4 };
  };
  const whole = (b: GPUBuffer): GPUBufferBinding => ({ buffer: b });
  const group = (p: GPUComputePipeline, resources: GPUBufferBinding[]) =>
    device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: resources.map((resource, binding) => ({ binding, resource })) });
  const dimsB = whole(dimsBuf);
  const embedGroup = group(pEmbed, [dimsB, whole(metaBuf), param('model.embed_tokens.weight'), whole(x)]);
  const layers = Array.from({ length: c.nLayers }, (_, l) => {
    const p = `model.layers.${l}.`;
    const kc: GPUBufferBinding = { buffer: kCache, offset: l * slabBytes, size: slabFloats * 4 };
    const vc: GPUBufferBinding = { buffer: vCache, offset: l * slabBytes, size: slabFloats * 4 };
    return {
      attnIn: group(pAttnIn, [dimsB, whole(metaBuf), whole(x), window(attnNames(l)).binding, whole(ropeTab), whole(q), kc, vc]),
      attn: group(pAttn, [dimsB, whole(metaBuf), whole(q), kc, vc, whole(att)]),
      o: group(pO, [dimsB, whole(att), param(p + 'self_attn.o_proj.weight'), whole(x)]),
      gateUp: group(pGateUp, [dimsB, whole(x), window(mlpNames(l)).binding, whole(hid)]),
      down: group(pDown, [dimsB, whole(hid), param(p + 'mlp.down_proj.weight'), whole(x)]),
    };
  });
  const gatherGroup = group(pGather, [dimsB, whole(metaBuf), whole(x), whole(lastX)]);
  const headGroup = group(pHead, [dimsB, whole(lastX), param('model.norm.weight'), param(c.tiedEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'), whole(logits)]);
  const sampleGroup = group(pSample, [dimsB, whole(logits), whole(stateBuf), whole(outIds), whole(randBuf), whole(stopBuf), whole(metaBuf)]);

  // ---- encoding -----------------------------------------------------------------------
  const ceil = (a: number, b: number) => Math.ceil(a / b);
  const run = (pass: GPUComputePassEncoder, p: GPUComputePipeline, g: GPUBindGroup, gx: number, gy = 1) => {
    pass.setPipeline(p);
    pass.setBindGroup(0, g);
    pass.dispatchWorkgroups(gx, gy);
  };
  /** Token slots 0..nTok-1 of meta through every layer; each row's last slot → lastX. */
  const encodeLayers = (pass: GPUComputePassEncoder, nTok: number) => {
    run(pass, pEmbed, embedGroup, ceil(D, 64), nTok);
    for (const L of layers) {
      run(pass, pAttnIn, L.attnIn, ceil(((c.nHeads + 2 * c.nKvHeads) * HD) / 2, 64), nTok);
      if (threadKernels) run(pass, pAttn, L.attn, ceil(nTok * c.nHeads, 64));
      else run(pass, pAttn, L.attn, nTok, c.nHeads);
      run(pass, pO, L.o, ceil(D, 64), ceil(nTok, 4));
      run(pass, pGateUp, L.gateUp, ceil(c.hiddenDim, 64), ceil(nTok, 2));
      run(pass, pDown, L.down, ceil(D, 64), ceil(nTok, 4));
    }
    run(pass, pGather, gatherGroup, ceil(D, 64), nTok);
  };
  /** Final norm + LM head, then sampling, for rows 0..nRows-1. */
  const encodeHead = (pass: GPUComputePassEncoder, nRows: number) => {
    run(pass, pHead, headGroup, ceil(c.vocabSize, 64), ceil(nRows, 4));
    run(pass, pSample, sampleGroup, threadKernels ? ceil(nRows, 64) : nRows);
  };
  const writeDims = (nTok: number, nRows: number, o: Required<Omit<GenerateOptions, 'seed' | 'stopTokens' | 'rowMaxNewTokens'>>, nStop: number) => {
    const buf = new ArrayBuffer(32);
    const u = new Uint32Array(buf);
    const fl = new Float32Array(buf);
    u[0] = nTok;
    u[1] = nRows;
    u[2] = o.topK;
    u[3] = nStop;
    fl[4] = o.temperature;
    u[5] = o.maxNewTokens;
    device.queue.writeBuffer(dimsBuf, 0, buf);
  };
  const readStaging = async (nRows: number, withLogits: boolean) => {
    await staging.mapAsync(GPUMapMode.READ);
    const data = staging.getMappedRange().slice(0);
    staging.unmap();
    let lg: Float32Array | undefined;
    if (withLogits && logitsStaging) {
      await logitsStaging.mapAsync(GPUMapMode.READ);
      lg = new Float32Array(logitsStaging.getMappedRange().slice(0, nRows * c.vocabSize * 4));
      logitsStaging.unmap();
    }
    const st = new Uint32Array(data, 0, maxBatch * 4);
    const ids = new Uint32Array(data, maxBatch * 16, maxBatch * maxSeq);
    return { count: (r: number) => st[r * 4 + 1], finished: (r: number) => st[r * 4 + 2] !== 0, ids, logits: lg };
  };
  const encodeReadback = (enc: GPUCommandEncoder, nRows: number, withLogits: boolean) => {
    enc.copyBufferToBuffer(stateBuf, 0, staging, 0, maxBatch * 16);
    enc.copyBufferToBuffer(outIds, 0, staging, maxBatch * 16, maxBatch * maxSeq * 4);
    if (withLogits) enc.copyBufferToBuffer(logits, 0, logitsStaging!, 0, nRows * c.vocabSize * 4);
  };

  /** Copies cached prefixes between rows (K and V, every layer and kv head) through a
   *  scratch buffer, as WebGPU cannot copy within one buffer. */
  const encodePrefixCopies = (enc: GPUCommandEncoder, copies: RowPlan['copies']) => {
    if (copies.length && !headScratch) headScratch = buffer('prefixScratch', maxSeq * HD * 4, SRC | DST);
    const at = (l: number, row: number, h: number) => l * slabBytes + ((row * c.nKvHeads + h) * maxSeq * HD) * 4;
    for (const { from, to, length } of copies) {
      for (let l = 0; l < c.nLayers; l++) {
        for (let h = 0; h < c.nKvHeads; h++) {
          for (const cache of [kCache, vCache]) {
            enc.copyBufferToBuffer(cache, at(l, from, h), headScratch!, 0, length * HD * 4);
            enc.copyBufferToBuffer(headScratch!, 0, cache, at(l, to, h), length * HD * 4);
          }
        }
      }
    }
  };

  // Tokens whose K/V each cache row holds at positions 0..n-1 (prefix reuse).
  const reuse = opts.reusePrefix ?? true;
  const cached: number[][] = Array.from({ length: maxBatch }, () => []);
  let epoch = 0; // bumped by reset(), so a call in flight does not record stale rows
  const stats: GeneratorStats = { prefilledTokens: 0, reusedTokens: 0, prefixCopies: 0 };

  const generateOnce = async (prompts: number[][], o: GenerateOptions & { collectLogits?: boolean }): Promise<GenerateResult> => {
    const B = prompts.length;
    if (B < 1 || B > maxBatch) throw new Error(`generate: ${B} prompts; this generator takes 1..${maxBatch}`);
    const maxNew = o.maxNewTokens;
    if (!Number.isInteger(maxNew) || maxNew < 0) throw new Error(`generate: maxNewTokens must be a non-negative integer (got ${maxNew})`);
    const temperature = o.temperature ?? 0;
    const topK = o.topK ?? 0;
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be ≥ 0 (got ${temperature})`);
    if (!Number.isInteger(topK) || topK < 0) throw new Error(`generate: topK must be a non-negative integer (got ${topK})`);
    const stops = o.stopTokens ?? [];
    if (stops.length > MAX_STOP_TOKENS) throw new Error(`generate: at most ${MAX_STOP_TOKENS} stop tokens (got ${stops.length})`);
    const rowMax = o.rowMaxNewTokens ?? prompts.map(() => maxNew);
    if (rowMax.length !== B) throw new Error(`generate: rowMaxNewTokens has ${rowMax.length} entries for ${B} prompts`);
    prompts.forEach((p, r) => {
      if (p.length === 0) throw new Error(`generate: prompt ${r} is empty (start it with the BOS token)`);
      if (!Number.isInteger(rowMax[r]) || rowMax[r] < 1 || rowMax[r] > maxNew) throw new Error(`generate: rowMaxNewTokens[${r}] must be a whole number in 1..maxNewTokens (got ${rowMax[r]})`);
      if (p.length + rowMax[r] > maxSeq) throw new Error(`generate: prompt ${r} has ${p.length} tokens + ${rowMax[r]} new > maxSeq ${maxSeq}`);
      p.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`generate: prompt ${r} token ${t} is ${id}, outside the vocabulary (0..${c.vocabSize - 1})`);
      });
    });
    for (const s of stops) if (!Number.isInteger(s) || s < 0 || s >= c.vocabSize) throw new Error(`generate: stop token ${s} is outside the vocabulary`);
    if (maxNew === 0) return { tokens: prompts.map(() => []), logits: o.collectLogits ? prompts.map(() => []) : undefined };
    const collect = o.collectLogits === true;
    if (collect && !logitsStaging) logitsStaging = buffer('logitsStaging', maxBatch * c.vocabSize * 4, GPUBufferUsage.MAP_READ | DST);
    const opt = { maxNewTokens: maxNew, temperature, topK };

    // Rows: prompt i runs in cache row plan.rows[i], from position plan.starts[i].
    const plan = reuse ? planRows(prompts, cached) : freshPlan(B);
    const rowOf = plan.rows;
    const callEpoch = epoch;
    for (const r of rowOf) cached[r] = []; // being rewritten; valid again only if the call completes

    // Row state, random numbers (drawn in prompt order, so sampling ignores the row choice), stop list.
    const state = new Uint32Array(maxBatch * 4);
    prompts.forEach((p, i) => {
      state[rowOf[i] * 4] = p.length;
      state[rowOf[i] * 4 + 3] = rowMax[i];
    });
    device.queue.writeBuffer(stateBuf, 0, state);
    if (temperature > 0 && topK !== 1) {
      const rng = new Rng(o.seed ?? 0);
      const rand = new Float32Array(maxSeq * maxBatch);
      for (let s = 0; s < maxNew; s++) for (let i = 0; i < B; i++) rand[s * maxBatch + rowOf[i]] = rng.next();
      device.queue.writeBuffer(randBuf, 0, rand);
    }
    if (stops.length) device.queue.writeBuffer(stopBuf, 0, Uint32Array.from(stops));

    // Prefill: the prompt tokens not already cached, as slots, in chunks of `cap`.
    const slots = prefillSlots(prompts, plan);
    const nSlots = slots.length / 4;
    stats.prefilledTokens += nSlots;
    stats.reusedTokens += plan.starts.reduce((a, b) => a + b, 0);
    stats.prefixCopies += plan.copies.length;
    const logitRows: Float32Array[][] = Array.from({ length: B }, () => []);
    for (let start = 0; start < nSlots; start += cap) {
      const n = Math.min(cap, nSlots - start);
      const isLast = start + n >= nSlots;
      writeDims(n, B, opt, stops.length);
      device.queue.writeBuffer(metaBuf, 0, Uint32Array.from(slots.slice(start * 4, (start + n) * 4)));
      const enc = device.createCommandEncoder({ label: 'gen.prefill' });
      if (start === 0) encodePrefixCopies(enc, plan.copies);
      const pass = enc.beginComputePass();
      encodeLayers(pass, n);
      if (isLast) encodeHead(pass, B);
      pass.end();
      if (isLast && (collect || maxNew === 1)) encodeReadback(enc, B, collect);
      device.queue.submit([enc.finish()]);
    }
    let done = 1;
    let snap: Awaited<ReturnType<typeof readStaging>> | undefined;
    let prevCount = new Array<number>(B).fill(0);
    const record = (s: Awaited<ReturnType<typeof readStaging>>) => {
      if (!collect) return;
      for (let r = 0; r < B; r++) {
        if (s.count(r) > prevCount[r]) logitRows[r].push(s.logits!.slice(r * c.vocabSize, (r + 1) * c.vocabSize));
      }
      prevCount = prevCount.map((_, r) => s.count(r));
    };
    if (collect || maxNew === 1) {
      snap = await readStaging(B, collect);
      record(snap);
    }
    // Decode: one slot per row (meta[r] written by the sampler).
    writeDims(B, B, opt, stops.length);
    while (done < maxNew && !(snap && rowOf.every((r) => snap!.finished(r)))) {
      const steps = Math.min(collect ? 1 : stepsPerSync, maxNew - done);
      const enc = device.createCommandEncoder({ label: 'gen.decode' });
      const pass = enc.beginComputePass();
      for (let s = 0; s < steps; s++) {
        encodeLayers(pass, B);
        encodeHead(pass, B);
      }
      pass.end();
      encodeReadback(enc, B, collect);
      device.queue.submit([enc.finish()]);
      done += steps;
      snap = await readStaging(B, collect);
      record(snap);
    }
    const fin = snap!;
    const tokens = rowOf.map((r) => Array.from(fin.ids.subarray(r * maxSeq, r * maxSeq + fin.count(r))));
    if (callEpoch === epoch) prompts.forEach((p, i) => (cached[rowOf[i]] = p.concat(tokens[i].slice(0, fedTokens(tokens[i].length, done - 1)))));
    return { tokens, logits: collect ? rowOf.map((r) => logitRows[r]) : undefined };
  };

  // Calls share the generator's buffers, so they run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn, fn);
    queue = p.catch(() => undefined);
    return p;
  };

  return {
    config,
    maxBatch,
    maxSeq,
    stats,
    generate: (prompts, o) => serial(() => generateOnce(prompts, o)).then((r) => r.tokens),
    generateDetailed: (prompts, o) => serial(() => generateOnce(prompts, o)),
    reset() {
      epoch++;
      cached.fill([]);
    },
    destroy() {
      for (const b of owned) b.destroy();
    },
  };
}
