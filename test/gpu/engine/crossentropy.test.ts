// The fused cross-entropy kernel against a float64 CPU reference: vocabularies for every
// threads-per-row width (1 … 64, so several rows per workgroup up to a workgroup per row), odd
// ones (padding lanes filled with garbage that must be ignored and zeroed), GPT-2's 50257,
// large logits (the max must be subtracted), label −100, rows with w = 0 (exactly zero
// gradient), and the 2-D dispatch that lets N exceed 65535.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import { gpuResources, readBufferF32, upload } from '../../../src/engine/gpu/resources.ts';
import { Plan } from '../../../src/engine/gpu/plan.ts';
import { crossEntropyForwardBackward, crossEntropyThreadsPerRow, crossEntropyWorkgroups } from '../../../src/engine/kernels/crossentropy.ts';
import { Rng } from '../../../src/data/rng.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createGpuContext();
});
afterAll(() => ctx?.device.destroy());

interface Rows {
  V: number;
  logits: Float32Array; // [N, Vp]
  labels: Int32Array;
  weights: Float32Array;
}

/** Runs the kernel on `rows` (dispatched as `groups`, else crossEntropyWorkgroups); returns
 *  dlogits [N, Vp], ce [N], wloss [N]. */
async function runKernel({ V, logits, labels, weights }: Rows, groups?: [number, number]) {
  const res = gpuResources(ctx);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const N = labels.length;
  const buf = (data: ArrayBufferView, bytes = data.byteLength) => {
    const b = res.createBuffer('ce-test', bytes, usage);
    upload(ctx.device.queue, b, 0, data);
    return b;
  };
  const bufs = [buf(logits), buf(labels), buf(weights), buf(new Float32Array(N).fill(NaN)), buf(new Float32Array(N).fill(NaN))];
  const plan = new Plan(res);
  plan.add(crossEntropyForwardBackward(V), { N }, bufs.map((buffer) => ({ buffer })), groups ?? crossEntropyWorkgroups(V, N));
  await res.checkCompiled();
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  plan.encode(pass);
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
  const d = await readBufferF32(ctx.device, bufs[0], logits.byteLength);
  const ce = await readBufferF32(ctx.device, bufs[3], N * 4);
  const wloss = await readBufferF32(ctx.device, bufs[4], N * 4);
  for (const b of bufs) res.release(b);
  return { d, ce, wloss };
}

/** The kernel's maths in float64 over the first V lanes of each row. */
function reference({ V, logits, labels, weights }: Rows) {
  const N = labels.length;
  const Vp = logits.length / N;
  const d = new Float64Array(N * Vp);
  const ce = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const row = logits.subarray(n * Vp, n * Vp + V);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - mx);
    const lse = mx + Math.log(sum);
    ce[n] = labels[n] >= 0 ? lse - row[labels[n]] : 0;
    for (let v = 0; v < V; v++) d[n * Vp + v] = weights[n] * (Math.exp(row[v] - lse) - (v === labels[n] ? 1 : 0));
  }
  return { d, ce, wloss: ce.map((c, n) => weights[n] * c) };
}

/** N rows of vocabulary V: logits ~ scale·U(−1, 1) (+ offset), garbage in the padding lanes;
 *  row 1 has label −100 and w = 0 (as the trainer uploads it), row 2 w = 0, row 3 label −100
 *  with w > 0 (ce 0, gradient w·softmax), row 4 the label at the last real lane. */
function makeRows(seed: number, V: number, N: number, scale = 4, offset = 0): Rows {
  const rng = new Rng(seed);
  const Vp = Math.ceil(V / 4) * 4;
  const logits = new Float32Array(N * Vp);
  for (let n = 0; n < N; n++) {
    for (let v = 0; v < Vp; v++) logits[n * Vp + v] = v < V ? offset + scale * (2 * rng.next() - 1) : 1e30 * (v - V + 1);
  }
  const labels = Int32Array.from({ length: N }, () => rng.int(V));
  const weights = Float32Array.from({ length: N }, () => 0.1 + rng.next());
  if (N > 1) [labels[1], weights[1]] = [-100, 0];
  if (N > 2) weights[2] = 0;
  if (N > 3) labels[3] = -100;
  if (N > 4) labels[4] = V - 1;
  return { V, logits, labels, weights };
}

/** Every row against the reference; collects the faults so that 65537 rows cost a few expects.
 *  Tolerances are f32's: ce relative to max(1, |ce|), each gradient lane relative to w·p. */
function check(rows: Rows, got: Awaited<ReturnType<typeof runKernel>>) {
  const ref = reference(rows);
  const N = rows.labels.length;
  const Vp = rows.logits.length / N;
  const faults: string[] = [];
  const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;
  for (let n = 0; n < N && faults.length < 10; n++) {
    const at = `V ${rows.V} row ${n}`;
    const w = rows.weights[n];
    if (!near(got.ce[n], ref.ce[n], 2e-6 * Math.max(1, Math.abs(ref.ce[n])))) faults.push(`${at}: ce ${got.ce[n]} vs ${ref.ce[n]}`);
    if (!near(got.wloss[n], ref.wloss[n], 2e-6 * Math.max(1, Math.abs(ref.wloss[n])))) faults.push(`${at}: wloss ${got.wloss[n]} vs ${ref.wloss[n]}`);
    if (rows.labels[n] < 0 && got.ce[n] !== 0) faults.push(`${at}: label −100 but ce ${got.ce[n]}`);
    if (w === 0 && got.wloss[n] !== 0) faults.push(`${at}: w = 0 but wloss ${got.wloss[n]}`);
    for (let v = 0; v < Vp; v++) {
      const d = got.d[n * Vp + v];
      const r = ref.d[n * Vp + v];
      // w = 0 rows and padding lanes: exactly zero
      if (w === 0 || v >= rows.V) {
        if (d !== 0) faults.push(`${at} lane ${v}: ${d}, not exactly 0`);
        continue;
      }
      const prob = r / w + (v === rows.labels[n] ? 1 : 0);
      if (!near(d, r, w * (2e-5 * prob + 1e-7))) faults.push(`${at} lane ${v}: dlogits ${d} vs ${r}`);
    }
  }
  expect(faults).toEqual([]);
}

const VOCABULARIES: Array<[number, number]> = [
  [7, 6],
  [97, 9],
  [301, 5],
  [64, 8],
  [600, 11],
  [1025, 7],
  [2048, 5],
  [4096, 4],
  [8192, 3],
  [50257, 5],
];

describe('cross-entropy kernel', () => {
  it('the vocabularies below cover every threads-per-row width', () => {
    expect([...new Set(VOCABULARIES.map(([V]) => crossEntropyThreadsPerRow(V)))].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });

  it.each(VOCABULARIES)('vocabulary %i, %i rows: ce, wloss and dlogits match float64', async (V, N) => {
    const rows = makeRows(V, V, N);
    check(rows, await runKernel(rows));
  });

  it('large logits (offset 80, spread 30) over vocabulary 50257: the max is subtracted', async () => {
    const rows = makeRows(3, 50257, 3, 30, 80);
    check(rows, await runKernel(rows));
  });

  it('any 2-D split of the workgroups reaches every row once (lines of 3 and 4, surplus workgroups)', async () => {
    // V 7: 64 rows per workgroup, 1000 rows = 16 workgroups as 3 × 6; V 1025: 8 rows per workgroup, 45 rows = 6 as 4 × 2
    const small = makeRows(21, 7, 1000);
    check(small, await runKernel(small, [3, 6]));
    const wide = makeRows(22, 1025, 45);
    check(wide, await runKernel(wide, [4, 2]));
  });

  it('workgroups: enough for any N, in lines of at most 65535', () => {
    expect(crossEntropyWorkgroups(50257, 1)).toEqual([1, 1]);
    expect(crossEntropyWorkgroups(50257, 65535)).toEqual([65535, 1]);
    expect(crossEntropyWorkgroups(50257, 65536)).toEqual([65535, 2]);
    expect(crossEntropyWorkgroups(7, 65536)).toEqual([1024, 1]);
    for (const V of [7, 1025, 4096, 151936]) {
      const perGroup = 64 / crossEntropyThreadsPerRow(V);
      for (const N of [65536, 131071, 1_000_000, 4096 * 1024]) {
        const [x, y] = crossEntropyWorkgroups(V, N);
        expect(x).toBeLessThanOrEqual(65535);
        expect(y).toBeLessThanOrEqual(65535);
        expect(x * y * perGroup).toBeGreaterThanOrEqual(N);
        expect(x * (y - 1) * perGroup).toBeLessThan(N); // no whole line of idle workgroups
      }
    }
  });
});
