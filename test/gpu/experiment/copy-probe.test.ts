// The copying probe on the engine: every probe scores the targets copyTargets finds, and a hit
// is exactly a position whose logits' argmax is the target, row k − 1 predicting token k.
import { describe, expect, it } from 'vitest';
import { createGpuContext } from '../../../src/engine/device.ts';
import { createModel, initParams } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { COPY_PROBES, COPY_PROBE_SEED_BASE, copyTargets, runCopyProbes } from '../../../src/experiment/copy-probe.ts';
import { EXPLORER_MISTAKE_RATE } from '../../../src/experiment/pretrain-corpus.ts';
import { buildTrainingExamples } from '../../../src/data/masks.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { generateDemo } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { getPreset } from '../../../models/presets.ts';

describe('runCopyProbes', () => {
  it('counts every target once and a hit only where the argmax is the name', { timeout: 120_000 }, async () => {
    const config = getPreset('tiny').config;
    const ctx = await createGpuContext();
    const model = await createModel(ctx, config, initParams(config, 3));
    const contextLength = config.maxSeqLen;
    const trainer = new Trainer(model, {}, { maxBatch: 1, maxSeqLen: contextLength });
    const tok = defaultTokenizer();
    const results = await runCopyProbes(trainer, tok, { episodes: 2, contextLength });
    expect(results.map((r) => r.label)).toEqual(COPY_PROBES.map((p) => p.label));
    for (const [i, probe] of COPY_PROBES.entries()) {
      let total = 0;
      let hits = 0;
      for (let s = 0; s < 2; s++) {
        const t = generateDemo(getEnv(probe.env), COPY_PROBE_SEED_BASE + s, probe.split, { style: 'explorer', mistakeRate: EXPLORER_MISTAKE_RATE });
        const [e] = buildTrainingExamples([t], { arm: 'full', tokenizer: tok, contextLength }).examples;
        const targets = copyTargets(e.tokens, tok, probe.before(tok.chat));
        if (!targets.length) continue;
        const T = e.inputIds.length;
        const logits = await trainer.logits({ inputIds: e.inputIds, labels: e.labels, weights: e.weights, batch: 1, seqLen: T });
        for (const k of targets) {
          const row = Array.from(logits.subarray((k - 1) * config.vocabSize, k * config.vocabSize));
          total++;
          if (row[e.tokens[k]] === Math.max(...row)) hits++;
          // Row k − 1 is the prediction of token k: its cross-entropy is the engine's loss there.
          const max = Math.max(...row);
          const ce = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0)) - row[e.tokens[k]];
          const { tokenLoss } = await trainer.forwardLoss({ inputIds: e.inputIds, labels: e.labels, weights: new Float32Array(T).fill(1), batch: 1, seqLen: T });
          expect(tokenLoss[k - 1]).toBeCloseTo(ce, 4);
        }
      }
      expect(total, probe.label).toBeGreaterThan(0);
      expect(results[i]).toEqual({ label: probe.label, hits, total });
    }
    trainer.destroy();
    model.destroy();
  });
});
