// `atlas import` / `atlas export` end to end on the hand-written fixtures (in-process).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { command as importCmd } from '../../../src/cli/commands/import.ts';
import { command as exportCmd } from '../../../src/cli/commands/export.ts';
import { parseTrajectoriesJsonl } from '../../../src/data/jsonl.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'atlas-cli-'));
async function run(cmd: typeof importCmd, args: string[]) {
  const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await cmd.run(args);
  const lines = spy.mock.calls.map((c) => String(c[0]));
  spy.mockRestore();
  return { code, last: JSON.parse(lines[lines.length - 1]), lines };
}
afterEach(() => vi.restoreAllMocks());

describe('atlas import / export', () => {
  it('import prints a JSON summary last, with every rejected record and its reason', async () => {
    const out = path.join(dir, 'ag.jsonl');
    const { code, last } = await run(importCmd, ['test/fixtures/data/agentgym-sample.jsonl', '--out', out]);
    expect(code).toBe(0);
    expect(last).toMatchObject({ trajectories: 2, steps: 5, formats: { agentgym: 2 }, selections: { 'import:loss': 1 }, rejectedTotal: 2 });
    expect(last.rejected).toEqual([
      { file: 'test/fixtures/data/agentgym-sample.jsonl', line: 3, reason: '$.conversations[1] has an unknown role "wizard"' },
      { file: 'test/fixtures/data/agentgym-sample.jsonl', line: 4, reason: expect.stringMatching(/^invalid JSON: Unterminated string/) },
    ]);
    const { trajectories } = parseTrajectoriesJsonl(readFileSync(out, 'utf8'), out);
    expect(trajectories[0].selections[0].critical).toEqual([{ step: 0 }, { step: 3 }]);
    expect(trajectories[1].provenance!.notes).toEqual(['1 turn(s) following a turn of the same role were merged into it']);
  });

  it('export writes each format; llamafactory adds dataset_info.json and the mask_history yaml', async () => {
    const src = path.join(dir, 'ag.jsonl');
    if (!existsSync(src)) await run(importCmd, ['test/fixtures/data/agentgym-sample.jsonl', '--out', src]);
    for (const format of ['openai', 'agentgym', 'axolotl', 'labels']) {
      const out = path.join(dir, `x.${format}.jsonl`);
      const { code, last } = await run(exportCmd, [src, '--format', format, '--out', out]);
      expect(code).toBe(0);
      expect(last).toMatchObject({ format, trajectories: 2, records: 2, withoutSelectedSteps: 1 });
      expect(readFileSync(out, 'utf8').trim().split('\n').length).toBe(2);
    }
    const out = path.join(dir, 'lf.jsonl');
    const { last } = await run(exportCmd, [src, '--format', 'llamafactory', '--out', out, '--dataset-name', 'alf_crit']);
    expect(last.records).toBe(2);
    expect(JSON.parse(readFileSync(path.join(dir, 'dataset_info.json'), 'utf8')).alf_crit.file_name).toBe('lf.jsonl');
    expect(readFileSync(path.join(dir, 'lf.train.yaml'), 'utf8')).toContain('mask_history: true');
    await expect(exportCmd.run([src, '--format', 'csv', '--out', out])).rejects.toThrow(/--format must be one of openai, agentgym, axolotl, llamafactory, torchtune, labels/);
  });
  it('import --labels applies a labels file as each trajectory\'s active selection and reports lines that do not fit', async () => {
    const src = path.join(dir, 'lab-src.jsonl');
    await run(importCmd, ['test/fixtures/data/agentgym-sample.jsonl', '--out', src]);
    const labels = path.join(dir, 'lab.labels.jsonl');
    await run(exportCmd, [src, '--format', 'labels', '--arm', 'full', '--out', labels]);
    const extra = '{"id":"no-such-trajectory","nSteps":1,"steps":[0],"categories":[null],"reasons":[null],"selector":"x","budget":null}';
    writeFileSync(labels, readFileSync(labels, 'utf8') + extra + '\n');
    const out = path.join(dir, 'lab-out.jsonl');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { code, last } = await run(importCmd, ['test/fixtures/data/agentgym-sample.jsonl', '--labels', labels, '--out', out]);
    err.mockRestore();
    expect(code).toBe(0);
    expect(last.labels.applied).toBeGreaterThan(0);
    expect(last.labels.problems).toEqual([expect.objectContaining({ file: labels, reason: expect.stringMatching(/no-such-trajectory/) })]);
    const { trajectories } = parseTrajectoriesJsonl(readFileSync(out, 'utf8'), out);
    const applied = trajectories.filter((t) => t.selections.some((s) => s.selector === t.activeSelection && s.critical.length === t.steps.length));
    expect(applied.length).toBe(last.labels.applied);
  });
  it('import exits 1 when nothing could be imported, after printing the summary with the reason', async () => {
    const bin = path.join(dir, 'binary.jsonl');
    writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { code, last } = await run(importCmd, [bin, '--out', path.join(dir, 'none.jsonl')]);
    const said = err.mock.calls.map((c) => String(c[0])).join('\n');
    err.mockRestore();
    expect(code).toBe(1);
    expect(last).toMatchObject({ trajectories: 0, rejected: [expect.objectContaining({ line: 1, reason: expect.stringMatching(/binary/) })] });
    expect(said).toMatch(/no trajectory could be imported from .*binary\.jsonl \(1 record rejected, listed above\)/);
    expect(existsSync(path.join(dir, 'none.jsonl'))).toBe(false);
  });
  it('counts of one are singular in the summary line', async () => {
    const one = path.join(dir, 'one.txt');
    writeFileSync(one, 'Open the door.\n> open door 1\nThe door opens.\n');
    const { code, lines } = await run(importCmd, [one, '--out', path.join(dir, 'one.jsonl')]);
    expect(code).toBe(0);
    expect(lines[0]).toBe(`import: 1 trajectory (1 step) → ${path.join(dir, 'one.jsonl')}; 0 rejected, 0 duplicates reported`);
  });
  it('a failed import writes no --out file and leaves an existing one as it was', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"engines": {"node": ">=20.19"}}\n');
    const out = path.join(dir, 'kept.jsonl');
    writeFileSync(out, 'previous contents\n');
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { code, lines } = await run(importCmd, [bad, '--out', out]);
    expect(code).toBe(1);
    expect(lines[0]).toContain(`(nothing written to ${out})`);
    expect(readFileSync(out, 'utf8')).toBe('previous contents\n');
    const fresh = path.join(dir, 'fresh.jsonl');
    await run(importCmd, [bad, '--out', fresh]);
    err.mockRestore();
    expect(existsSync(fresh)).toBe(false);
    // A successful import replaces the file, and leaves no temporary file behind.
    expect((await run(importCmd, ['test/fixtures/data/agentgym-sample.jsonl', '--out', out])).code).toBe(0);
    expect(parseTrajectoriesJsonl(readFileSync(out, 'utf8'), out).trajectories.length).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
