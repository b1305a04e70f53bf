// `atlas export --format tokenized`, token by token against the engine: for every arm, each
// exported line is the window `atlas train` builds (train-data.ts trajectoryRows at context
// seq-len − 1), and labels[j] = input_ids[j] exactly where the engine puts weight on predicting
// token j (its weight at position j − 1), −100 elsewhere. Independently of that bookkeeping,
// the counted runs decode to exactly the arm's agent turns, each with its end-of-turn token.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { command as exportCmd } from '../../../src/cli/commands/export.ts';
import { prepareTrajectories, trajectoryRows } from '../../../src/cli/train-data.ts';
import { armSteps, type Arm } from '../../../src/data/arms.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { tokenizedLine } from '../../../src/data/tokenized.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';
import { generateDemos } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { heuristicSelect } from '../../../src/select/heuristic.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'atlas-tokenized-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const SEQ = 320; // tokens per line: the built-in instructions take 220–340 tokens, so windows cut history
const SEED = 3;
const labelled = (t: Trajectory): Trajectory => {
  const { critical } = heuristicSelect(t, 0.3);
  return { ...t, selections: [{ selector: 'heuristic', createdAt: '2026-01-01T00:00:00.000Z', status: 'labelled', critical, budget: 0.3 }], activeSelection: 'heuristic' };
};
// Built-in data: grid and household demos labelled by the heuristic, one grid demo left
// unlabelled (critical skips it, the other arms take the budget count), and one of the
// held-out split (left out by default).
const trajectories = [
  ...generateDemos(getEnv('grid'), 2, 0, 'held-in').map(labelled),
  ...generateDemos(getEnv('household'), 2, 0, 'held-in').map(labelled),
  ...generateDemos(getEnv('grid'), 1, 10, 'held-in'),
  ...generateDemos(getEnv('grid'), 1, 0, 'held-out').map(labelled),
];
const heldIn = trajectories.filter((t) => t.provenance?.split !== 'held-out');
const dataFile = path.join(dir, 'demos.jsonl');
writeFileSync(dataFile, trajectoriesToJsonl(trajectories));
const stepLoss = Object.fromEntries(trajectories.map((t) => [t.id, t.steps.map((_, i) => ((i * 7919 + t.id.length * 31) % 97) / 10)]));
const stepLossFile = path.join(dir, 'step-loss.jsonl');
writeFileSync(stepLossFile, Object.entries(stepLoss).map(([id, s]) => JSON.stringify({ id, stepLoss: s })).join('\n') + '\n');

interface Line {
  input_ids: number[];
  labels: number[];
  attention_mask: number[];
}

async function run(args: string[]) {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  vi.spyOn(console, 'error').mockImplementation(() => {});
  const code = await exportCmd.run(args);
  vi.restoreAllMocks();
  return { code, summary: JSON.parse(out.at(-1)!) };
}

async function exportArm(arm: Arm, extra: string[] = []): Promise<{ lines: Line[]; summary: Record<string, unknown>; meta: Record<string, any>; file: string }> {
  const out = path.join(dir, `${arm}${extra.length ? '-x' : ''}.tok.jsonl`);
  const { code, summary } = await run([dataFile, '--format', 'tokenized', '--model', 'preset:base', '--arm', arm, '--seq-len', String(SEQ), '--seed', String(SEED), ...(arm === 'highest-loss' ? ['--step-loss', stepLossFile] : []), ...extra, '--out', out]);
  expect(code).toBe(0);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
  const meta = JSON.parse(readFileSync(out.replace(/\.jsonl$/, '.meta.json'), 'utf8'));
  return { lines, summary, meta, file: out };
}

const tok = defaultTokenizer();
const EOT = tok.chat.eotText;

/** Text of each maximal run of counted labels. */
function countedRuns(l: Line): string[] {
  const runs: string[] = [];
  let cur: number[] = [];
  l.labels.forEach((x, j) => {
    if (x !== -100) {
      expect(x).toBe(l.input_ids[j]);
      cur.push(x);
    } else if (cur.length) {
      runs.push(tok.decode(cur));
      cur = [];
    }
  });
  if (cur.length) runs.push(tok.decode(cur));
  return runs;
}

describe('atlas export --format tokenized', { timeout: 120_000 }, () => {
  for (const arm of ['critical', 'full', 'random', 'rejected', 'highest-loss'] as Arm[]) {
    it(`arm ${arm}: every line is the engine's window, labels exactly where the engine's weights are`, async () => {
      const { lines, summary, meta } = await exportArm(arm);
      // The engine's rows, built as `atlas train --seq <SEQ − 1>` builds them.
      vi.spyOn(console, 'error').mockImplementation(() => {});
      const prepared = prepareTrajectories(trajectoriesToJsonl(heldIn), dataFile, arm);
      const { rows, examples, report } = trajectoryRows(prepared, { tokenizer: tok, T: SEQ - 1, seed: SEED, budget: 0.3, stepLoss: arm === 'highest-loss' ? stepLoss : undefined });
      vi.restoreAllMocks();
      expect(lines.length).toBe(rows.length);
      // At this length windows cut history, and some turns fit no window (reported, not exported).
      if (arm === 'full') expect([report.windowed > 0, report.cutTokens > 0, report.droppedTurns.length > 0]).toEqual([true, true, true]);
      let counted = 0;
      lines.forEach((l, i) => {
        const row = rows[i];
        const T = l.input_ids.length - 1; // the engine positions of this window
        expect(T).toBe(examples[i].inputIds.length);
        expect(l.input_ids.length).toBeLessThanOrEqual(SEQ);
        expect(l.attention_mask).toEqual(l.input_ids.map(() => 1));
        expect(l.labels.length).toBe(l.input_ids.length);
        expect(l.input_ids.slice(0, T)).toEqual(row.ids.slice(0, T));
        expect(l.input_ids[T]).toBe(row.labels[T - 1]);
        expect(l.labels[0]).toBe(-100);
        for (let t = 0; t < T; t++) {
          // HF labels[t + 1] ⇔ engine weight at t (predicting token t + 1), with the same token.
          if (row.weights[t] > 0) {
            expect(row.weights[t]).toBe(1);
            expect(l.labels[t + 1]).toBe(row.labels[t]);
            counted++;
          } else expect(l.labels[t + 1], `line ${i}, token ${t + 1}`).toBe(-100);
        }
        // The row's padding carries nothing.
        expect(row.weights.slice(T).every((w) => w === 0)).toBe(true);
        // Every window ends at a counted end-of-turn token.
        expect(l.labels[T]).toBe(tok.chat.eotId);
      });
      expect(counted).toBe(report.supervisedTokens);
      expect(summary).toMatchObject({ format: 'tokenized', arm, records: rows.length, seqLen: SEQ, supervisedTokens: report.supervisedTokens, split: { split: 'held-in', leftOut: 1, heldOut: 0 } });
      expect(meta.counts).toMatchObject({ lines: rows.length, supervisedTokens: report.supervisedTokens, trajectoriesInFile: trajectories.length, trajectories: heldIn.length, used: arm === 'critical' ? heldIn.length - 1 : heldIn.length, droppedTurns: report.droppedTurns.length });

      // Independent of the window bookkeeping: the counted runs are exactly the arm's agent
      // turns (as written) each closed by its end-of-turn token, minus any turn too long to fit.
      const runs = lines.flatMap(countedRuns).sort();
      const dropped = new Set(report.droppedTurns.map((d) => `${d.trajectoryId}#${d.step}`));
      const expected = prepared.used
        .flatMap((t) => armSteps(arm, t, { seed: SEED, budget: 0.3, stepLoss: stepLoss[t.id] }).filter((s) => !dropped.has(`${t.id}#${s}`)).map((s) => t.steps[s].agent + EOT))
        .sort();
      expect(runs).toEqual(expected);
      expect(runs.length).toBeGreaterThan(0);
    });
  }

  it('--pad pads every line to --seq-len (pad id, label −100, attention 0); the meta file names the tokenizer, the layout and the windows', async () => {
    const plain = await exportArm('critical');
    const { lines, meta } = await exportArm('critical', ['--pad']);
    expect(lines.length).toBe(plain.lines.length);
    lines.forEach((l, i) => {
      const n = plain.lines[i].input_ids.length;
      expect(l.input_ids.length).toBe(SEQ);
      expect(l.input_ids.slice(0, n)).toEqual(plain.lines[i].input_ids);
      expect(l.labels.slice(0, n)).toEqual(plain.lines[i].labels);
      expect(l.attention_mask).toEqual([...Array(n).fill(1), ...Array(SEQ - n).fill(0)]);
      expect(l.input_ids.slice(n).every((x) => x === tok.padId)).toBe(true);
      expect(l.labels.slice(n).every((x) => x === -100)).toBe(true);
    });
    expect(meta).toMatchObject({
      format: 'atlas-tokenized',
      model: 'preset:base',
      arm: 'critical',
      seed: SEED,
      seqLen: SEQ,
      engineContextLength: SEQ - 1,
      padded: true,
      tokenizer: { vocabSize: 1024, bosId: 1, padId: 0 },
      template: { source: 'chat-template', headers: { user: '<|user|>', assistant: '<|assistant|>' }, endOfTurn: { text: '<|end|>', id: 6 }, bos: true, agentText: 'as-written' },
    });
    expect(meta.sameWindowsAs).toContain(`--arm critical --seq ${SEQ - 1} --seed ${SEED}`);
    expect(meta.tokenizer.files.map((f: { path: string }) => f.path)).toEqual(['models/base/tokenizer.json', 'models/base/tokenizer_config.json']);
    for (const f of meta.tokenizer.files) expect(f.sha256).toBe(createHash('sha256').update(readFileSync(f.path)).digest('hex'));
    expect(meta.skippedWithoutSelection).toEqual([trajectories[4].id]);
    expect(trajectories[4].selections).toEqual([]);
  });

  it('refuses hf: ids (naming what is supported), options of the other kind, and a --seq-len beyond the model', async () => {
    const out = path.join(dir, 'x.jsonl');
    await expect(exportCmd.run([dataFile, '--format', 'tokenized', '--model', 'hf:Qwen/Qwen3-0.6B', '--out', out])).rejects.toThrow(
      /--model hf:Qwen\/Qwen3-0\.6B: models are read from disk here; hub ids are downloaded by the atlas command line .*huggingface-cli download Qwen\/Qwen3-0\.6B --local-dir <dir>.*Supported: a Hugging Face model folder on disk, a llama2\.c \.bin with its tokenizer beside it, or preset:NAME \(presets: .*base/,
    );
    await expect(exportCmd.run([dataFile, '--format', 'tokenized', '--out', out])).rejects.toThrow(/missing required option --model/);
    await expect(exportCmd.run([dataFile, '--format', 'tokenized', '--model', 'preset:base', '--dataset-name', 'x', '--out', out])).rejects.toThrow(/--dataset-name does not apply to --format tokenized/);
    await expect(exportCmd.run([dataFile, '--format', 'openai', '--model', 'preset:base', '--out', out])).rejects.toThrow(/--model apply to --format tokenized only/);
    await expect(exportCmd.run([dataFile, '--format', 'openai', '--arm', 'highest-loss', '--out', out])).rejects.toThrow(/--arm highest-loss needs per-step losses/);
    await expect(exportCmd.run([dataFile, '--format', 'tokenized', '--model', 'preset:base', '--seq-len', '600', '--out', out])).rejects.toThrow(/--seq-len 600 is longer than the model's context \(512 positions\)/);
    await expect(exportCmd.run([dataFile, '--format', 'tokenized', '--model', 'preset:base', '--arm', 'full', '--step-loss', stepLossFile, '--out', out])).rejects.toThrow(/--step-loss applies to --arm highest-loss only/);
  });

  it('tokenizedLine maps the engine view and refuses what HF labels cannot say', () => {
    // tokens 1 2 3 4 5: the engine predicts 3 and 5 (weights at positions 1 and 3).
    const e = { trajectoryId: 'x', inputIds: Int32Array.from([1, 2, 3, 4]), labels: Int32Array.from([2, 3, 4, 5]), weights: Float32Array.from([0, 1, 0, 1]) };
    expect(tokenizedLine(e, { padId: 0 })).toEqual({ input_ids: [1, 2, 3, 4, 5], labels: [-100, -100, 3, -100, 5], attention_mask: [1, 1, 1, 1, 1] });
    expect(tokenizedLine(e, { padId: 9, padTo: 7 })).toEqual({ input_ids: [1, 2, 3, 4, 5, 9, 9], labels: [-100, -100, 3, -100, 5, -100, -100], attention_mask: [1, 1, 1, 1, 1, 0, 0] });
    expect(() => tokenizedLine({ ...e, weights: Float32Array.from([0, 0.5, 0, 1]) }, { padId: 0 })).toThrow(/weight 0.5 at position 1; Hugging Face labels carry only 0\/1/);
    expect(() => tokenizedLine({ ...e, labels: Int32Array.from([2, 7, 4, 5]) }, { padId: 0 })).toThrow(/not a window of consecutive tokens/);
    expect(() => tokenizedLine(e, { padId: 0, padTo: 4 })).toThrow(/more than the 4 to pad to/);
  });
});
