// `atlas bench --browser`: trains a preset through the engine worker in this page and
// publishes the timing on window.__benchResult. Query: ?config=M&steps=5&warmup=2[&matmul=…]
import { wrap } from 'comlink';
import type { EngineHost } from '../../../src/engine/engine-host.ts';
import type { MatmulVariant } from '../../../src/engine/kernels/matmul.ts';
import { getPreset } from '../../../models/presets.ts';
import { Rng } from '../../../src/data/rng.ts';

const w = window as unknown as { __benchResult?: unknown; __benchError?: string };
const q = new URLSearchParams(location.search);
const preset = getPreset(q.get('config') ?? 'S');
const steps = Number(q.get('steps') ?? 5);
const warmup = Number(q.get('warmup') ?? 2);
const matmul = (q.get('matmul') ?? undefined) as MatmulVariant | undefined;

async function run() {
  const engine = wrap<EngineHost>(new Worker(new URL('../../../workers/engine.worker.ts', import.meta.url), { type: 'module' }));
  const { adapter } = await engine.init();
  const c = preset.config;
  const B = preset.batch;
  const T = c.maxSeqLen;
  await engine.createArm('bench', c, { seed: 1 }, { hyper: { lr: 1e-3, warmupSteps: 0, totalSteps: warmup + steps }, maxBatch: B, maxSeqLen: T, matmul });
  const rng = new Rng(7);
  const ids = Int32Array.from({ length: B * T }, () => rng.int(c.vocabSize));
  const labels = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -100 : ids[i + 1]));
  const batch = { inputIds: ids, labels, weights: new Float32Array(B * T).fill(1), batch: B, seqLen: T };
  const r = await engine.timeSteps('bench', batch, warmup, steps);
  return { adapter, ...r, userAgent: navigator.userAgent };
}
run().then(
  (r) => {
    w.__benchResult = r;
    document.getElementById('out')!.textContent = JSON.stringify(r);
  },
  (err) => {
    w.__benchError = err instanceof Error ? err.message : String(err);
    document.getElementById('out')!.textContent = `error: ${w.__benchError}`;
  },
);
