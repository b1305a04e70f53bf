// Exports never destroy and never leak: LLaMA-Factory's dataset_info.json is merged (a name
// clash is an error naming both, and nothing is written), side files are not replaced silently,
// and built-in held-out demonstrations stay out of an export unless asked for (then marked).
// Also the import command's report lines for step records, failed runs and unread layouts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sampleTrajectory } from './helpers.ts';
import { exportTrajectories, type ExportFormat } from '../../../src/data/export.ts';
import { DatasetInfoClash, mergeDatasetInfo } from '../../../src/data/datasetInfo.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';
import { command as exportCmd } from '../../../src/cli/commands/export.ts';
import { command as importCmd } from '../../../src/cli/commands/import.ts';

const root = mkdtempSync(path.join(tmpdir(), 'atlas-export-'));
afterEach(() => vi.restoreAllMocks());

async function run(cmd: typeof exportCmd, args: string[]) {
  const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  const code = await cmd.run(args);
  const lines = spy.mock.calls.map((c) => String(c[0]));
  spy.mockRestore();
  err.mockRestore();
  return { code, last: JSON.parse(lines[lines.length - 1]), lines };
}

const demo = (id: string, split: 'held-in' | 'held-out'): Trajectory => ({ ...sampleTrajectory(id, 3, { critical: [1] }), provenance: { generator: 'test', split } });
const demos = [demo('household/held-in/put/0', 'held-in'), demo('household/held-out/cool/0', 'held-out'), demo('household/held-in/put/1', 'held-in'), sampleTrajectory('imported', 2, { critical: [0] })];

describe('built-in splits in exports', () => {
  it('by default the held-out split is left out; on request it is exported and marked', () => {
    const def = exportTrajectories(demos, 'agentgym');
    expect(def.text.trim().split('\n').map((l) => JSON.parse(l).item_id)).toEqual(['household/held-in/put/0', 'household/held-in/put/1', 'imported']);
    expect(def.split).toEqual({ split: 'held-in', leftOut: 1, heldOut: 0 });
    expect(def.trajectories).toBe(3);

    const out = exportTrajectories(demos, 'agentgym', { split: 'held-out' });
    expect(out.text.trim().split('\n').map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ item_id: 'household/held-out/cool/0', split: 'held-out' })]);
    expect(out.split).toEqual({ split: 'held-out', leftOut: 3, heldOut: 1 });

    for (const format of ['agentgym', 'axolotl', 'llamafactory', 'labels'] as ExportFormat[]) {
      const all = exportTrajectories(demos, format, { split: 'all' }).text.trim().split('\n').map((l) => JSON.parse(l));
      expect(all.filter((r) => r.split === 'held-out').length, format).toBe(1);
      expect(all.filter((r) => r.split !== undefined && r.split !== 'held-out'), format).toEqual([]);
    }
    // OpenAI fine-tuning files hold only "messages": nothing is added to them.
    const openai = exportTrajectories(demos, 'openai', { split: 'all' });
    expect(openai.text.trim().split('\n').every((l) => Object.keys(JSON.parse(l)).join() === 'messages')).toBe(true);
    expect(openai.split.heldOut).toBe(1);
  });
});

describe('dataset_info.json', () => {
  const ours = { atlas_critical: { file_name: 'a.jsonl', formatting: 'sharegpt' } };
  it('merges with the entries already there, leaves an identical entry alone, and names both on a clash', () => {
    const theirs = JSON.stringify({ alpaca_en: { file_name: 'alpaca_en.json' } }, null, 2);
    const merged = mergeDatasetInfo(theirs, ours, 'data/dataset_info.json');
    expect(JSON.parse(merged.text)).toEqual({ alpaca_en: { file_name: 'alpaca_en.json' }, ...ours });
    expect(merged.added).toEqual(['atlas_critical']);
    expect(mergeDatasetInfo(merged.text, ours).unchanged).toEqual(['atlas_critical']);
    const clash = () => mergeDatasetInfo(merged.text, { atlas_critical: { file_name: 'b.jsonl', formatting: 'sharegpt' } }, 'data/dataset_info.json');
    expect(clash).toThrow(DatasetInfoClash);
    expect(clash).toThrow('data/dataset_info.json already has a dataset "atlas_critical" (file_name "a.jsonl"); this export\'s dataset "atlas_critical" (file_name "b.jsonl") has the same name. Nothing was written');
    expect(() => mergeDatasetInfo('{oops', ours, 'x/dataset_info.json')).toThrow(/^x\/dataset_info\.json exists but is not valid JSON/);
    expect(mergeDatasetInfo(undefined, ours).added).toEqual(['atlas_critical']);
  });

  it('atlas export --format llamafactory adds its entry to an existing registry and never overwrites it', async () => {
    const dir = path.join(root, 'lf');
    mkdirSync(dir);
    const src = path.join(dir, 'src.jsonl');
    writeFileSync(src, trajectoriesToJsonl(demos));
    const registry = path.join(dir, 'dataset_info.json');
    writeFileSync(registry, JSON.stringify({ alpaca_en: { file_name: 'alpaca_en.json' } }));
    const first = await run(exportCmd, [src, '--format', 'llamafactory', '--out', path.join(dir, 'crit.jsonl'), '--dataset-name', 'alf_crit']);
    expect(first.code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(registry, 'utf8')))).toEqual(['alpaca_en', 'alf_crit']);
    // The same export again is fine; the same name for another file is an error naming both, and nothing is written.
    expect((await run(exportCmd, [src, '--format', 'llamafactory', '--out', path.join(dir, 'crit.jsonl'), '--dataset-name', 'alf_crit'])).code).toBe(0);
    const before = readFileSync(registry, 'utf8');
    await expect(exportCmd.run([src, '--format', 'llamafactory', '--out', path.join(dir, 'other.jsonl'), '--dataset-name', 'alf_crit'])).rejects.toThrow(/already has a dataset "alf_crit" \(file_name "crit\.jsonl"\); this export's dataset "alf_crit" \(file_name "other\.jsonl"\)/);
    expect(readFileSync(registry, 'utf8')).toBe(before);
    expect(existsSync(path.join(dir, 'other.jsonl'))).toBe(false);
    // A side file that held something else is replaced only with a warning naming it.
    writeFileSync(path.join(dir, 'crit.train.yaml'), 'my own settings\n');
    const again = await run(exportCmd, [src, '--format', 'llamafactory', '--out', path.join(dir, 'crit.jsonl'), '--dataset-name', 'alf_crit']);
    expect(again.lines.some((l) => l.startsWith(`export: warning: replaced ${path.join(dir, 'crit.train.yaml')}`))).toBe(true);
    expect(again.last.replaced).toEqual([path.join(dir, 'crit.train.yaml')]);
  });

  it('atlas export --split: held-in by default with a sentence about what was left out; --split all marks held-out records', async () => {
    const dir = path.join(root, 'split');
    mkdirSync(dir);
    const src = path.join(dir, 'src.jsonl');
    writeFileSync(src, trajectoriesToJsonl(demos));
    const def = await run(exportCmd, [src, '--format', 'axolotl', '--out', path.join(dir, 'a.jsonl')]);
    expect(def.last).toMatchObject({ trajectories: 3, records: 3, split: { split: 'held-in', leftOut: 1, heldOut: 0 } });
    expect(def.lines).toContain('export: 1 trajectory of the held-out split (built-in evaluation data) left out, so training on this file does not contaminate the held-out evaluation; export them with --split held-out or --split all (marked "split": "held-out")');
    const all = await run(exportCmd, [src, '--format', 'axolotl', '--out', path.join(dir, 'b.jsonl'), '--split', 'all']);
    expect(all.last.records).toBe(4);
    expect(readFileSync(path.join(dir, 'b.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).split ?? null)).toEqual([null, 'held-out', null, null]);
    await expect(exportCmd.run([src, '--format', 'axolotl', '--out', path.join(dir, 'c.jsonl'), '--split', 'test'])).rejects.toThrow('--split must be one of held-in, held-out, all (got "test")');
  });
});

describe('atlas import reports', () => {
  it('step records grouped, failed runs left out (and kept with --keep-failed), a file of unread records refused once', async () => {
    const steps = await run(importCmd, ['test/fixtures/data/step-pairs.jsonl', '--out', path.join(root, 'steps.jsonl')]);
    expect(steps.lines).toContain('import: 7 step records grouped into 2 episodes (each trajectory is its episode\'s longest history and output)');
    expect(steps.last).toMatchObject({ trajectories: 2, rejectedTotal: 2, stepRecords: { records: 7, episodes: 2 } });

    const traces = await run(importCmd, ['test/fixtures/data/search-trace.json', '--out', path.join(root, 'traces.jsonl')]);
    expect(traces.lines[0]).toBe(`import: 1 trajectory (4 steps) → ${path.join(root, 'traces.jsonl')}; 1 rejected, 0 duplicates reported`);
    expect(traces.lines).toContain('import: 1 failed run left out, so it is not trained on (its record says so: reward / success / result); --keep-failed imports it, marked in "outcome"');
    const kept = await run(importCmd, ['test/fixtures/data/search-trace.json', '--keep-failed', '--out', path.join(root, 'traces-all.jsonl')]);
    expect(kept.last).toMatchObject({ trajectories: 2, failedRuns: { leftOut: 0, kept: 1 } });

    const unknown = await run(importCmd, ['test/fixtures/data/unknown-layout.jsonl', '--out', path.join(root, 'u.jsonl')]);
    expect(unknown.code).toBe(1);
    expect(unknown.lines[0]).toBe(`import: 0 trajectories (0 steps) (nothing written to ${path.join(root, 'u.jsonl')}); 3 rejected, 0 duplicates reported`);
    expect(unknown.last.rejected).toHaveLength(1);
    expect(unknown.last.rejectedTotal).toBe(3);
  });
});
