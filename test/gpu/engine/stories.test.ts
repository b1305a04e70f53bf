// The training forward pass on a real pretrained model (stories260K, llama2.c format,
// converted by the weights module): its own greedy continuation (the golden text of the
// model's README) must be the argmax at every position, i.e. have lower cross-entropy than
// any other label — checked against 15 random alternative labels per position.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGpuContext } from '../../../src/engine/device.ts';
import { createModel } from '../../../src/engine/model.ts';
import { Trainer } from '../../../src/engine/trainer.ts';
import { parseLlama2c } from '../../../src/engine/weights/llama2c.ts';
import { Llama2cTokenizer } from '../../../src/data/tokenizer/llama2c.ts';
import { Rng } from '../../../src/data/rng.ts';

const DIR = resolve('../shared/models/stories260K');
const present = existsSync(resolve(DIR, 'stories260K.bin'));
if (!present) console.warn(`stories260K test skipped: ${DIR} is absent`);
const GOLDEN = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high';

describe.skipIf(!present)('stories260K through the training forward pass', () => {
  it('the greedy continuation is the argmax at every position', async () => {
    const { config, tensors } = parseLlama2c(readFileSync(resolve(DIR, 'stories260K.bin')));
    const tok = Llama2cTokenizer.fromBytes(readFileSync(resolve(DIR, 'tok512.bin')), config.vocabSize);
    const ids = tok.encode(GOLDEN, { bos: true });
    const T = ids.length - 1;
    const rows = 16;
    const ctx = await createGpuContext();
    const model = await createModel(ctx, config, tensors);
    const trainer = new Trainer(model, {}, { maxBatch: rows, maxSeqLen: T });
    const rng = new Rng(1);
    const inputIds = new Int32Array(rows * T);
    const labels = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < T; t++) {
        inputIds[r * T + t] = ids[t];
        labels[r * T + t] = r === 0 ? ids[t + 1] : rng.int(config.vocabSize);
      }
    }
    const { tokenLoss, loss } = await trainer.forwardLoss({ inputIds, labels, weights: new Float32Array(rows * T).fill(1), batch: rows, seqLen: T });
    let worstMargin = Infinity;
    for (let t = 0; t < T; t++) {
      for (let r = 1; r < rows; r++) {
        if (labels[r * T + t] === ids[t + 1]) continue;
        worstMargin = Math.min(worstMargin, tokenLoss[r * T + t] - tokenLoss[t]);
      }
    }
    const greedyMean = tokenLoss.slice(0, T).reduce((a, b) => a + b, 0) / T;
    console.log(`stories260K: ${T} positions, mean CE of the greedy text ${greedyMean.toFixed(3)}, of random labels ≈ ${loss.toFixed(2)}; smallest margin ${worstMargin.toFixed(3)} nats`);
    expect(worstMargin).toBeGreaterThan(0);
    expect(greedyMean).toBeLessThan(1.5);
    trainer.destroy();
    model.destroy();
  });
});
