// A plain CPU forward pass of the Llama model in HF layout (rotate-half RoPE), written
// straight from the equations with no KV cache, so it shares nothing with the WGSL
// generator. Used as the reference in the generation tests.
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { NamedTensors } from '../../../src/engine/params.ts';

/** y[o] = Σ_i W[o, i] x[i], with W [out, in] row-major. */
function linear(W: Float32Array, x: Float64Array, out: number): Float64Array {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += W[o * n + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rmsnorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
}

/** Rotate-half RoPE on each head of a [heads*hd] vector at position pos. */
function rope(x: Float64Array, heads: number, hd: number, pos: number, theta: number): void {
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      const freq = 1 / Math.pow(theta, (2 * i) / hd);
      const c = Math.cos(pos * freq);
      const s = Math.sin(pos * freq);
      const a = x[h * hd + i];
      const b = x[h * hd + i + half];
      x[h * hd + i] = a * c - b * s;
      x[h * hd + i + half] = b * c + a * s;
    }
  }
}

/** Logits [T, vocab] for every position of one token sequence. */
export function referenceLogits(c: LlamaConfig, w: NamedTensors, tokens: number[]): Float64Array[] {
  const get = (n: string) => {
    const t = w.get(n);
    if (!t) throw new Error(`reference: missing ${n}`);
    return t;
  };
  const D = c.dModel;
  const hd = c.headDim;
  const emb = get('model.embed_tokens.weight');
  const xs = tokens.map((t) => Float64Array.from(emb.subarray(t * D, (t + 1) * D)));
  const T = tokens.length;
  for (let l = 0; l < c.nLayers; l++) {
    const p = `model.layers.${l}.`;
    const qs: Float64Array[] = [];
    const ks: Float64Array[] = [];
    const vs: Float64Array[] = [];
    for (let t = 0; t < T; t++) {
      const h = rmsnorm(xs[t], get(p + 'input_layernorm.weight'), c.normEps);
      const q = linear(get(p + 'self_attn.q_proj.weight'), h, c.nHeads * hd);
      const k = linear(get(p + 'self_attn.k_proj.weight'), h, c.nKvHeads * hd);
      rope(q, c.nHeads, hd, t, c.ropeTheta);
      rope(k, c.nKvHeads, hd, t, c.ropeTheta);
      qs.push(q);
      ks.push(k);
      vs.push(linear(get(p + 'self_attn.v_proj.weight'), h, c.nKvHeads * hd));
    }
    const group = c.nHeads / c.nKvHeads;
    for (let t = 0; t < T; t++) {
      const att = new Float64Array(c.nHeads * hd);
      for (let h = 0; h < c.nHeads; h++) {
        const kh = Math.floor(h / group);
        const scores = new Float64Array(t + 1);
        for (let s = 0; s <= t; s++) {
          let d = 0;
          for (let i = 0; i < hd; i++) d += qs[t][h * hd + i] * ks[s][kh * hd + i];
          scores[s] = d / Math.sqrt(hd);
        }
        const m = Math.max(...scores);
        let z = 0;
        for (let s = 0; s <= t; s++) z += (scores[s] = Math.exp(scores[s] - m));
        for (let s = 0; s <= t; s++) for (let i = 0; i < hd; i++) att[h * hd + i] += (scores[s] / z) * vs[s][kh * hd + i];
      }
      const o = linear(get(p + 'self_attn.o_proj.weight'), att, D);
      for (let i = 0; i < D; i++) xs[t][i] += o[i];
      const h2 = rmsnorm(xs[t], get(p + 'post_attention_layernorm.weight'), c.normEps);
      const g = linear(get(p + 'mlp.gate_proj.weight'), h2, c.hiddenDim);
      const u = linear(get(p + 'mlp.up_proj.weight'), h2, c.hiddenDim);
      const a = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]);
      const d = linear(get(p + 'mlp.down_proj.weight'), a, D);
      for (let i = 0; i < D; i++) xs[t][i] += d[i];
    }
  }
  const head = c.tiedEmbeddings ? emb : get('lm_head.weight');
  return xs.map((x) => linear(head, rmsnorm(x, get('model.norm.weight'), c.normEps), c.vocabSize));
}

/** Greedy continuation with the reference forward (recomputes everything each step). */
export function referenceGreedy(c: LlamaConfig, w: NamedTensors, prompt: number[], steps: number): number[] {
  const seq = prompt.slice();
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const logits = referenceLogits(c, w, seq);
    const last = logits[logits.length - 1];
    let best = 0;
    for (let v = 1; v < last.length; v++) if (last[v] > last[best]) best = v;
    out.push(best);
    seq.push(best);
  }
  return out;
}
