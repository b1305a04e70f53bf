// `atlas train` on the canonical trajectories JSONL with --arm (the command module run
// in-process on the tiny preset). The loss masks are recomputed here independently with
// buildTrainingExamples and compared with the weight sums the GPU trainer reports per step.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as train } from '../../../src/cli/commands/train.ts';
import { loadHfModel } from '../../../src/engine/weights/hf.ts';
import { dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { modelFromFiles } from '../../../src/experiment/model-source.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { heuristicSelect } from '../../../src/select/heuristic.ts';
import { buildTrainingExamples } from '../../../src/data/masks.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';
import { budgetCount, type Arm } from '../../../src/data/arms.ts';

const dir = mkdtempSync(join(tmpdir(), 'atlas-train-traj-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = 512;
const SEED = 3;

// Two grid demos labelled by the heuristic selector, plus one left unlabelled (the critical
// arm must skip it visibly; the full arm trains on it).
function labelled(t: Trajectory): Trajectory {
  const { critical, repairs } = heuristicSelect(t, 0.3);
  return { ...t, selections: [{ selector: 'heuristic', createdAt: '2026-01-01T00:00:00.000Z', status: 'labelled', critical, budget: 0.3, repairs }], activeSelection: 'heuristic' };
}
const demos = generateDemos(getEnv('grid'), 3, 0, 'held-in');
const trajectories = [labelled(demos[0]), labelled(demos[1]), demos[2]];
const dataFile = join(dir, 'grid.jsonl');
writeFileSync(dataFile, trajectoriesToJsonl(trajectories));

const masks = (arm: Arm, ts: Trajectory[], stepLoss?: Record<string, number[]>) => buildTrainingExamples(ts, { arm, tokenizer: defaultTokenizer(), contextLength: T, seed: SEED, stepLoss });
const weightSum = (w: Float32Array) => w.reduce((a, b) => a + b, 0);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
  try {
    return { code: await train.run(args), out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const base = (arm: string, steps: number, out: string) => ['--model', 'preset:tiny', '--data', dataFile, '--arm', arm, '--steps', String(steps), '--seq', String(T), '--batch', '1', '--seed', String(SEED), '--out', join(dir, out)];

describe('atlas train --arm on trajectories', () => {
  it('critical: one epoch of batch-1 steps carries exactly the critical mask of each example; unlabelled trajectories are skipped visibly', async () => {
    const { examples, report } = masks('critical', trajectories.slice(0, 2));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const { code, out, err } = await run(base('critical', examples.length, 'critical'));
    expect(code).toBe(0);
    const metrics = out.map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual(examples.map((_, i) => i + 1));
    // Batch 1, one epoch: every example is one step's batch, each exactly once (seeded order).
    expect(sorted(metrics.map((m) => m.weightSum))).toEqual(sorted(examples.map((e) => weightSum(e.weights))));
    expect(metrics.reduce((a, m) => a + m.weightSum, 0)).toBe(report.supervisedTokens);
    expect(err.join('\n')).toContain(`skipped 1 trajectories with no labelled selection for --arm critical: "${demos[2].id}"`);
    const maskLine = JSON.parse(err.find((l) => l.startsWith('mask report: '))!.slice('mask report: '.length));
    expect(maskLine).toMatchObject({ arm: 'critical', examples: examples.length, supervisedTurns: report.supervisedTurns, supervisedTokens: report.supervisedTokens, cutTokens: report.cutTokens, skippedWithoutSelection: 1 });
    // Without --seq the rows are only as long as the longest example: the same steps (padding
    // carries weight 0), so the same weight sums and, up to f32 reduction order, the same losses.
    const longest = Math.max(...examples.map((e) => e.inputIds.length));
    expect(longest).toBeLessThan(T);
    const short = await run(base('critical', examples.length, 'critical-short').filter((a, i, all) => a !== '--seq' && all[i - 1] !== '--seq'));
    const shortMetrics = short.out.map((l) => JSON.parse(l));
    expect(shortMetrics.map((m) => m.weightSum)).toEqual(metrics.map((m) => m.weightSum));
    expect(shortMetrics[0].tokens).toBe(longest);
    shortMetrics.forEach((m, i) => expect(Math.abs(m.loss - metrics[i].loss)).toBeLessThan(1e-4 * metrics[i].loss));
  });

  it('full: supervises more tokens than critical, and the saved folder loads back with its tokenizer', async () => {
    const full = masks('full', trajectories);
    const critical = masks('critical', trajectories.slice(0, 2));
    expect(full.report.supervisedTokens).toBeGreaterThan(critical.report.supervisedTokens);
    const { code, out, err } = await run(base('full', 2, 'full'));
    expect(code).toBe(0);
    const fullSums = new Set(full.examples.map((e) => weightSum(e.weights)));
    for (const l of out) expect(fullSums.has(JSON.parse(l).weightSum)).toBe(true);
    const maskLine = JSON.parse(err.find((l) => l.startsWith('mask report: '))!.slice('mask report: '.length));
    expect(maskLine).toMatchObject({ arm: 'full', trajectories: 3, examples: full.examples.length, supervisedTokens: full.report.supervisedTokens });
    const saved = await loadHfModel(dirSource(join(dir, 'full')));
    expect(saved.config).toMatchObject({ vocabSize: 1024, dModel: 32, nLayers: 1, maxSeqLen: 512 });
    expect(saved.tensors.get('model.norm.weight')!.some((x) => x !== 1)).toBe(true); // it trained
    const back = await modelFromFiles(dirSource(join(dir, 'full')));
    expect(back.tokenizer.encode('Action: turn left')).toEqual(defaultTokenizer().encode('Action: turn left'));
  });

  it('highest-loss with --step-loss: one epoch carries exactly the masks of the steps with the highest given loss', async () => {
    // A loss that rises with the step index: the last k steps are chosen (k = the critical
    // count, or the budget count for the unlabelled trajectory).
    const rising = Object.fromEntries(trajectories.map((t) => [t.id, t.steps.map((_, i) => i)]));
    const lossFile = join(dir, 'step-loss.jsonl');
    writeFileSync(lossFile, trajectories.map((t) => JSON.stringify({ id: t.id, stepLoss: rising[t.id] })).join('\n') + '\n');
    const hl = masks('highest-loss', trajectories, rising);
    const k = trajectories.map((t) => (t.selections.length ? t.selections[0].critical.length : budgetCount(t.steps.length)));
    trajectories.forEach((t, i) => {
      const chosen = hl.examples.filter((e) => e.trajectoryId === t.id).flatMap((e) => e.supervisedSteps);
      expect(chosen).toEqual(Array.from({ length: k[i] }, (_, j) => t.steps.length - k[i] + j));
    });
    const { code, out, err } = await run([...base('highest-loss', hl.examples.length, 'hl'), '--selection', 'heuristic', '--step-loss', lossFile]);
    expect(code).toBe(0);
    const sums = out.map((l) => JSON.parse(l).weightSum);
    expect(sorted(sums)).toEqual(sorted(hl.examples.map((e) => weightSum(e.weights))));
    expect(sorted(sums)).not.toEqual(sorted(masks('critical', trajectories.slice(0, 2)).examples.map((e) => weightSum(e.weights))));
    expect(err.join('\n')).toContain(`note: 1 trajectories have no labelled selection; --arm highest-loss takes the budget count of steps for them: "${demos[2].id}"`);
  });

  it('highest-loss without --step-loss computes the initial model\'s per-step loss first', async () => {
    const { code, out, err } = await run(base('highest-loss', 1, 'hl-model'));
    expect(code).toBe(0);
    expect(err.some((l) => l.includes("computing the initial model's per-step loss on 3 trajectories"))).toBe(true);
    expect(err.join('\n')).toContain('note: 1 trajectories have no labelled selection; --arm highest-loss takes the budget count');
    expect(JSON.parse(out[0]).weightSum).toBeGreaterThan(0);
  });

  it('refuses a missing or unknown --arm, mixed files, arm options on token files and a too-large tokenizer', async () => {
    const noArm = ['--model', 'preset:tiny', '--data', dataFile, '--steps', '1'];
    await expect(train.run(noArm)).rejects.toThrow(/--arm is required when --data holds trajectories \(one of full, critical, random, rejected, highest-loss\)/);
    await expect(train.run([...noArm, '--arm', 'best'])).rejects.toThrow(/unknown --arm "best" \(one of full, critical/);
    const mixed = join(dir, 'mixed.jsonl');
    writeFileSync(mixed, trajectoriesToJsonl(trajectories.slice(0, 1)) + JSON.stringify({ input_ids: [1, 2, 3] }) + '\n');
    await expect(train.run(['--model', 'preset:tiny', '--data', mixed, '--steps', '1', '--arm', 'full'])).rejects.toThrow(/mixed\.jsonl mixes trajectory records \(line 1 has "version"\) and token sequences \(line 2 has "input_ids"\)/);
    const tokens = join(dir, 'tokens.jsonl');
    writeFileSync(tokens, JSON.stringify({ input_ids: [1, 2, 3] }) + '\n');
    await expect(train.run(['--model', 'preset:tiny', '--data', tokens, '--steps', '1', '--arm', 'full'])).rejects.toThrow(/--arm apply to trajectories JSONL, but .*tokens\.jsonl holds token sequences/);
    await expect(train.run(['--model', 'preset:test', '--data', dataFile, '--steps', '1', '--arm', 'full'])).rejects.toThrow(/tokenizer "default" has 1024 tokens but the model preset:test only 64/);
    const unlabelled = join(dir, 'unlabelled.jsonl');
    writeFileSync(unlabelled, trajectoriesToJsonl(demos));
    await expect(train.run(['--model', 'preset:tiny', '--data', unlabelled, '--steps', '1', '--arm', 'critical', '--seq', '64'])).rejects.toThrow(/none of the 3 trajectories has a labelled selection, which --arm critical trains on/);
    await expect(train.run([...noArm, '--arm', 'critical', '--selection', 'oracle:gpt'])).rejects.toThrow(/none of the 3 trajectories has a labelled selection named "oracle:gpt"/);
    await expect(train.run([...noArm, '--arm', 'full', '--step-loss', join(dir, 'x.jsonl')])).rejects.toThrow(/--step-loss applies to --arm highest-loss only/);
  });
});
