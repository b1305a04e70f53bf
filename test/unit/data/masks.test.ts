// Loss masks, token by token, for every arm and tokenizer: weight 1 exactly on the tokens of
// the arm's agent turns (content + end-of-turn token), 0 on BOS, headers, system, preamble,
// instruction and observations. Checked independently of the renderer's bookkeeping by
// decoding every run of weighted tokens back to text.
import { describe, expect, it } from 'vitest';
import { sampleTrajectory } from './helpers.ts';
import { defaultTok, gpt2, qwen3, sharedPresent, storiesHf, storiesLlama2c } from './tokenizers.ts';
import { ARMS, armSteps } from '../../../src/data/arms.ts';
import { aggregateStepLoss, buildTrainingExamples, packBatches, tokenView } from '../../../src/data/masks.ts';
import { OMITTED_TEXT, renderTrajectory, tokenTexts } from '../../../src/data/render.ts';
import { validateBatch } from '../../../src/engine/batch.ts';
import type { TextTokenizer } from '../../../src/data/tokenize.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';

const tokenizers: [string, () => TextTokenizer | null][] = [
  ['default', defaultTok],
  ['gpt2', gpt2],
  ['qwen3', qwen3],
  ['stories260K-hf', storiesHf],
  ['tok512.bin', storiesLlama2c],
];
const tokCache = new Map<string, TextTokenizer | null>();
const getTok = (name: string, make: () => TextTokenizer | null) => (tokCache.has(name) ? tokCache.get(name)! : (tokCache.set(name, make()), tokCache.get(name)!));

const traj = sampleTrajectory('mask-test', 7, { system: 'You are a careful agent.', preamble: true, critical: [1, 4, 5], emptyObsAt: [2] });
const stepLoss = [0.1, 0.9, 0.3, 0.8, 0.2, 0.05, 0.7];
// SentencePiece tokenizers prepend "▁" to each separately encoded segment; compare modulo that.
const norm = (s: string) => s.replace(/^ /, '');

for (const [name, make] of tokenizers) {
  const needsShared = name.startsWith('stories') || name.startsWith('tok512');
  // Loading a tokenizer (Qwen3: 11 MB of JSON) is slow on a loaded CI machine.
  describe.skipIf(needsShared && !sharedPresent)(`masks with ${name}`, { timeout: 60_000 }, () => {
    for (const arm of ARMS) {
      it(`arm ${arm}: weight 1 exactly on the arm's agent turns and their end-of-turn tokens`, () => {
        const tok = getTok(name, make)!;
        const { examples, report } = buildTrainingExamples([traj], { arm, tokenizer: tok, contextLength: 4096, seed: 5, stepLoss: { [traj.id]: stepLoss } });
        const expected = armSteps(arm, traj, { seed: 5, stepLoss });
        expect(examples.length).toBe(1);
        const ex = examples[0];
        expect(ex.supervisedSteps).toEqual(expected);
        expect(report.droppedTurns).toEqual([]);
        // Engine view is the shifted token sequence.
        expect(Array.from(ex.inputIds)).toEqual(Array.from(ex.tokens.slice(0, -1)));
        expect(Array.from(ex.labels)).toEqual(Array.from(ex.tokens.slice(1)));
        // Runs of weighted tokens decode to exactly the expected agent turns + end-of-turn text.
        const runs: number[][] = [];
        ex.tokenWeights.forEach((w, i) => {
          expect(w === 0 || w === 1).toBe(true);
          if (w === 1) {
            if (i === 0 || ex.tokenWeights[i - 1] === 0) runs.push([]);
            runs[runs.length - 1].push(ex.tokens[i]);
          }
        });
        expect(runs.length).toBe(expected.length);
        runs.forEach((ids, r) => {
          const eot = ids[ids.length - 1];
          expect(eot).toBe(tok.chat.eotId);
          expect(norm(tok.decode(ids.slice(0, -1)))).toBe(traj.steps[expected[r]].agent);
        });
        // Nothing else is weighted: the unweighted tokens hold the instruction, system, preamble,
        // every observation before the last supervised turn (the example ends there), and the
        // agent turns the arm did not choose.
        const last = expected[expected.length - 1];
        const unweighted = tok.decode(Array.from(ex.tokens).filter((_, i) => ex.tokenWeights[i] === 0));
        const observations = traj.steps.slice(0, last).map((s) => s.observation).filter(Boolean);
        for (const text of [traj.instruction, traj.system!, traj.preamble![0].text, ...observations]) expect(unweighted).toContain(text);
        expect(unweighted).not.toContain(traj.steps[last].observation);
        traj.steps.forEach((s, i) => {
          if (!expected.includes(i) && i < last) expect(unweighted).toContain(s.agent);
        });
        // Header tokens never carry weight.
        const r = renderTrajectory(traj, tok);
        for (const seg of r.segments) {
          const wsum = ex.tokenWeights.slice(seg.start, seg.start + seg.length).reduce((a, b) => a + b, 0);
          const shouldWeigh = (seg.kind === 'agent' || seg.kind === 'eot') && seg.step !== undefined && expected.includes(seg.step);
          expect(wsum, `${seg.kind} ${seg.step}`).toBe(shouldWeigh ? seg.length : 0);
        }
        expect(report.supervisedTokens).toBe(runs.reduce((n, x) => n + x.length, 0));
      });
    }
  });
}

describe('segment-wise encoding matches encoding the whole rendered text', { timeout: 60_000 }, () => {
  for (const [name, make] of tokenizers.filter(([n]) => ['default', 'gpt2', 'qwen3'].includes(n))) {
    it(name, () => {
      const tok = getTok(name, make)!;
      const r = renderTrajectory(traj, tok);
      const text = r.segments.filter((s) => s.kind !== 'bos').map((s) => s.text).join('');
      const body = Array.from(r.ids.slice(tok.bosId !== undefined ? 1 : 0));
      expect(tok.encode(text)).toEqual(body);
    });
  }
});

describe('token texts for display', { timeout: 60_000 }, () => {
  for (const [name, make] of tokenizers) {
    const needsShared = name.startsWith('stories') || name.startsWith('tok512');
    it.skipIf(needsShared && !sharedPresent)(`${name}: per-token texts join to the decoded rendering`, () => {
      const tok = getTok(name, make)!;
      const r = renderTrajectory(traj, tok);
      expect(tokenTexts(r.ids, tok).join('')).toBe(tok.decode(Array.from(r.ids)));
      const view = tokenView(traj, { arm: 'full', tokenizer: tok });
      expect(view.tokens.filter((t) => t.segment === 'eot').every((t) => t.text === tok.chat.eotText)).toBe(true);
    });
  }
});

describe('windows for trajectories longer than the context', { timeout: 30_000 }, () => {
  const tok = defaultTok();
  const long = sampleTrajectory('long', 40, { critical: [0, 3, 17, 18, 19, 39] });

  it('keep the prefix, end at a supervised turn, train every supervised turn once, report the cut', () => {
    const T = 96;
    const full = renderTrajectory(long, tok);
    const { examples, report } = buildTrainingExamples([long], { arm: 'critical', tokenizer: tok, contextLength: T });
    expect(examples.length).toBeGreaterThan(1);
    expect(report.windowed).toBe(1);
    const trained = examples.flatMap((e) => e.supervisedSteps);
    expect(trained).toEqual([0, 3, 17, 18, 19, 39]);
    let cut = 0;
    for (const e of examples) {
      expect(e.tokens.length).toBeLessThanOrEqual(T + 1);
      expect(Array.from(e.tokens.slice(0, full.prefixEnd))).toEqual(Array.from(full.ids.slice(0, full.prefixEnd)));
      const last = e.supervisedSteps[e.supervisedSteps.length - 1];
      expect(e.window.end).toBe(full.steps[last].eotEnd);
      expect(e.tokens[e.tokens.length - 1]).toBe(tok.chat.eotId);
      // Weighted tokens are exactly the assigned turns.
      const weighted = e.tokenWeights.reduce((a, b) => a + b, 0);
      expect(weighted).toBe(e.supervisedSteps.reduce((n, s) => n + full.steps[s].eotEnd - full.steps[s].agentStart, 0));
      cut += e.window.start - full.prefixEnd;
      // A window that leaves history out says so right after the prefix; one that does not, does not.
      const marker = Array.from(full.omitted);
      const afterPrefix = Array.from(e.tokens.slice(full.prefixEnd, full.prefixEnd + marker.length));
      if (e.window.start > full.prefixEnd) expect(afterPrefix).toEqual(marker);
      else expect(afterPrefix).not.toEqual(marker);
    }
    expect(tok.decode(Array.from(full.omitted))).toContain(OMITTED_TEXT);
    expect(report.cutTokens).toBe(cut);
    expect(report.cutTokens).toBeGreaterThan(0);
  });

  it('a turn that cannot fit with the prefix is reported, never silently lost', () => {
    const t = sampleTrajectory('huge-turn', 3, { critical: [1] });
    t.steps[1].agent = 'Thought: ' + 'very long reasoning '.repeat(200);
    const { examples, report } = buildTrainingExamples([t], { arm: 'critical', tokenizer: tok, contextLength: 64 });
    expect(examples).toEqual([]);
    expect(report.droppedTurns).toEqual([{ trajectoryId: 'huge-turn', step: 1, reason: expect.stringMatching(/need \d+ tokens; the context holds 65/) }]);
  });

  it('a 3,000-step trajectory with a small context: every turn in exactly one window', () => {
    const t = sampleTrajectory('huge', 3000);
    const { examples, report } = buildTrainingExamples([t], { arm: 'full', tokenizer: tok, contextLength: 128 });
    expect(examples.flatMap((e) => e.supervisedSteps)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(report.droppedTurns).toEqual([]);
    expect(examples.every((e) => e.tokens.length <= 129)).toBe(true);
  });

  it('labelSteps mark exactly the weighted positions; aggregateStepLoss averages them per step', () => {
    const { examples } = buildTrainingExamples([long], { arm: 'full', tokenizer: tok, contextLength: 96 });
    for (const e of examples) e.weights.forEach((w, p) => expect(e.labelSteps[p] >= 0).toBe(w === 1));
    // A synthetic per-position loss equal to 10·step + 1 gives back exactly that per step.
    const { stepLoss, missing } = aggregateStepLoss([long], examples, (i) => Array.from(examples[i].labelSteps, (s) => (s >= 0 ? 10 * s + 1 : 999)));
    expect(missing).toEqual([]);
    expect(stepLoss.long).toEqual(long.steps.map((_, s) => 10 * s + 1));
    const hl = buildTrainingExamples([long], { arm: 'highest-loss', tokenizer: tok, contextLength: 96, stepLoss });
    expect(hl.examples.flatMap((e) => e.supervisedSteps)).toEqual([34, 35, 36, 37, 38, 39]);
  });

  it('observationWeight (pretraining) weighs each answered observation once, in the window of its turn, never the prefix', () => {
    const T = 96;
    const full = renderTrajectory(long, tok);
    const plain = buildTrainingExamples([long], { arm: 'full', tokenizer: tok, contextLength: T });
    const lm = buildTrainingExamples([long], { arm: 'full', tokenizer: tok, contextLength: T, observationWeight: 0.5 });
    // Same windows, same tokens; only weights differ.
    expect(lm.examples.map((e) => Array.from(e.tokens))).toEqual(plain.examples.map((e) => Array.from(e.tokens)));
    const seen: number[] = [];
    lm.examples.forEach((e, i) => {
      const head = e.tokens.length - (e.window.end - e.window.start);
      for (let p = 0; p < e.tokens.length; p++) {
        const w = e.tokenWeights[p];
        const at = p - head + e.window.start; // position in the full rendering (prefix: p < head)
        const obsOf = p >= head ? full.steps.findIndex((s) => at >= s.eotEnd && at < s.end) : -1;
        if (p < head) expect(w).toBe(0);
        else if (obsOf >= 0) expect(w).toBe(e.supervisedSteps.includes(obsOf) && full.steps[obsOf].end <= e.window.end ? 0.5 : 0);
        else expect(w).toBe(plain.examples[i].tokenWeights[p]);
      }
      for (const s of e.supervisedSteps) if (full.steps[s].end <= e.window.end) seen.push(s);
      // The window's last turn ends it: its observation is never in the window.
      expect(full.steps[e.supervisedSteps[e.supervisedSteps.length - 1]].end).toBeGreaterThan(e.window.end);
    });
    // Every observation but each window's last is weighed exactly once.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(long.steps.length - lm.examples.length);
    const obsTokens = seen.reduce((n, s) => n + full.steps[s].end - full.steps[s].eotEnd, 0);
    expect(lm.report.supervisedTokens).toBeCloseTo(plain.report.supervisedTokens + 0.5 * obsTokens, 6);
    // The decoded weighted observation text is the environment's reply.
    const e0 = lm.examples[0];
    const obsText = tok.decode(Array.from(e0.tokens).filter((_, p) => e0.tokenWeights[p] === 0.5));
    expect(obsText).toContain('On shelf 0, you see a mug 0.');
  });

  it('trajectories where the arm picks nothing are listed', () => {
    const { report } = buildTrainingExamples([sampleTrajectory('none', 3)], { arm: 'critical', tokenizer: tok, contextLength: 64 });
    expect(report.withoutSupervisedSteps).toEqual(['none']);
  });
});

describe('batches and the UI view', () => {
  it('packBatches gives B×T rows the engine accepts, padding with weight 0 and label −100', () => {
    const tok = defaultTok();
    const ts = [sampleTrajectory('a', 3, { critical: [1] }), sampleTrajectory('b', 5, { critical: [0, 4] }), sampleTrajectory('c', 2, { critical: [1] })];
    const { examples, report } = buildTrainingExamples(ts, { arm: 'critical', tokenizer: tok, contextLength: 256 });
    expect(report.windowed).toBe(0);
    const batches = packBatches(examples, { batchSize: 2, seqLen: 256, padId: tok.padId });
    expect(batches.map((b) => b.rows)).toEqual([2, 1]);
    const config = { vocabSize: tok.vocabSize, maxSeqLen: 256 } as LlamaConfig;
    for (const b of batches) validateBatch(b, config, { maxBatch: 2, maxSeqLen: 256 });
    const row = (b: (typeof batches)[number], r: number) => ({ w: b.weights.slice(r * 256, (r + 1) * 256), l: b.labels.slice(r * 256, (r + 1) * 256) });
    const { w, l } = row(batches[0], 1);
    const n = examples[1].inputIds.length;
    expect(Array.from(w.slice(0, n))).toEqual(Array.from(examples[1].weights));
    expect(w.slice(n).every((x) => x === 0)).toBe(true);
    expect(l.slice(n).every((x) => x === -100)).toBe(true);
    expect(row(batches[1], 1).w.every((x) => x === 0)).toBe(true);
  });

  it('tokenView lists every token with text, segment, step and weight; texts rebuild the rendering', () => {
    const tok = defaultTok();
    const { tokens, supervisedSteps, text } = tokenView(traj, { arm: 'critical', tokenizer: tok });
    expect(supervisedSteps).toEqual([1, 4, 5]);
    expect(tokens.map((t) => t.text).join('')).toBe(text);
    for (const t of tokens) expect(text.slice(t.start, t.end)).toBe(t.text);
    // The weighted spans cover exactly each chosen agent turn followed by <|end|>.
    const spans: string[] = [];
    tokens.forEach((t, i) => {
      if (t.weight !== 1) return;
      if (i === 0 || tokens[i - 1].weight !== 1) spans.push('');
      spans[spans.length - 1] += text.slice(t.start, t.end);
    });
    expect(spans).toEqual([1, 4, 5].map((s) => `${traj.steps[s].agent}<|end|>`));
    expect(text).toContain(`<|assistant|>${traj.steps[4].agent}<|end|>`);
    expect(text).toContain(`<|user|>${traj.instruction}<|end|>`);
    expect(tokens.filter((t) => t.weight === 1).every((t) => (t.segment === 'agent' || t.segment === 'eot') && supervisedSteps.includes(t.step!))).toBe(true);
    expect(tokens.filter((t) => t.segment === 'observation').every((t) => t.weight === 0)).toBe(true);
  });
});
