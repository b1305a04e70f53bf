// `atlas experiment` survives a kill: with --checkpoints DIR it saves every run's weights and
// AdamW moments at each evaluation; killed with SIGKILL mid-run, the same command with
// --resume continues after the last checkpoint (at most one evaluation interval redone) and
// reports the same training losses as a run that never stopped.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { command as experiment } from '../../../src/cli/commands/experiment.ts';

const dir = mkdtempSync(join(tmpdir(), 'atlas-experiment-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = ['--model', 'preset:tiny', '--envs', 'grid', '--train-episodes', '3', '--heldout-episodes', '1', '--arms', 'critical,full', '--steps', '40', '--batch', '1', '--seq', '512',
  '--lr', '0.005', '--warmup', '2', '--eval-every', '5', '--rollout-every', '0', '--rollout-episodes', '0', '--next-action', '0', '--time-budget', 'none', '--selector', 'ground-truth', '--json'];

/** Training losses by "arm@step" from --json lines. */
function trainLosses(lines: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const e = JSON.parse(l);
    if (e.kind === 'train') out.set(`${e.arm}@${e.step}`, e.loss);
  }
  return out;
}

async function runInProcess(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void (String(s).startsWith('{') && lines.push(String(s))));
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(await experiment.run(args)).toBe(0);
    return lines;
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('atlas experiment --checkpoints --resume', () => {
  it('killed with SIGKILL mid-run, --resume goes on from the last checkpoint to the same losses', async () => {
    const cpDir = join(dir, 'cp');
    const child = spawn(process.execPath, [resolve('bin/atlas.mjs'), 'experiment', ...ARGS, '--checkpoints', cpDir], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let printed = '';
    child.stdout.on('data', (d) => (printed += String(d)));
    const savedStep = () => {
      const f = existsSync(cpDir) ? readdirSync(cpDir).find((n) => n.endsWith('.json')) : undefined;
      return f ? JSON.parse(readFileSync(join(cpDir, f), 'utf8')).step as number : 0;
    };
    await vi.waitFor(() => {
      if (savedStep() < 10) throw new Error('no checkpoint at step 10 yet');
    }, { timeout: 240_000, interval: 50 });
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const before = trainLosses(printed.trim().split('\n').filter((l) => l.startsWith('{')));
    const lastPrinted = Math.max(...[...before.keys()].map((k) => Number(k.split('@')[1])));
    expect(lastPrinted).toBeLessThan(40); // killed mid-run
    const saved = savedStep();
    expect(lastPrinted - saved).toBeLessThanOrEqual(5 + 2); // at most one interval (+ steps in flight) redone
    await expect(runInProcess([...ARGS, '--resume'])).rejects.toThrow(/--resume needs --checkpoints DIR/);
    const resumed = trainLosses(await runInProcess([...ARGS, '--checkpoints', cpDir, '--resume']));
    const steps = [...resumed.keys()].map((k) => Number(k.split('@')[1]));
    expect(Math.min(...steps)).toBe(saved + 1);
    expect(Math.max(...steps)).toBe(40);
    const whole = trainLosses(await runInProcess(ARGS));
    // the same losses as the run that never stopped (weights, AdamW moments, schedule, data order)
    for (const [k, loss] of resumed) expect(Math.abs(loss - whole.get(k)!), k).toBeLessThanOrEqual(1e-6 * whole.get(k)!);
  }, 600_000);
});
