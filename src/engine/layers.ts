// The Llama decoder as a sequence of dispatches, in llm.c style: the forward pass stores
// every activation the backward pass needs in the workspace; the backward pass walks the
// layers in reverse with paired *_backward kernels (with per-layer checkpointing it first
// re-runs each block's forward from the block's kept input, workspace.ts). N = B·T rows; d = dModel, q = H·hd,
// kv = KVH·hd, h = hiddenDim, V = vocab. The q/k/v projections write one [N, q+2kv]
// matrix and gate/up one [N, 2h] matrix: a single matmul each when the weights are
// adjacent in the parameter buffer (always, unless alignment padding separates them),
// else one matmul per weight writing its column block. The vocabulary is padded to a
// multiple of 4 (Vp, config.ts paddedVocab): logits are [rows, Vp], the padding masked, for
// one chunk of rows at a time (workspace.ts logitsRows), so a 151k vocabulary needs no
// [N × Vp] buffer.
// A frozen model's weight matrices may be packed 16-bit (half.ts): every weight view
// carries its format and the matmul (B operand) and embedding kernels read it unpacked.
import type { Model } from './model.ts';
import type { Workspace } from './workspace.ts';
import type { Plan, View } from './gpu/plan.ts';
import { matmulKernel, matmulUniforms, matmulWorkgroups, type MatmulMode, type MatmulStrides, type MatmulVariant } from './kernels/matmul.ts';
import { rmsnormForward, rmsnormBackwardInput, rmsnormBackwardWeight } from './kernels/rmsnorm.ts';
import { ropeKernel } from './kernels/rope.ts';
import { attentionForward, attentionBackwardQuery, attentionBackwardKeyValue, KV_POSITIONS_PER_THREAD, QUERIES_PER_THREAD } from './kernels/attention.ts';
import { attentionForwardLse, attentionBackwardQueryLse, attentionBackwardKeyValueLse } from './kernels/attention-recompute.ts';
import { swigluForward, swigluBackward, elementwiseWorkgroups } from './kernels/swiglu.ts';
import { embeddingForward, embeddingBackward } from './kernels/embedding.ts';
import { crossEntropyForwardBackward, crossEntropyWorkgroups, lossReduce } from './kernels/crossentropy.ts';
import { qkvBiasForward, qkvBiasBackward } from './kernels/bias.ts';
import { scaleInPlace } from './kernels/scale.ts';
import { loraTensorName, type Adapter, type LoraTarget } from './lora.ts';
import { layerPrefix, slotWords } from './params.ts';
import { paddedVocab, type LlamaConfig } from './config.ts';

/** GPU views of one micro-batch's uploaded inputs. */
export interface InputViews {
  ids: View;
  labels: View;
  /** Weights already divided by the step's Σw. */
  weights: View;
  csrOffsets: View;
  csrPositions: View;
}

/** What recording a forward pass needs besides its activations: shared by the trainer and
 *  the generator (generate/generator.ts), so both run the same dispatches on one model. */
export interface ForwardContext {
  plan: Plan;
  model: Model;
  variant: MatmulVariant;
  /** Fuse adjacent projection weights into one matmul (default true; false for tests). */
  fuse?: boolean;
  /** A LoRA adapter applied over the model's projections (lora.ts). */
  lora?: Adapter;
}

export interface PassContext extends ForwardContext {
  ws: Workspace;
  inputs: InputViews;
  B: number;
  T: number;
  /** stats buffer: [0] += this micro-batch's share of the loss. */
  stats: View;
}

/** One decoder block's activations, N rows each: x [N,d] in, xn1 [N,d], rstd1 [N],
 *  qkv [N,q+2kv], att [N,q], xmid [N,d], xn2 [N,d], rstd2 [N], gu [N,2h], hact [N,h],
 *  out [N,d] (the next block's x). */
export interface BlockViews {
  x: View;
  xn1: View;
  rstd1: View;
  qkv: View;
  att: View;
  xmid: View;
  xn2: View;
  rstd2: View;
  gu: View;
  hact: View;
  out: View;
  /** Where LoRA keeps s·x·Aᵀ [N, r] of target t (the backward pass reads it for dB). */
  lora?: (t: LoraTarget) => View;
}

const groups64 = (n: number): [number] => [Math.ceil(n / 64)];

/** Y[M,N] (op)= A·B with A [M,K] or stored [K,M] (aT), B [K,N] or stored [N,K] (bT). B may
 *  be a frozen model's packed 16-bit weights (its view's format picks the kernel). */
function matmul(p: ForwardContext, a: View, b: View, c: View, M: number, N: number, K: number, aT: boolean, bT: boolean, mode: MatmulMode, r?: View, st?: MatmulStrides): void {
  if ((a.format ?? 'f32') !== 'f32') throw new Error(`matmul: a packed ${a.format} tensor as the A operand (only B, a weight matrix, may be packed)`);
  const kernel = matmulKernel({ aT, bT, mode, variant: p.variant, bFormat: b.format ?? 'f32' });
  p.plan.add(kernel, matmulUniforms(M, N, K, aT, st), r ? [a, b, c, r] : [a, b, c], matmulWorkgroups(M, N, p.variant));
}

/** Several Linear weights sharing an input, e.g. q/k/v: their outputs side by side. */
interface WeightGroup {
  names: string[];
  outs: number[];
}

/** The group's weights as one [Σout, in] matrix, when adjacent in one buffer (packed 16-bit
 *  weights too: each tensor has an even number of values, so none shares a word). */
function fusedView(p: ForwardContext, g: WeightGroup, which: 'params' | 'grads'): View | undefined {
  if (p.fuse === false) return undefined;
  const slots = g.names.map((n) => p.model.layout.byName.get(n)!);
  for (let i = 1; i < slots.length; i++) if (slots[i].offset !== slots[i - 1].offset + slotWords(slots[i - 1]) || slots[i].format !== slots[0].format) return undefined;
  const views = g.names.map((n) => p.model.slot(n, which));
  if (views.some((v) => v.buffer !== views[0].buffer)) return undefined;
  const total = slots.reduce((a, s) => a + slotWords(s), 0);
  return { buffer: views[0].buffer, offset: views[0].offset, size: Math.ceil(total / 64) * 64 * 4, format: views[0].format };
}

/** Y[N, Σout] = X·[W1; W2; …]ᵀ */
function groupForward(p: ForwardContext, g: WeightGroup, x: View, y: View, rows: number, inp: number): void {
  const total = g.outs.reduce((a, b) => a + b, 0);
  const fused = fusedView(p, g, 'params');
  if (fused) return matmul(p, x, fused, y, rows, total, inp, false, true, 'store');
  let col = 0;
  g.names.forEach((name, i) => {
    matmul(p, x, p.model.slot(name), y, rows, g.outs[i], inp, false, true, 'store', undefined, { ldc4: total / 4, cOff4: col / 4 });
    col += g.outs[i];
  });
}

/** dX[N,in] (=|+=) Σ dY_i·W_i and dW_i += dY_iᵀ·X, with dY = [dY_1 | dY_2 | …]. */
function groupBackward(p: PassContext, g: WeightGroup, dy: View, x: View, dx: View, rows: number, inp: number, accumulateDx: boolean): void {
  const total = g.outs.reduce((a, b) => a + b, 0);
  const frozen = !p.model.grads;
  const w = fusedView(p, g, 'params');
  const dw = frozen ? undefined : fusedView(p, g, 'grads');
  if (w && (dw || frozen)) {
    matmul(p, dy, w, dx, rows, inp, total, false, false, accumulateDx ? 'accumulate' : 'store');
    if (dw) matmul(p, dy, x, dw, total, inp, rows, true, false, 'accumulate');
    return;
  }
  let col = 0;
  g.names.forEach((name, i) => {
    const st = { lda4: total / 4, aOff4: col / 4 };
    matmul(p, dy, p.model.slot(name), dx, rows, inp, g.outs[i], false, false, accumulateDx || i > 0 ? 'accumulate' : 'store', undefined, st);
    if (!frozen) matmul(p, dy, x, p.model.slot(name, 'grads'), g.outs[i], inp, rows, true, false, 'accumulate', undefined, st);
    col += g.outs[i];
  });
}

function qkvGroup(pre: string, qd: number, kvd: number): WeightGroup {
  return { names: [pre + 'self_attn.q_proj.weight', pre + 'self_attn.k_proj.weight', pre + 'self_attn.v_proj.weight'], outs: [qd, kvd, kvd] };
}
const qkvBiasNames = (pre: string) => ['q', 'k', 'v'].map((x) => `${pre}self_attn.${x}_proj.bias`);

function gateUpGroup(pre: string, h: number): WeightGroup {
  return { names: [pre + 'mlp.gate_proj.weight', pre + 'mlp.up_proj.weight'], outs: [h, h] };
}

/** A projection's output columns inside a wider matrix: rows of `ld` floats, this
 *  projection's `out` columns starting at `col` (q inside [q | k | v]). */
interface Columns {
  ld: number;
  col: number;
  out: number;
}

/** LoRA forward on layer l's target t, after the base projection wrote y:
 *  u[N,r] = s·x·Aᵀ (kept in `u`), y[:, cols] += u·Bᵀ. */
function loraForward(f: ForwardContext, l: number, t: LoraTarget, x: View, u: View, y: View, rows: number, inp: number, cols: Columns): void {
  const ad = f.lora!;
  const r = ad.spec.rank;
  matmul(f, x, ad.slot(loraTensorName(l, t, 'A')), u, rows, r, inp, false, true, 'store');
  f.plan.add(scaleInPlace(), { count4: (rows * r) / 4, s: ad.scale }, [u], elementwiseWorkgroups((rows * r) / 4));
  matmul(f, u, ad.slot(loraTensorName(l, t, 'B')), y, rows, cols.out, r, false, true, 'accumulate', undefined, { ldc4: cols.ld / 4, cOff4: cols.col / 4 });
}

/** LoRA backward on layer l's target t, with dy = dY[:, cols]:
 *  dB += dyᵀ·u;  du = s·dy·B;  dA += duᵀ·x;  dX += du·A (after the base projection's dX). */
function loraBackward(p: PassContext, l: number, t: LoraTarget, dy: View, x: View, u: View, dx: View, rows: number, inp: number, cols: Columns): void {
  const ad = p.lora!;
  const r = ad.spec.rank;
  const [A, B] = [ad.slot(loraTensorName(l, t, 'A')), ad.slot(loraTensorName(l, t, 'B'))];
  const [dA, dB] = [ad.slot(loraTensorName(l, t, 'A'), 'grads'), ad.slot(loraTensorName(l, t, 'B'), 'grads')];
  const du = p.ws.scratch('dlora');
  const dyCols = { lda4: cols.ld / 4, aOff4: cols.col / 4 };
  matmul(p, dy, u, dB, cols.out, r, rows, true, false, 'accumulate', undefined, dyCols);
  matmul(p, dy, B, du, rows, r, cols.out, false, false, 'store', undefined, dyCols);
  p.plan.add(scaleInPlace(), { count4: (rows * r) / 4, s: ad.scale }, [du], elementwiseWorkgroups((rows * r) / 4));
  matmul(p, du, x, dA, r, inp, rows, true, false, 'accumulate');
  matmul(p, du, A, dx, rows, inp, r, false, false, 'accumulate');
}

/** The adapted targets among a group's projections, with their column blocks. */
function loraTargetsOf(f: ForwardContext, targets: LoraTarget[], outs: number[]): Array<{ t: LoraTarget; cols: Columns }> {
  if (!f.lora) return [];
  const ld = outs.reduce((a, b) => a + b, 0);
  let col = 0;
  const found: Array<{ t: LoraTarget; cols: Columns }> = [];
  targets.forEach((t, i) => {
    if (f.lora!.spec.targets.includes(t)) found.push({ t, cols: { ld, col, out: outs[i] } });
    col += outs[i];
  });
  return found;
}

/** Linear forward: Y[N,out] = X[N,in]·Wᵀ (+ R). */
function linearForward(p: ForwardContext, x: View, w: View, y: View, rows: number, out: number, inp: number, residual?: View): void {
  matmul(p, x, w, y, rows, out, inp, false, true, residual ? 'residual' : 'store', residual);
}

/** Linear backward: dX[N,in] (=|+=) dY·W and dW[out,in] += dYᵀ·X (no dW for a frozen W). */
function linearBackward(p: PassContext, dy: View, x: View, w: View, dw: View | undefined, dx: View, rows: number, out: number, inp: number, accumulateDx: boolean): void {
  matmul(p, dy, w, dx, rows, inp, out, false, false, accumulateDx ? 'accumulate' : 'store');
  if (dw) matmul(p, dy, x, dw, out, inp, rows, true, false, 'accumulate');
}

/** Sizes both passes use: N = B·T rows, d_model, q/kv widths, SwiGLU width. */
function passDims(p: PassContext) {
  const c = p.model.config;
  return {
    c,
    N: p.B * p.T,
    d: c.dModel,
    qd: c.nHeads * c.headDim,
    kvd: c.nKvHeads * c.headDim,
    h: c.hiddenDim,
    attDims: { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim },
  };
}

/** x[N,d] = E[ids] */
export function encodeEmbedding(f: ForwardContext, ids: View, x: View, N: number): void {
  const d = f.model.config.dModel;
  const E = f.model.slot('model.embed_tokens.weight');
  f.plan.add(embeddingForward(d, E.format), { N }, [ids, E, x], groups64((N * d) / 4));
}

/** Decoder block l on N rows. `attend` records RoPE + causal attention from v.qkv into
 *  v.att: over the batch's own rows in training, over the KV cache in generation. */
export function encodeBlock(f: ForwardContext, l: number, N: number, v: BlockViews, attend: () => void): void {
  const c = f.model.config;
  const [d, qd, kvd, h] = [c.dModel, c.nHeads * c.headDim, c.nKvHeads * c.headDim, c.hiddenDim];
  const pre = layerPrefix(l);
  const P = (name: string) => f.model.slot(name);
  // attention block: xn1 = rmsnorm(x); q,k,v = xn1·W{q,k,v}ᵀ; rope; attention; xmid = x + att·Woᵀ
  f.plan.add(rmsnormForward(d), { N, eps: c.normEps }, [v.x, P(pre + 'input_layernorm.weight'), v.xn1, v.rstd1], groups64(N));
  groupForward(f, qkvGroup(pre, qd, kvd), v.xn1, v.qkv, N, d);
  for (const { t, cols } of loraTargetsOf(f, ['q', 'k', 'v'], [qd, kvd, kvd])) loraForward(f, l, t, v.xn1, v.lora!(t), v.qkv, N, d, cols);
  if (c.qkvBias) f.plan.add(qkvBiasForward(qd, kvd), { N }, [v.qkv, ...qkvBiasNames(pre).map(P)], elementwiseWorkgroups(N * (qd + 2 * kvd)));
  attend();
  linearForward(f, v.att, P(pre + 'self_attn.o_proj.weight'), v.xmid, N, d, qd, v.x);
  for (const { t, cols } of loraTargetsOf(f, ['o'], [d])) loraForward(f, l, t, v.att, v.lora!(t), v.xmid, N, qd, cols);
  // MLP block: xn2 = rmsnorm(xmid); hact = silu(xn2·Wgᵀ) ⊙ (xn2·Wuᵀ); out = xmid + hact·Wdᵀ
  f.plan.add(rmsnormForward(d), { N, eps: c.normEps }, [v.xmid, P(pre + 'post_attention_layernorm.weight'), v.xn2, v.rstd2], groups64(N));
  groupForward(f, gateUpGroup(pre, h), v.xn2, v.gu, N, d);
  for (const { t, cols } of loraTargetsOf(f, ['gate', 'up'], [h, h])) loraForward(f, l, t, v.xn2, v.lora!(t), v.gu, N, d, cols);
  f.plan.add(swigluForward(h), { count4: (N * h) / 4 }, [v.gu, v.hact], elementwiseWorkgroups((N * h) / 4));
  linearForward(f, v.hact, P(pre + 'mlp.down_proj.weight'), v.out, N, d, h, v.xmid);
  for (const { t, cols } of loraTargetsOf(f, ['down'], [d])) loraForward(f, l, t, v.hact, v.lora!(t), v.out, N, h, cols);
}

/** Final norm on N rows: xf = rmsnorm(x). */
function encodeFinalNorm(f: ForwardContext, N: number, x: View, xf: View, rstdf: View): void {
  const c = f.model.config;
  f.plan.add(rmsnormForward(c.dModel), { N, eps: c.normEps }, [x, f.model.slot('model.norm.weight'), xf, rstdf], groups64(N));
}

/** LM head on N rows: logits[N,Vp] = xf·Wlmᵀ (padding columns are 0). */
function encodeLmHead(f: ForwardContext, N: number, xf: View, logits: View): void {
  const c = f.model.config;
  linearForward(f, xf, f.model.slot(lmHeadName(f.model)), logits, N, paddedVocab(c), c.dModel);
}

/** Head on N rows: xf = rmsnorm(x); logits[N,Vp] = xf·Wlmᵀ */
export function encodeHead(f: ForwardContext, N: number, x: View, xf: View, rstdf: View, logits: View): void {
  encodeFinalNorm(f, N, x, xf, rstdf);
  encodeLmHead(f, N, xf, logits);
}

/** Training block l over the batch's own rows: x_l → x_{l+1}, every activation its backward
 *  reads kept in the workspace (with checkpointing, in the one region all layers share). */
function encodeTrainingBlock(p: PassContext, l: number): void {
  const { model, ws, B, T } = p;
  const { c, N, qd, kvd, attDims } = passDims(p);
  const L = (k: Parameters<Workspace['layer']>[0]) => ws.layer(k, l);
  const v: BlockViews = { x: L('x'), xn1: L('xn1'), rstd1: L('rstd1'), qkv: L('qkv'), att: L('att'), xmid: L('xmid'), xn2: L('xn2'), rstd2: L('rstd2'), gu: L('gu'), hact: L('hact'), out: ws.layer('x', l + 1), lora: (t) => ws.lora(l, p.lora!.spec.targets.indexOf(t)) };
  encodeBlock(p, l, N, v, () => {
    p.plan.add(ropeKernel(c.headDim), { N, T, heads: c.nHeads + c.nKvHeads, rowStride: qd + 2 * kvd, dir: 1 }, [v.qkv, { buffer: model.rope }], groups64((N * (qd + kvd)) / 2));
    // stored: keep P [B,H,T,T]; recompute: keep only lse [B,H,T] (see workspace.ts)
    const queryGroups = groups64(B * c.nHeads * Math.ceil(T / QUERIES_PER_THREAD));
    if (ws.attention === 'stored') p.plan.add(attentionForward(attDims), { B, T }, [v.qkv, L('P'), v.att], queryGroups);
    else p.plan.add(attentionForwardLse(attDims), { B, T }, [v.qkv, L('lse'), v.att], queryGroups);
  });
}

/** Training forward up to the final norm: embedding → blocks → xf = rmsnorm(x_L). */
export function encodeForwardHidden(p: PassContext): void {
  const { ws } = p;
  const { c, N } = passDims(p);
  encodeEmbedding(p, p.inputs.ids, ws.layer('x', 0), N);
  for (let l = 0; l < c.nLayers; l++) encodeTrainingBlock(p, l);
  encodeFinalNorm(p, N, ws.layer('x', c.nLayers), ws.scratch('xf'), ws.scratch('rstdf'));
}

/** The row blocks the head and the cross-entropy run over: ws.logitsRows rows at a time,
 *  so a large vocabulary never needs logits for the whole batch (workspace.ts). */
export function logitsChunks(ws: Workspace, c: LlamaConfig, N: number): Array<{ r0: number; rows: number }> {
  const C = ws.logitsRows(c);
  const out: Array<{ r0: number; rows: number }> = [];
  for (let r0 = 0; r0 < N; r0 += C) out.push({ r0, rows: Math.min(C, N - r0) });
  return out;
}

/** Rows [r0, r0 + rows) of a row-major view with `rowBytes` per row (chunk starts are
 *  multiples of 64 rows, so the offset keeps the 256-byte binding alignment). */
function rowsOf(v: View, r0: number, rows: number, rowBytes: number): View {
  return { ...v, offset: (v.offset ?? 0) + r0 * rowBytes, size: rows * rowBytes };
}

/** logits[rows, Vp] = xf[r0 : r0 + rows]·Wlmᵀ (padding columns are 0), into the logits region. */
export function encodeHeadChunk(p: PassContext, r0: number, rows: number): void {
  encodeLmHead(p, rows, rowsOf(p.ws.scratch('xf'), r0, rows, p.model.config.dModel * 4), p.ws.scratch('logits'));
}

/** Training forward: hidden states, then per chunk of rows the logits, the masked
 *  cross-entropy (dlogits in place) and — when training — the head's backward at once:
 *  dxf[rows] = dlogits·Wlm (into dxn), dWlm += dlogitsᵀ·xf[rows]. Then the loss. */
export function encodeForward(p: PassContext, train: boolean): void {
  const { c, N, d } = passDims(p);
  const Vp = paddedVocab(c);
  encodeForwardHidden(p);
  const logits = p.ws.scratch('logits');
  const head = lmHeadName(p.model);
  const dWlm = p.model.grads ? p.model.slot(head, 'grads') : undefined;
  for (const { r0, rows } of logitsChunks(p.ws, c, N)) {
    encodeHeadChunk(p, r0, rows);
    const perRow = (v: View, width: number) => rowsOf(v, r0, rows, width * 4);
    p.plan.add(crossEntropyForwardBackward(c.vocabSize), { N: rows }, [logits, perRow(p.inputs.labels, 1), perRow(p.inputs.weights, 1), perRow(p.ws.scratch('ce'), 1), perRow(p.ws.scratch('wloss'), 1)], crossEntropyWorkgroups(c.vocabSize, rows));
    if (train) linearBackward(p, logits, perRow(p.ws.scratch('xf'), d), p.model.slot(head), dWlm, perRow(p.ws.scratch('dxn'), d), rows, Vp, d, false);
  }
  p.plan.add(lossReduce(), { N }, [p.ws.scratch('wloss'), p.stats], [1]);
}

export function lmHeadName(model: Model): string {
  return model.config.tiedEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}

/** Backward from dxf (in dxn: encodeForward(p, true) ran the head's backward per chunk);
 *  gradients are added to model.grads (the trainer clears it once per step). */
export function encodeBackward(p: PassContext): void {
  const { model, ws, B, T } = p;
  const { c, N, d, qd, kvd, h, attDims } = passDims(p);
  const P = (name: string) => model.slot(name);
  // A frozen base (LoRA) keeps no gradients: only dX flows through its weights.
  const trainBase = !!model.grads;
  const G = (name: string) => (trainBase ? model.slot(name, 'grads') : undefined);
  const S = (k: Parameters<Workspace['scratch']>[0]) => ws.scratch(k);
  const lora = (l: number, targets: LoraTarget[], outs: number[], dy: View, x: View, dx: View, inp: number) => {
    for (const { t, cols } of loraTargetsOf(p, targets, outs)) loraBackward(p, l, t, dy, x, ws.lora(l, p.lora!.spec.targets.indexOf(t)), dx, N, inp, cols);
  };

  // the head's backward ran chunk by chunk in encodeForward (dxf in dxn); final norm → dres
  const xL = ws.layer('x', c.nLayers);
  p.plan.add(rmsnormBackwardInput(d, false), { N }, [S('dxn'), xL, P('model.norm.weight'), S('rstdf'), S('dres')], groups64(N));
  if (trainBase) p.plan.add(rmsnormBackwardWeight(d), { N }, [S('dxn'), xL, S('rstdf'), G('model.norm.weight')!], groups64(d / 4));

  for (let l = c.nLayers - 1; l >= 0; l--) {
    const pre = layerPrefix(l);
    const L = (k: Parameters<Workspace['layer']>[0]) => ws.layer(k, l);
    // checkpointed: re-run block l from its kept input (it rewrites x_{l+1} with the same
    // bits); the last block's activations are still in the shared region from the forward
    if (ws.checkpoint === 'layers' && l < c.nLayers - 1) encodeTrainingBlock(p, l);
    // MLP block (dres = grad of x_{l+1} = grad of the down projection's output)
    linearBackward(p, S('dres'), L('hact'), P(pre + 'mlp.down_proj.weight'), G(pre + 'mlp.down_proj.weight'), S('dhact'), N, d, h, false);
    lora(l, ['down'], [d], S('dres'), L('hact'), S('dhact'), h);
    p.plan.add(swigluBackward(h), { count4: (N * h) / 4 }, [S('dhact'), L('gu'), S('dgu')], elementwiseWorkgroups((N * h) / 4));
    groupBackward(p, gateUpGroup(pre, h), S('dgu'), L('xn2'), S('dxn'), N, d, false);
    lora(l, ['gate', 'up'], [h, h], S('dgu'), L('xn2'), S('dxn'), d);
    p.plan.add(rmsnormBackwardInput(d, true), { N }, [S('dxn'), L('xmid'), P(pre + 'post_attention_layernorm.weight'), L('rstd2'), S('dres')], groups64(N));
    if (trainBase) p.plan.add(rmsnormBackwardWeight(d), { N }, [S('dxn'), L('xmid'), L('rstd2'), G(pre + 'post_attention_layernorm.weight')!], groups64(d / 4));
    // attention block (dres = grad of xmid)
    linearBackward(p, S('dres'), L('att'), P(pre + 'self_attn.o_proj.weight'), G(pre + 'self_attn.o_proj.weight'), S('datt'), N, d, qd, false);
    lora(l, ['o'], [d], S('dres'), L('att'), S('datt'), qd);
    const queryGroups = groups64(B * c.nHeads * Math.ceil(T / QUERIES_PER_THREAD));
    const keyGroups = groups64(B * c.nKvHeads * Math.ceil(T / KV_POSITIONS_PER_THREAD));
    if (ws.attention === 'stored') {
      p.plan.add(attentionBackwardQuery(attDims), { B, T }, [S('datt'), L('P'), L('qkv'), S('dS'), S('dqkv')], queryGroups);
      p.plan.add(attentionBackwardKeyValue(attDims), { B, T }, [S('dS'), L('P'), L('qkv'), S('datt'), S('dqkv')], keyGroups);
    } else {
      // delta_t = datt_t · att_t first (the query kernel writes it), then dk/dv read it
      p.plan.add(attentionBackwardQueryLse(attDims), { B, T }, [S('datt'), L('att'), L('lse'), L('qkv'), S('delta'), S('dqkv')], queryGroups);
      p.plan.add(attentionBackwardKeyValueLse(attDims), { B, T }, [L('qkv'), S('datt'), L('lse'), S('delta'), S('dqkv')], keyGroups);
    }
    p.plan.add(ropeKernel(c.headDim), { N, T, heads: c.nHeads + c.nKvHeads, rowStride: qd + 2 * kvd, dir: -1 }, [S('dqkv'), { buffer: model.rope }], groups64((N * (qd + kvd)) / 2));
    if (c.qkvBias && trainBase) p.plan.add(qkvBiasBackward(qd, kvd), { N }, [S('dqkv'), ...qkvBiasNames(pre).map((n) => G(n)!)], groups64(qd + 2 * kvd));
    groupBackward(p, qkvGroup(pre, qd, kvd), S('dqkv'), L('xn1'), S('dxn'), N, d, false);
    lora(l, ['q', 'k', 'v'], [qd, kvd, kvd], S('dqkv'), L('xn1'), S('dxn'), d);
    p.plan.add(rmsnormBackwardInput(d, true), { N }, [S('dxn'), L('x'), P(pre + 'input_layernorm.weight'), L('rstd1'), S('dres')], groups64(N));
    if (trainBase) p.plan.add(rmsnormBackwardWeight(d), { N }, [S('dxn'), L('x'), L('rstd1'), G(pre + 'input_layernorm.weight')!], groups64(d / 4));
  }
  // dE[token] += Σ dres over that token's positions
  if (trainBase) p.plan.add(embeddingBackward(d), { V: c.vocabSize }, [S('dres'), p.inputs.csrOffsets, p.inputs.csrPositions, G('model.embed_tokens.weight')!], elementwiseWorkgroups((c.vocabSize * d) / 4));
}
