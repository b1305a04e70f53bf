// One fixed training scenario (tiny preset, weights from seed 1, a fixed weighted batch,
// three steps) run in Node and in Chromium through the worker; both must agree.
import type { EngineHost } from '../../../src/engine/engine-host.ts';
import type { TokenBatch } from '../../../src/engine/batch.ts';
import { PRESETS } from '../../../models/presets.ts';
import { Rng } from '../../../src/data/rng.ts';

type Remote<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

export function fixedBatch(): TokenBatch {
  const rng = new Rng(3);
  const B = 2;
  const T = 11;
  const V = PRESETS.test.config.vocabSize;
  return {
    inputIds: Int32Array.from({ length: B * T }, () => rng.int(V)),
    labels: Int32Array.from({ length: B * T }, (_, i) => (i % 5 === 4 ? -100 : rng.int(V))),
    weights: Float32Array.from({ length: B * T }, (_, i) => (i % 3 === 0 ? 0 : 0.5 + (i % 4))),
    batch: B,
    seqLen: T,
  };
}

export async function runFixedScenario(engine: Remote<EngineHost> | EngineHost): Promise<{ adapter: string; losses: number[]; evalLoss: number }> {
  const { adapter } = await engine.init();
  await engine.createArm('fixed', PRESETS.test.config, { seed: 1 }, { hyper: { lr: 1e-2, warmupSteps: 0, totalSteps: 3 }, maxBatch: 2, maxSeqLen: 16 });
  const batch = fixedBatch();
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) losses.push((await engine.step('fixed', [batch])).loss);
  const evalLoss = (await engine.evalLoss('fixed', batch)).loss;
  await engine.disposeArm('fixed');
  return { adapter, losses, evalLoss };
}
