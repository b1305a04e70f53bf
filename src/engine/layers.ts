// The Llama decoder as a sequence of dispatches, in llm.c style: the forward pass stores
// every activation the backward pass needs in the workspace; the backward pass walks the
// layers in reverse with paired *_backward kernels. N = B·T rows; d = dModel, q = H·hd,
// kv = KVH·hd, h = hiddenDim, V = vocab.
import type { Model } from './model.ts';
import type { Workspace } from './workspace.ts';
import type { Plan, View } from './gpu/plan.ts';
import { matmulKernel, matmulWorkgroups, type MatmulMode, type MatmulVariant } from './kernels/matmul.ts';
import { rmsnormForward, rmsnormBackwardInput, rmsnormBackwardWeight } from './kernels/rmsnorm.ts';
import { ropeKernel } from './kernels/rope.ts';
import { attentionForward, attentionBackwardQuery, attentionBackwardKeyValue } from './kernels/attention.ts';
import { swigluForward, swigluBackward, elementwiseWorkgroups } from './kernels/swiglu.ts';
import { embeddingForward, embeddingBackward } from './kernels/embedding.ts';
import { crossEntropyForwardBackward, lossReduce } from './kernels/crossentropy.ts';
import { layerPrefix } from './params.ts';

/** GPU views of one micro-batch's uploaded inputs. */
export interface InputViews {
  ids: View;
  labels: View;
  /** Weights already divided by the step's Σw. */
  weights: View;
  csrOffsets: View;
  csrPositions: View;
}

export interface PassContext {
  plan: Plan;
  model: Model;
  ws: Workspace;
  inputs: InputViews;
  B: number;
  T: number;
  variant: MatmulVariant;
  /** stats buffer: [0] += this micro-batch's share of the loss. */
  stats: View;
}

const groups64 = (n: number): [number] => [Math.ceil(n / 64)];

/** Y[M,N] (op)= A·B with A [M,K] or stored [K,M] (aT), B [K,N] or stored [N,K] (bT). */
function matmul(p: PassContext, a: View, b: View, c: View, M: number, N: number, K: number, aT: boolean, bT: boolean, mode: MatmulMode, r?: View): void {
  const kernel = matmulKernel({ aT, bT, mode, variant: p.variant });
  p.plan.add(kernel, { M, N, K }, r ? [a, b, c, r] : [a, b, c], matmulWorkgroups(M, N, p.variant));
}

/** Linear forward: Y[N,out] = X[N,in]·Wᵀ (+ R). */
function linearForward(p: PassContext, x: View, w: View, y: View, rows: number, out: number, inp: number, residual?: View): void {
  matmul(p, x, w, y, rows, out, inp, false, true, residual ? 'residual' : 'store', residual);
}

/** Linear backward: dX[N,in] (=|+=) dY·W and dW[out,in] += dYᵀ·X. */
function linearBackward(p: PassContext, dy: View, x: View, w: View, dw: View, dx: View, rows: number, out: number, inp: number, accumulateDx: boolean): void {
  matmul(p, dy, w, dx, rows, inp, out, false, false, accumulateDx ? 'accumulate' : 'store');
  matmul(p, dy, x, dw, out, inp, rows, true, false, 'accumulate');
}

export function encodeForward(p: PassContext): void {
  const { model, ws, B, T } = p;
  const c = model.config;
  const N = B * T;
  const d = c.dModel;
  const qd = c.nHeads * c.headDim;
  const kvd = c.nKvHeads * c.headDim;
  const h = c.hiddenDim;
  const P = (name: string) => model.slot(name);
  const attDims = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };

  // x0[N,d] = E[ids]
  p.plan.add(embeddingForward(d), { N }, [p.inputs.ids, P('model.embed_tokens.weight'), ws.layer('x', 0)], groups64((N * d) / 4));
  for (let l = 0; l < c.nLayers; l++) {
    const pre = layerPrefix(l);
    const L = (k: Parameters<Workspace['layer']>[0]) => ws.layer(k, l);
    // attention block: xn1 = rmsnorm(x); q,k,v = xn1·W{q,k,v}ᵀ; rope; attention; xmid = x + att·Woᵀ
    p.plan.add(rmsnormForward(d), { N, eps: c.normEps }, [L('x'), P(pre + 'input_layernorm.weight'), L('xn1'), L('rstd1')], groups64(N));
    linearForward(p, L('xn1'), P(pre + 'self_attn.q_proj.weight'), L('q'), N, qd, d);
    linearForward(p, L('xn1'), P(pre + 'self_attn.k_proj.weight'), L('k'), N, kvd, d);
    linearForward(p, L('xn1'), P(pre + 'self_attn.v_proj.weight'), L('v'), N, kvd, d);
    const rope = ropeKernel(c.headDim);
    p.plan.add(rope, { N, T, heads: c.nHeads, dir: 1 }, [L('q'), { buffer: model.rope }], groups64((N * qd) / 2));
    p.plan.add(rope, { N, T, heads: c.nKvHeads, dir: 1 }, [L('k'), { buffer: model.rope }], groups64((N * kvd) / 2));
    p.plan.add(attentionForward(attDims), { B, T }, [L('q'), L('k'), L('v'), L('P'), L('att')], groups64(B * c.nHeads * T));
    linearForward(p, L('att'), P(pre + 'self_attn.o_proj.weight'), L('xmid'), N, d, qd, L('x'));
    // MLP block: xn2 = rmsnorm(xmid); hact = silu(xn2·Wgᵀ) ⊙ (xn2·Wuᵀ); x' = xmid + hact·Wdᵀ
    p.plan.add(rmsnormForward(d), { N, eps: c.normEps }, [L('xmid'), P(pre + 'post_attention_layernorm.weight'), L('xn2'), L('rstd2')], groups64(N));
    linearForward(p, L('xn2'), P(pre + 'mlp.gate_proj.weight'), L('gate'), N, h, d);
    linearForward(p, L('xn2'), P(pre + 'mlp.up_proj.weight'), L('up'), N, h, d);
    p.plan.add(swigluForward(), { count4: (N * h) / 4 }, [L('gate'), L('up'), L('hact')], elementwiseWorkgroups((N * h) / 4));
    linearForward(p, L('hact'), P(pre + 'mlp.down_proj.weight'), ws.layer('x', l + 1), N, d, h, L('xmid'));
  }
  // head: xf = rmsnorm(x_L); logits = xf·Wlmᵀ; masked cross-entropy (+ dlogits in place)
  const xL = ws.layer('x', c.nLayers);
  p.plan.add(rmsnormForward(d), { N, eps: c.normEps }, [xL, P('model.norm.weight'), ws.scratch('xf'), ws.scratch('rstdf')], groups64(N));
  linearForward(p, ws.scratch('xf'), P(lmHeadName(model)), ws.scratch('logits'), N, c.vocabSize, d);
  p.plan.add(crossEntropyForwardBackward(c.vocabSize), { N }, [ws.scratch('logits'), p.inputs.labels, p.inputs.weights, ws.scratch('ce'), ws.scratch('wloss')], groups64(N));
  p.plan.add(lossReduce(), { N }, [ws.scratch('wloss'), p.stats], [1]);
}

export function lmHeadName(model: Model): string {
  return model.config.tiedEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}

/** Backward from the dlogits the cross-entropy kernel left in `logits`; gradients are
 *  added to model.grads (the trainer clears it once per step). */
export function encodeBackward(p: PassContext): void {
  const { model, ws, B, T } = p;
  const c = model.config;
  const N = B * T;
  const d = c.dModel;
  const qd = c.nHeads * c.headDim;
  const kvd = c.nKvHeads * c.headDim;
  const h = c.hiddenDim;
  const P = (name: string) => model.slot(name);
  const G = (name: string) => model.slot(name, 'grads');
  const S = (k: Parameters<Workspace['scratch']>[0]) => ws.scratch(k);
  const attDims = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim };

  // head: dxf = dlogits·Wlm, dWlm += dlogitsᵀ·xf; final norm → dres (grad of x_L)
  linearBackward(p, S('logits'), S('xf'), P(lmHeadName(model)), G(lmHeadName(model)), S('dxn'), N, c.vocabSize, d, false);
  const xL = ws.layer('x', c.nLayers);
  p.plan.add(rmsnormBackwardInput(d, false), { N }, [S('dxn'), xL, P('model.norm.weight'), S('rstdf'), S('dres')], groups64(N));
  p.plan.add(rmsnormBackwardWeight(d), { N }, [S('dxn'), xL, S('rstdf'), G('model.norm.weight')], groups64(d / 4));

  for (let l = c.nLayers - 1; l >= 0; l--) {
    const pre = layerPrefix(l);
    const L = (k: Parameters<Workspace['layer']>[0]) => ws.layer(k, l);
    // MLP block (dres = grad of x_{l+1} = grad of the down projection's output)
    linearBackward(p, S('dres'), L('hact'), P(pre + 'mlp.down_proj.weight'), G(pre + 'mlp.down_proj.weight'), S('dhact'), N, d, h, false);
    p.plan.add(swigluBackward(), { count4: (N * h) / 4 }, [S('dhact'), L('gate'), L('up'), S('dgate'), S('dup')], elementwiseWorkgroups((N * h) / 4));
    linearBackward(p, S('dgate'), L('xn2'), P(pre + 'mlp.gate_proj.weight'), G(pre + 'mlp.gate_proj.weight'), S('dxn'), N, h, d, false);
    linearBackward(p, S('dup'), L('xn2'), P(pre + 'mlp.up_proj.weight'), G(pre + 'mlp.up_proj.weight'), S('dxn'), N, h, d, true);
    p.plan.add(rmsnormBackwardInput(d, true), { N }, [S('dxn'), L('xmid'), P(pre + 'post_attention_layernorm.weight'), L('rstd2'), S('dres')], groups64(N));
    p.plan.add(rmsnormBackwardWeight(d), { N }, [S('dxn'), L('xmid'), L('rstd2'), G(pre + 'post_attention_layernorm.weight')], groups64(d / 4));
    // attention block (dres = grad of xmid)
    linearBackward(p, S('dres'), L('att'), P(pre + 'self_attn.o_proj.weight'), G(pre + 'self_attn.o_proj.weight'), S('datt'), N, d, qd, false);
    p.plan.add(attentionBackwardQuery(attDims), { B, T }, [S('datt'), L('P'), L('k'), L('v'), S('dS'), S('dq')], groups64(B * c.nHeads * T));
    p.plan.add(attentionBackwardKeyValue(attDims), { B, T }, [S('dS'), L('P'), L('q'), S('datt'), S('dk'), S('dv')], groups64(B * c.nKvHeads * T));
    const rope = ropeKernel(c.headDim);
    p.plan.add(rope, { N, T, heads: c.nHeads, dir: -1 }, [S('dq'), { buffer: model.rope }], groups64((N * qd) / 2));
    p.plan.add(rope, { N, T, heads: c.nKvHeads, dir: -1 }, [S('dk'), { buffer: model.rope }], groups64((N * kvd) / 2));
    linearBackward(p, S('dq'), L('xn1'), P(pre + 'self_attn.q_proj.weight'), G(pre + 'self_attn.q_proj.weight'), S('dxn'), N, qd, d, false);
    linearBackward(p, S('dk'), L('xn1'), P(pre + 'self_attn.k_proj.weight'), G(pre + 'self_attn.k_proj.weight'), S('dxn'), N, kvd, d, true);
    linearBackward(p, S('dv'), L('xn1'), P(pre + 'self_attn.v_proj.weight'), G(pre + 'self_attn.v_proj.weight'), S('dxn'), N, kvd, d, true);
    p.plan.add(rmsnormBackwardInput(d, true), { N }, [S('dxn'), L('x'), P(pre + 'input_layernorm.weight'), L('rstd1'), S('dres')], groups64(N));
    p.plan.add(rmsnormBackwardWeight(d), { N }, [S('dxn'), L('x'), L('rstd1'), G(pre + 'input_layernorm.weight')], groups64(d / 4));
  }
  // dE[token] += Σ dres over that token's positions
  p.plan.add(embeddingBackward(d), { V: c.vocabSize }, [S('dres'), p.inputs.csrOffsets, p.inputs.csrPositions, G('model.embed_tokens.weight')], elementwiseWorkgroups((c.vocabSize * d) / 4));
}
