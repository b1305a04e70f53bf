// `atlas train` survives a kill: checkpoints every N steps hold the trainable weights, AdamW's
// moments and the step; the same command with --resume replays the data order and ends with
// the same losses and the same bytes as a run that never stopped — after an in-process stop
// (--stop-after), with LoRA, and after a real SIGKILL of a child process.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { command as train } from '../../../src/cli/commands/train.ts';

const dir = mkdtempSync(join(tmpdir(), 'atlas-train-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = join(dir, 'data.jsonl');
writeFileSync(data, Array.from({ length: 6 }, (_, i) => JSON.stringify({ input_ids: Array.from({ length: 10 + i }, (_, t) => (t * 7 + i) % 64) })).join('\n') + '\n');

async function run(args: string[]): Promise<{ losses: Map<number, number>; code: number }> {
  const losses = new Map<number, number>();
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => {
    const m = JSON.parse(String(s));
    losses.set(m.step, m.loss);
  });
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return { code: await train.run(args), losses };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

const base = (out: string, steps: number, extra: string[] = []) => ['--model', 'preset:test', '--data', data, '--steps', String(steps), '--lr', '1e-2', '--batch', '2', '--seq', '8', '--seed', '3', '--out', out, ...extra];

describe('atlas train --resume', () => {
  for (const lora of [false, true]) {
    it(`a run stopped after a checkpoint and resumed ends as one that never stopped${lora ? ' (LoRA)' : ''}`, async () => {
      const extra = ['--checkpoint-every', '4', ...(lora ? ['--lora', '4'] : [])];
      const a = join(dir, `whole${lora}`);
      const b = join(dir, `parts${lora}`);
      const whole = await run(base(a, 12, extra));
      expect([...whole.losses.keys()]).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(existsSync(join(a, 'checkpoint'))).toBe(false); // removed when the run finished
      const first = await run(base(b, 12, [...extra, '--stop-after', '6']));
      expect([...first.losses.keys()]).toEqual([1, 2, 3, 4, 5, 6]);
      expect(JSON.parse(readFileSync(join(b, 'checkpoint', 'state.json'), 'utf8')).step).toBe(6);
      await expect(run(base(b, 12, extra))).rejects.toThrow(/unfinished run: pass --resume/);
      await expect(run(base(b, 12, [...extra, '--resume', '--lr', '2e-2']))).rejects.toThrow(/other options/);
      const rest = await run(base(b, 12, [...extra, '--resume']));
      expect([...rest.losses.keys()]).toEqual([7, 8, 9, 10, 11, 12]);
      for (const [step, loss] of rest.losses) expect(loss, `step ${step}`).toBe(whole.losses.get(step));
      expect(readFileSync(join(b, 'model.safetensors')).equals(readFileSync(join(a, 'model.safetensors')))).toBe(true);
      if (lora) expect(readFileSync(join(b, 'adapter', 'adapter_model.safetensors')).equals(readFileSync(join(a, 'adapter', 'adapter_model.safetensors')))).toBe(true);
    });
  }

  it('killed with SIGKILL mid-run, the same command with --resume loses at most one checkpoint interval and ends the same', async () => {
    const steps = 400;
    const extra = ['--checkpoint-every', '10'];
    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, [resolve('bin/atlas.mjs'), 'train', ...base(killed, steps, extra)], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let printed = '';
    child.stdout.on('data', (d) => (printed += String(d)));
    const statePath = join(killed, 'checkpoint', 'state.json');
    // kill as soon as a checkpoint past step 10 exists
    await vi.waitFor(() => {
      if (!existsSync(statePath) || JSON.parse(readFileSync(statePath, 'utf8')).step < 20) throw new Error('no checkpoint yet');
    }, { timeout: 120_000, interval: 20 });
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const lastPrinted = Math.max(...printed.trim().split('\n').map((l) => JSON.parse(l).step));
    expect(lastPrinted).toBeLessThan(steps); // it was killed mid-run
    const saved = JSON.parse(readFileSync(statePath, 'utf8')).step;
    expect(lastPrinted - saved).toBeLessThanOrEqual(10 + 2); // at most an interval (+ the steps in flight) lost
    const rest = await run(base(killed, steps, [...extra, '--resume']));
    expect(Math.min(...rest.losses.keys())).toBe(saved + 1);
    const whole = await run(base(join(dir, 'unkilled'), steps, extra));
    for (const [step, loss] of rest.losses) expect(loss, `step ${step}`).toBe(whole.losses.get(step));
    expect(readFileSync(join(killed, 'model.safetensors')).equals(readFileSync(join(dir, 'unkilled', 'model.safetensors')))).toBe(true);
  }, 300_000);
});
