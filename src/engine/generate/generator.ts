// Autoregressive generation with a KV cache, on the training engine. A generator runs a
// `Model` (model.ts): the parameter buffer the trainer updates, read live, never copied,
// through the training forward pass's own dispatches (layers.ts: encodeEmbedding,
// encodeBlock, encodeHead, recorded into `Plan`s) on a list of token slots
// (kernels/slots.ts). Only what a KV cache changes has kernels of its own, each beside its
// training twin: the RoPE that also writes k and v into the cache (kernels/rope.ts), the
// attention over the cache (kernels/attention-cached.ts), each row's last slot gathered for
// the head (kernels/slots.ts), and sampling (kernels/sample.ts). So a token's logits are
// those of a training forward pass over the same sequence, and whatever changes the model
// (adapters, weight formats, biases) changes training and generation together.
//
// Flow per call: the prompts' uncached tokens are flattened (row-major) into token slots
// and run through all layers in chunks (prefill; each slot writes its K/V into the cache,
// then attends to its row's cache positions ≤ its own). The last slot of each row feeds the
// final norm + LM head, and a sampling kernel picks each row's next token ON THE GPU and
// writes the row's next decode slot. Decode steps then run one slot per row, several steps
// per submit; the only readback is a small copy of the rows' states and chosen ids every
// `stepsPerSync` steps, to stop early once every row is finished.
//
// Prefix reuse: the generator remembers which tokens' K/V each cache row holds after a
// call, and a later prompt that extends them (a rollout's next turn) prefills only its new
// tokens (prefix-cache.ts picks the rows). Every kernel computes a slot the same way
// whatever else is in the submit, so the results are bit-identical to a full prefill. The
// cache cannot see writes to the parameter buffer: call reset() after changing the weights.
import { paddedVocab, unpadLogits, type LlamaConfig } from '../config.ts';
import type { Model } from '../model.ts';
import { isSoftwareAdapter } from '../device.ts';
import { Plan, type View } from '../gpu/plan.ts';
import { GpuMemoryError, type BufferSpec } from '../gpu/resources.ts';
import { SerialQueue } from '../gpu/serial.ts';
import { defaultMatmulVariant, type MatmulVariant } from '../kernels/matmul.ts';
import { ropeCacheWrite } from '../kernels/rope.ts';
import { attentionCached, attentionCachedWorkgroupBytes, attentionCachedWorkgroups } from '../kernels/attention-cached.ts';
import { DIMS_BYTES, dimsBytes, gatherLast } from '../kernels/slots.ts';
import { sampleTokens, sampleWorkgroups } from '../kernels/sample.ts';
import { encodeBlock, encodeEmbedding, encodeHead, type BlockViews, type ForwardContext } from '../layers.ts';
import type { Adapter } from '../lora.ts';
import { Rng } from '../../data/rng.ts';
import { freshPlan, planRows, type RowPlan } from './prefix-cache.ts';
import { checkCall, fedTokens, MAX_STOP_TOKENS, prefillSlots, type Call, type GenerateOptions } from './request.ts';

export type { GenerateOptions } from './request.ts';

export interface GeneratorOptions {
  /** Most prompts per generate() call. */
  maxBatch: number;
  /** Longest prompt + new tokens per row (KV cache length). ≤ config.maxSeqLen. */
  maxSeq: number;
  /** Token slots per prefill submit (activation buffers are sized for this). Default min(maxBatch·maxSeq, 512). */
  prefillChunk?: number;
  /** Decode steps per submit between readbacks of the rows' state. Default 8. */
  stepsPerSync?: number;
  /** Attention over the cache and sampler: 'workgroup' (a workgroup per slot/head or row,
   *  reductions with barriers: best on GPUs and long contexts) or 'thread' (a thread per
   *  slot/head or row, no barriers: best on software adapters such as SwiftShader, where
   *  barriers are slow). Default: 'thread' on a software adapter (isSoftwareAdapter), else
   *  'workgroup'. */
  kernels?: 'workgroup' | 'thread';
  /** Matmul kernel variant (default: the trainer's, defaultMatmulVariant). Every variant
   *  gives the same per-row results. */
  matmul?: MatmulVariant;
  /** Reuse K/V of earlier calls for prompts that extend what a cache row holds (default
   *  true). Assumes the parameters are unchanged since the last call or reset(). */
  reusePrefix?: boolean;
  /** Generate with this LoRA adapter applied over the model (the arm's own adapter). */
  adapter?: Adapter;
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
  readonly model: Model;
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
  /** Frees the generator's own buffers (not the model). */
  destroy(): void;
}

/** Token slots per prefill submit (rows of the generator's activation buffers). */
export function generatorRows(maxBatch: number, maxSeq: number, prefillChunk = 512): number {
  return Math.max(maxBatch, Math.min(prefillChunk, maxBatch * maxSeq));
}

/** Bytes of one layer's K (or V) cache slab [maxBatch, kvHeads, maxSeq, headDim], aligned. */
export function kvCacheSlabBytes(c: LlamaConfig, maxBatch: number, maxSeq: number): number {
  return Math.ceil((maxBatch * c.nKvHeads * maxSeq * c.headDim * 4) / 256) * 256;
}

/** The refusal for a KV cache layer above maxStorageBufferBindingSize (createGenerator and
 *  memory-plan.ts). */
export function kvCacheTooLarge(slabBytes: number, maxBinding: number): string {
  return `createGenerator: one layer's KV cache (${slabBytes} bytes) exceeds maxStorageBufferBindingSize ${maxBinding}; lower maxBatch or maxSeq`;
}

/** Every buffer a generator allocates, in order (labels `generator.<name>`): the slot
 *  activations of one block for `generatorRows` slots, the head's rows, the K and V caches
 *  (nLayers slabs each), sampling state and the readback. ('generator.prefixScratch',
 *  maxSeq·headDim floats, is added the first time a cached prefix is copied between rows.) */
export function generatorBuffers(c: LlamaConfig, opts: { maxBatch: number; maxSeq: number; prefillChunk?: number; loraRank?: number }): BufferSpec[] {
  const { maxBatch, maxSeq } = opts;
  const cap = generatorRows(maxBatch, maxSeq, opts.prefillChunk);
  const slab = kvCacheSlabBytes(c, maxBatch, maxSeq);
  const qkvWidth = (c.nHeads + 2 * c.nKvHeads) * c.headDim;
  const b = (name: string, bytes: number, bindable = true): BufferSpec => ({ label: `generator.${name}`, bytes, bindable });
  return [
    b('dims', DIMS_BYTES),
    b('slots', cap * 16),
    b('ids', cap * 4),
    b('x', cap * c.dModel * 4),
    b('xmid', cap * c.dModel * 4),
    b('xn', cap * c.dModel * 4),
    b('rstd', cap * 4),
    b('qkv', cap * qkvWidth * 4),
    b('att', cap * c.nHeads * c.headDim * 4),
    b('gu', cap * 2 * c.hiddenDim * 4),
    b('hact', cap * c.hiddenDim * 4),
    ...(opts.loraRank ? [b('loraU', cap * opts.loraRank * 4)] : []),
    b('lastX', maxBatch * c.dModel * 4),
    b('xf', maxBatch * c.dModel * 4),
    b('rstdf', maxBatch * 4),
    b('logits', maxBatch * paddedVocab(c) * 4),
    b('kCache', slab * c.nLayers, false),
    b('vCache', slab * c.nLayers, false),
    b('state', maxBatch * 16),
    b('outIds', maxBatch * maxSeq * 4),
    b('rand', maxSeq * maxBatch * 4),
    b('stops', MAX_STOP_TOKENS * 4),
    b('staging', maxBatch * 16 + maxBatch * maxSeq * 4, false),
  ];
}

/** A generator on `model`'s live parameters. */
export async function createGenerator(model: Model, opts: GeneratorOptions): Promise<Generator> {
  const gen = new KvCacheGenerator(model, opts);
  await model.res.checkCompiled();
  return gen;
}

const whole = (buffer: GPUBuffer): View => ({ buffer });

/** What a readback of the rows' state shows. */
interface Snapshot {
  count(row: number): number;
  finished(row: number): boolean;
  ids: Uint32Array;
  logits?: Float32Array;
}

class KvCacheGenerator implements Generator {
  readonly config: LlamaConfig;
  readonly maxBatch: number;
  readonly maxSeq: number;
  readonly stats: GeneratorStats = { prefilledTokens: 0, reusedTokens: 0, prefixCopies: 0 };
  private readonly device: GPUDevice;
  /** Token slots per prefill submit: activation rows. */
  private readonly cap: number;
  private readonly stepsPerSync: number;
  private readonly kernels: 'workgroup' | 'thread';
  private readonly variant: MatmulVariant;
  private readonly adapter?: Adapter;
  private readonly reuse: boolean;
  private readonly owned: GPUBuffer[] = [];
  private readonly buf: ReturnType<KvCacheGenerator['allocate']>;
  private readonly slabBytes: number;
  private readonly plans = new Map<string, Plan>();
  private readonly jobs = new SerialQueue();
  private logitsStaging?: GPUBuffer;
  private prefixScratch?: GPUBuffer;
  /** Tokens whose K/V each cache row holds at positions 0..n-1 (prefix reuse). */
  private readonly cached: number[][];
  /** Bumped by reset(), so a call in flight does not record stale rows. */
  private epoch = 0;

  constructor(readonly model: Model, opts: GeneratorOptions) {
    const c = model.config;
    const { maxBatch, maxSeq } = opts;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`createGenerator: maxBatch must be a positive integer (got ${maxBatch})`);
    if (!Number.isInteger(maxSeq) || maxSeq < 2) throw new Error(`createGenerator: maxSeq must be an integer ≥ 2 (got ${maxSeq})`);
    if (maxSeq > c.maxSeqLen) throw new Error(`createGenerator: maxSeq ${maxSeq} exceeds the model's context (${c.maxSeqLen})`);
    this.config = c;
    this.maxBatch = maxBatch;
    this.maxSeq = maxSeq;
    this.device = model.ctx.device;
    this.cap = generatorRows(maxBatch, maxSeq, opts.prefillChunk);
    if (this.cap > 65535) throw new Error(`createGenerator: prefillChunk ${this.cap} exceeds 65535 token slots per dispatch`);
    this.stepsPerSync = Math.max(1, opts.stepsPerSync ?? 8);
    this.kernels = opts.kernels ?? (isSoftwareAdapter(model.ctx) ? 'thread' : 'workgroup');
    this.variant = opts.matmul ?? defaultMatmulVariant(model.ctx);
    this.reuse = opts.reusePrefix ?? true;
    this.adapter = opts.adapter;
    if (this.adapter && this.adapter.model !== model) throw new Error('createGenerator: the LoRA adapter was made for another model');
    const wgBytes = attentionCachedWorkgroupBytes(maxSeq);
    if (this.kernels === 'workgroup' && wgBytes > model.ctx.limits.maxComputeWorkgroupStorageSize) {
      throw new Error(`createGenerator: with 'workgroup' kernels, maxSeq ${maxSeq} needs ${wgBytes} bytes of workgroup memory for attention scores; the adapter allows ${model.ctx.limits.maxComputeWorkgroupStorageSize} (use kernels: 'thread' or a shorter maxSeq)`);
    }
    const slabFloats = maxBatch * c.nKvHeads * maxSeq * c.headDim;
    if (slabFloats * 4 > model.ctx.limits.maxStorageBufferBindingSize) {
      throw new GpuMemoryError(kvCacheTooLarge(slabFloats * 4, model.ctx.limits.maxStorageBufferBindingSize));
    }
    this.slabBytes = kvCacheSlabBytes(c, maxBatch, maxSeq);
    this.cached = Array.from({ length: maxBatch }, () => []);
    this.buf = this.allocate();
  }

  // ---- buffers (allocated once) -------------------------------------------------------

  private buffer(label: string, bytes: number, usage: GPUBufferUsageFlags, bindable = true): GPUBuffer {
    const b = this.model.res.createBuffer(`generator.${label}`, bytes, usage, bindable);
    this.owned.push(b);
    return b;
  }

  private allocate() {
    const { cap, maxBatch, maxSeq } = this;
    const specs = new Map(generatorBuffers(this.config, { maxBatch, maxSeq, prefillChunk: cap, loraRank: this.adapter?.spec.rank }).map((b) => [b.label, b]));
    const make = (name: string, usage: GPUBufferUsageFlags) => {
      const spec = specs.get(`generator.${name}`)!;
      return this.buffer(name, spec.bytes, usage, spec.bindable);
    };
    const [S, DST, SRC] = [GPUBufferUsage.STORAGE, GPUBufferUsage.COPY_DST, GPUBufferUsage.COPY_SRC];
    return {
      dims: make('dims', GPUBufferUsage.UNIFORM | DST),
      slots: make('slots', S | DST),
      ids: make('ids', S | DST),
      // activations of one block, `cap` slot rows (the residual stream x → xmid → x)
      x: make('x', S),
      xmid: make('xmid', S),
      xn: make('xn', S),
      rstd: make('rstd', S),
      qkv: make('qkv', S),
      att: make('att', S),
      gu: make('gu', S),
      hact: make('hact', S),
      loraU: this.adapter ? make('loraU', S) : undefined,
      // the head, one row per batch row
      lastX: make('lastX', S),
      xf: make('xf', S),
      rstdf: make('rstdf', S),
      logits: make('logits', S | SRC),
      // KV cache [layers][maxBatch, kvHeads, maxSeq, headDim], one 256-byte-aligned slab per layer
      kCache: make('kCache', S | SRC | DST),
      vCache: make('vCache', S | SRC | DST),
      // sampling: per-row state, chosen ids, uniform numbers, stop ids; the readback
      state: make('state', S | DST | SRC),
      outIds: make('outIds', S | SRC),
      rand: make('rand', S | DST),
      stops: make('stops', S | DST),
      staging: make('staging', GPUBufferUsage.MAP_READ | DST),
    };
  }

  /** Layer l's slab of the K or V cache. */
  private cacheView(cache: GPUBuffer, l: number): View {
    return { buffer: cache, offset: l * this.slabBytes, size: this.maxBatch * this.config.nKvHeads * this.maxSeq * this.config.headDim * 4 };
  }

  // ---- plans (recorded once per row count, replayed) ----------------------------------

  private cachedPlan(key: string, record: (f: ForwardContext) => void): Plan {
    let plan = this.plans.get(key);
    if (!plan) {
      plan = new Plan(this.model.res);
      record({ plan, model: this.model, variant: this.variant, lora: this.adapter });
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Token slots 0..N-1 through the embedding and every block (the training forward's
   *  dispatches, with RoPE + cache write and cached attention as the block's attention). */
  private layersPlan(N: number): Plan {
    return this.cachedPlan(`layers:${N}`, (f) => {
      const c = this.config;
      const b = this.buf;
      const att = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };
      const v: BlockViews = {
        x: whole(b.x), xn1: whole(b.xn), rstd1: whole(b.rstd), qkv: whole(b.qkv), att: whole(b.att),
        xmid: whole(b.xmid), xn2: whole(b.xn), rstd2: whole(b.rstd), gu: whole(b.gu), hact: whole(b.hact), out: whole(b.x),
        // LoRA's s·x·Aᵀ is used at once in generation: one scratch serves every projection
        lora: () => whole(b.loraU!),
      };
      encodeEmbedding(f, whole(b.ids), v.x, N);
      for (let l = 0; l < c.nLayers; l++) {
        const kc = this.cacheView(b.kCache, l);
        const vc = this.cacheView(b.vCache, l);
        encodeBlock(f, l, N, v, () => {
          f.plan.add(ropeCacheWrite(att, this.maxSeq), {}, [whole(b.dims), whole(b.slots), v.qkv, whole(this.model.rope), kc, vc], [Math.ceil((N * (c.nHeads + 2 * c.nKvHeads) * c.headDim) / 2 / 64)]);
          f.plan.add(attentionCached(att, this.maxSeq, this.kernels), {}, [whole(b.dims), whole(b.slots), v.qkv, kc, vc, v.att], attentionCachedWorkgroups(att, N, this.kernels));
        });
      }
    });
  }

  /** Each row's newest slot among slots 0..N-1 → lastX (prefill; in decode, slot r is row r). */
  private gatherPlan(N: number): Plan {
    return this.cachedPlan(`gather:${N}`, (f) => {
      const b = this.buf;
      f.plan.add(gatherLast(this.config.dModel), {}, [b.dims, b.slots, b.x, b.lastX].map(whole), [Math.ceil((N * this.config.dModel) / 4 / 64)]);
    });
  }

  /** Final norm + LM head on rows 0..B-1 of `from`, then sampling. */
  private headPlan(B: number, from: 'x' | 'lastX'): Plan {
    return this.cachedPlan(`head:${B}:${from}`, (f) => {
      const b = this.buf;
      encodeHead(f, B, whole(b[from]), whole(b.xf), whole(b.rstdf), whole(b.logits));
      const sampler = sampleTokens(this.config.vocabSize, this.maxBatch, this.maxSeq, this.kernels);
      f.plan.add(sampler, {}, [b.dims, b.logits, b.state, b.outIds, b.rand, b.stops, b.slots, b.ids].map(whole), sampleWorkgroups(B, this.kernels));
    });
  }

  /** Rows the engine kernels run for a prefill chunk of n slots: n rounded up (the extra
   *  rows compute unused values), so calls of any length share a few plans. */
  private prefillRows(n: number): number {
    return n <= this.maxBatch ? n : Math.min(this.cap, Math.ceil(n / 16) * 16);
  }

  // ---- a call -------------------------------------------------------------------------

  private writeDims(call: Call, nTok: number): void {
    const d = { nTok, nRows: call.prompts.length, topK: call.topK, nStop: call.stops.length, temperature: call.temperature, maxNew: call.maxNew };
    this.device.queue.writeBuffer(this.buf.dims, 0, dimsBytes(d));
  }

  /** Row state, random numbers (drawn in prompt order, so sampling ignores the row choice), stop list. */
  private writeRows(call: Call, rowOf: number[]): void {
    const q = this.device.queue;
    const state = new Uint32Array(this.maxBatch * 4);
    call.prompts.forEach((p, i) => {
      state[rowOf[i] * 4] = p.length;
      state[rowOf[i] * 4 + 3] = call.rowMax[i];
    });
    q.writeBuffer(this.buf.state, 0, state);
    if (call.temperature > 0 && call.topK !== 1) {
      const rng = new Rng(call.seed);
      const rand = new Float32Array(this.maxSeq * this.maxBatch);
      for (let s = 0; s < call.maxNew; s++) for (let i = 0; i < call.prompts.length; i++) rand[s * this.maxBatch + rowOf[i]] = rng.next();
      q.writeBuffer(this.buf.rand, 0, rand);
    }
    if (call.stops.length) q.writeBuffer(this.buf.stops, 0, Uint32Array.from(call.stops));
  }

  /** Copies cached prefixes between rows (K and V, every layer and kv head) through a
   *  scratch buffer, as WebGPU cannot copy within one buffer. */
  private encodePrefixCopies(enc: GPUCommandEncoder, copies: RowPlan['copies']): void {
    const c = this.config;
    const HD = c.headDim;
    if (copies.length && !this.prefixScratch) this.prefixScratch = this.buffer('prefixScratch', this.maxSeq * HD * 4, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    const at = (l: number, row: number, h: number) => l * this.slabBytes + (row * c.nKvHeads + h) * this.maxSeq * HD * 4;
    for (const { from, to, length } of copies) {
      for (let l = 0; l < c.nLayers; l++) {
        for (let h = 0; h < c.nKvHeads; h++) {
          for (const cache of [this.buf.kCache, this.buf.vCache]) {
            enc.copyBufferToBuffer(cache, at(l, from, h), this.prefixScratch!, 0, length * HD * 4);
            enc.copyBufferToBuffer(this.prefixScratch!, 0, cache, at(l, to, h), length * HD * 4);
          }
        }
      }
    }
  }

  private encodeReadback(enc: GPUCommandEncoder, nRows: number, withLogits: boolean): void {
    const { maxBatch, maxSeq } = this;
    enc.copyBufferToBuffer(this.buf.state, 0, this.buf.staging, 0, maxBatch * 16);
    enc.copyBufferToBuffer(this.buf.outIds, 0, this.buf.staging, maxBatch * 16, maxBatch * maxSeq * 4);
    if (withLogits) enc.copyBufferToBuffer(this.buf.logits, 0, this.logitsStaging!, 0, nRows * paddedVocab(this.config) * 4);
  }

  private async readStaging(nRows: number, withLogits: boolean): Promise<Snapshot> {
    const { staging } = this.buf;
    await staging.mapAsync(GPUMapMode.READ);
    const data = staging.getMappedRange().slice(0);
    staging.unmap();
    let logits: Float32Array | undefined;
    if (withLogits && this.logitsStaging) {
      await this.logitsStaging.mapAsync(GPUMapMode.READ);
      logits = unpadLogits(new Float32Array(this.logitsStaging.getMappedRange().slice(0, nRows * paddedVocab(this.config) * 4)), nRows, this.config.vocabSize);
      this.logitsStaging.unmap();
    }
    const st = new Uint32Array(data, 0, this.maxBatch * 4);
    return { count: (r) => st[r * 4 + 1], finished: (r) => st[r * 4 + 2] !== 0, ids: new Uint32Array(data, this.maxBatch * 16, this.maxBatch * this.maxSeq), logits };
  }

  /** The prompts' uncached tokens as slots, in chunks of `cap`; the last chunk ends with the
   *  head and the first sampled token of every row. */
  private async prefill(call: Call, plan: RowPlan): Promise<void> {
    const B = call.prompts.length;
    const slots = prefillSlots(call.prompts, plan);
    const nSlots = slots.length / 4;
    this.stats.prefilledTokens += nSlots;
    this.stats.reusedTokens += plan.starts.reduce((a, b) => a + b, 0);
    this.stats.prefixCopies += plan.copies.length;
    for (let start = 0; start < nSlots; start += this.cap) {
      const n = Math.min(this.cap, nSlots - start);
      const isLast = start + n >= nSlots;
      const chunk = Uint32Array.from(slots.slice(start * 4, (start + n) * 4));
      this.writeDims(call, n);
      this.device.queue.writeBuffer(this.buf.slots, 0, chunk);
      this.device.queue.writeBuffer(this.buf.ids, 0, Uint32Array.from({ length: n }, (_, i) => chunk[i * 4]));
      const N = this.prefillRows(n);
      // each chunk gathers the rows whose last slot it holds; the last one runs the head
      const plans = [this.layersPlan(N), this.gatherPlan(N), ...(isLast ? [this.headPlan(B, 'lastX')] : [])];
      await this.model.res.checkCompiled();
      const enc = this.device.createCommandEncoder({ label: 'generator.prefill' });
      if (start === 0) this.encodePrefixCopies(enc, plan.copies);
      const pass = enc.beginComputePass();
      for (const p of plans) p.encode(pass);
      pass.end();
      if (isLast && (call.collect || call.maxNew === 1)) this.encodeReadback(enc, B, call.collect);
      this.device.queue.submit([enc.finish()]);
    }
  }

  /** Decode steps (one slot per row, written by the sampler) until every row is finished;
   *  returns the last snapshot and the number of tokens sampled per row so far. */
  private async decode(call: Call, rowOf: number[], logitRows: Float32Array[][]): Promise<{ snap: Snapshot; done: number }> {
    const B = call.prompts.length;
    let done = 1;
    let snap: Snapshot | undefined;
    let prevCount = new Array<number>(B).fill(0);
    const record = (s: Snapshot) => {
      if (!call.collect) return;
      for (let r = 0; r < B; r++) if (s.count(r) > prevCount[r]) logitRows[r].push(s.logits!.slice(r * this.config.vocabSize, (r + 1) * this.config.vocabSize));
      prevCount = prevCount.map((_, r) => s.count(r));
    };
    if (call.collect || call.maxNew === 1) record((snap = await this.readStaging(B, call.collect)));
    this.writeDims(call, B);
    const layers = this.layersPlan(B);
    const head = this.headPlan(B, 'x');
    await this.model.res.checkCompiled();
    while (done < call.maxNew && !(snap && rowOf.every((r) => snap!.finished(r)))) {
      const steps = Math.min(call.collect ? 1 : this.stepsPerSync, call.maxNew - done);
      const enc = this.device.createCommandEncoder({ label: 'generator.decode' });
      const pass = enc.beginComputePass();
      for (let s = 0; s < steps; s++) {
        layers.encode(pass);
        head.encode(pass);
      }
      pass.end();
      this.encodeReadback(enc, B, call.collect);
      this.device.queue.submit([enc.finish()]);
      done += steps;
      record((snap = await this.readStaging(B, call.collect)));
    }
    return { snap: snap!, done };
  }

  private async generateOnce(prompts: number[][], o: GenerateOptions & { collectLogits?: boolean }): Promise<GenerateResult> {
    const call = checkCall(this, prompts, o);
    const B = prompts.length;
    if (call.maxNew === 0) return { tokens: prompts.map(() => []), logits: call.collect ? prompts.map(() => []) : undefined };
    if (call.collect && !this.logitsStaging) this.logitsStaging = this.buffer('logitsStaging', this.maxBatch * paddedVocab(this.config) * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, false);
    // Rows: prompt i runs in cache row plan.rows[i], from position plan.starts[i].
    const plan = this.reuse ? planRows(prompts, this.cached) : freshPlan(B);
    const rowOf = plan.rows;
    const callEpoch = this.epoch;
    for (const r of rowOf) this.cached[r] = []; // being rewritten; valid again only if the call completes
    this.writeRows(call, rowOf);
    await this.prefill(call, plan);
    const logitRows: Float32Array[][] = Array.from({ length: B }, () => []);
    const { snap, done } = await this.decode(call, rowOf, logitRows);
    const tokens = rowOf.map((r) => Array.from(snap.ids.subarray(r * this.maxSeq, r * this.maxSeq + snap.count(r))));
    if (callEpoch === this.epoch) prompts.forEach((p, i) => (this.cached[rowOf[i]] = p.concat(tokens[i].slice(0, fedTokens(tokens[i].length, done - 1)))));
    return { tokens, logits: call.collect ? rowOf.map((r) => logitRows[r]) : undefined };
  }

  // ---- the public API: calls share the generator's buffers, so they run one at a time --

  generate(prompts: number[][], o: GenerateOptions): Promise<number[][]> {
    return this.jobs.run(() => this.generateOnce(prompts, o)).then((r) => r.tokens);
  }

  generateDetailed(prompts: number[][], o: GenerateOptions & { collectLogits?: boolean }): Promise<GenerateResult> {
    return this.jobs.run(() => this.generateOnce(prompts, o));
  }

  reset(): void {
    this.epoch++;
    this.cached.fill([]);
  }

  destroy(): void {
    for (const b of this.owned) this.model.res.release(b);
    this.owned.length = 0;
  }
}
