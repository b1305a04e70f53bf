// `atlas export --format tokenized` against an independent float64 PyTorch forward: the loss of
// stories260K on the exported Hugging Face lines (labels unshifted, -100 ignored, mean over the
// counted labels: test/fixtures/tokenized/make_tokenized_loss.py, committed with its output
// because CI has no torch) equals `atlas grad`'s loss on the engine's own rows for the same
// windows (built by the code `atlas train` uses), to relative 1e-4 — for one window alone
// and for both windows as one batch. The export must still write exactly the lines the
// reference was computed on.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { command as exportCmd } from '../../../src/cli/commands/export.ts';
import { command as grad } from '../../../src/cli/commands/grad.ts';
import { modelTokenizerFromArg } from '../../../src/cli/model-arg.ts';
import { prepareTrajectories, trajectoryRows } from '../../../src/cli/train-data.ts';

const MODEL = '../shared/models/stories260K/stories260K.bin';
const DATA = 'test/fixtures/tokenized/story-agent.jsonl';
const present = existsSync(resolve(MODEL)) && existsSync(resolve('../shared/models/stories260K/tok512.bin'));
if (!present) console.warn(`tokenized-export reference test skipped: ${resolve(MODEL)} is absent`);

const dir = mkdtempSync(join(tmpdir(), 'atlas-tokenized-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Line {
  input_ids: number[];
  labels: number[];
  attention_mask: number[];
}
const fixture = JSON.parse(readFileSync('test/fixtures/tokenized/story-agent.critical.loss.json', 'utf8')) as { lines: Line[]; perLine: { loss: number; counted: number }[]; batch: { loss: number; counted: number } };

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; out: string[] }> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    return { value: await fn(), out };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe.skipIf(!present)('tokenized export vs a float64 PyTorch reference (stories260K)', () => {
  it('the export writes the reference lines, and atlas grad on the engine rows gives the reference loss', async () => {
    const out = join(dir, 'story.critical.jsonl');
    const { value: code } = await quiet(() => exportCmd.run([DATA, '--format', 'tokenized', '--model', MODEL, '--arm', 'critical', '--seq-len', '100', '--out', out]));
    expect(code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines).toEqual(fixture.lines);
    expect(lines.length).toBe(2);

    // The engine's rows for the same windows, as `atlas train --seq 99` builds them.
    const { tokenizer } = await modelTokenizerFromArg(MODEL);
    const prepared = prepareTrajectories(readFileSync(DATA, 'utf8'), DATA, 'critical');
    const { rows, seqLen } = await quiet(async () => trajectoryRows(prepared, { tokenizer, T: 99, seed: 0, budget: 0.3 })).then((r) => r.value);
    expect(rows.length).toBe(2);
    const counted = rows.map((r) => r.weights.reduce((a, b) => a + b, 0));
    expect(counted).toEqual(fixture.perLine.map((p) => p.counted));

    const gradLoss = async (picked: typeof rows, T: number, name: string) => {
      const batch = join(dir, `${name}.json`);
      writeFileSync(batch, JSON.stringify({ input_ids: picked.map((r) => r.ids.slice(0, T)), labels: picked.map((r) => r.labels.slice(0, T)), weights: picked.map((r) => r.weights.slice(0, T)) }));
      const { value, out: printed } = await quiet(() => grad.run(['--model', MODEL, '--batch', batch, '--out', join(dir, `${name}.safetensors`)]));
      expect(value).toBe(0);
      return JSON.parse(printed.at(-1)!).loss as number;
    };
    // Window 1 alone (the one that leaves early steps out), at its own length.
    const one = await gradLoss([rows[1]], fixture.lines[1].input_ids.length - 1, 'window1');
    // Both windows as one batch, padded to the longer (HF: mean over all counted labels).
    const both = await gradLoss(rows, seqLen, 'both');
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    console.log(`stories260K on the exported windows: atlas grad ${one.toFixed(6)} vs PyTorch ${fixture.perLine[1].loss.toFixed(6)} (window 1, ${fixture.perLine[1].counted} counted); batch ${both.toFixed(6)} vs ${fixture.batch.loss.toFixed(6)} (${fixture.batch.counted} counted)`);
    expect(rel(one, fixture.perLine[1].loss)).toBeLessThan(1e-4);
    expect(rel(both, fixture.batch.loss)).toBeLessThan(1e-4);
  });
});
