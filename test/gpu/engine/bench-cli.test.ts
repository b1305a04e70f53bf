// `atlas bench` (the command module, in-process): the memory plan before allocating, the
// bytes actually allocated beside it, the real models' shapes planned without allocating,
// and a refusal with the plan's message. Timings are printed by the command, not tested.
import { describe, expect, it, vi } from 'vitest';
import { command as bench } from '../../../src/cli/commands/bench.ts';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
  try {
    return { code: await fn(), out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('atlas bench', () => {
  it('a preset, full training: allocated bytes equal the plan, existing fields kept', async () => {
    const { code, out } = await capture(() => bench.run(['--config', 'test', '--steps', '1', '--warmup', '0', '--json']));
    expect(code).toBe(0);
    const r = JSON.parse(out.at(-1)!);
    expect(r.allocatedBytes).toBe(r.planBytes);
    expect(r.plan.bytes.total).toBe(r.planBytes);
    expect(r.gpuBytes).toBeGreaterThanOrEqual(r.allocatedBytes + r.uniformBytes); // the tally is per device: other models may share it
    expect(r.trainableParams).toBe(r.params);
    for (const k of ['msPerStep', 'cpuMsPerStep', 'tokensPerSecond', 'modelFlopsPerToken', 'modelGflopsPerSecond', 'dispatchesPerStep', 'workspaceBytes', 'attention', 'matmul', 'lastLoss']) expect(r, k).toHaveProperty(k);
    expect([r.batch, r.seqLen]).toEqual([2, 32]);
  });

  it('LoRA over an f16 base at a chosen batch and sequence: the plan is printed first and equals what is allocated', async () => {
    const { code, out } = await capture(() => bench.run(['--config', 'test', '--lora', '4', '--f16', '--batch', '1', '--seq', '8', '--steps', '1', '--warmup', '0']));
    expect(code).toBe(0);
    const planAt = out.findIndex((l) => l.startsWith('memory plan: batch 1 × 8 tokens, LoRA rank 4 on q,k,v,o,gate,up,down over a frozen f16 base'));
    const timedAt = out.findIndex((l) => / ms\/step /.test(l));
    expect(planAt).toBeGreaterThanOrEqual(0);
    expect(timedAt).toBeGreaterThan(planAt);
    const line = out.find((l) => l.includes('allocated by model, adapter and trainer'))!;
    const [, allocated, planned] = /trainer (\d+) bytes, memory plan (\d+) \(equal\)/.exec(line)!;
    expect(allocated).toBe(planned);
  });

  it('qwen2.5-0.5b --lora 16 --f16 --plan: the plan only, nothing allocated', async () => {
    const { code, out } = await capture(() => bench.run(['--config', 'qwen2.5-0.5b', '--lora', '16', '--f16', '--plan', '--json']));
    expect(code).toBe(0);
    const r = JSON.parse(out.at(-1)!);
    expect(r.plan.bytes.total).toBe(1294938976);
    expect(r.plan.trainableParams).toBe(8798208);
    expect(r.msPerStep).toBeUndefined();
  });

  it('refuses with the plan’s message over a budget', async () => {
    const { code, err } = await capture(() => bench.run(['--config', 'smollm2-135m', '--lora', '16', '--budget', '0.6']));
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/^atlas bench: Model does not fit the budget: it needs 678\.6 MiB in all, above 614\.4 MiB; the largest buffer is "params" .*It would fit with sequence ≤ \d+, or f16 base weights\./s);
  });

  it('refuses --f16 without --lora, and unknown configs with the known names', async () => {
    await expect(bench.run(['--config', 'test', '--f16'])).rejects.toThrow(/--f16 keeps a frozen base 16-bit: it needs --lora R/);
    await expect(bench.run(['--config', 'nope'])).rejects.toThrow(/real model shapes: smollm2-135m, qwen2.5-0.5b/);
  });
});
