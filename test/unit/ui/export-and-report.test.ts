// The Export step's split choice and messages, and the Data step's import report in words.
import { describe, it, expect } from 'vitest';
import { exportTrajectories } from '../../../src/data/export.ts';
import { builtinDemos, type BuiltinSource } from '../../../src/experiment/builtin-demos.ts';
import { emptyExportMessage, splitLabel, splitNote, splitSizes } from '../../../src/ui/export-text.ts';
import { duplicateLine, duplicatesHeading, failedRunsText, rejectedCount, stepRecordsText } from '../../../src/ui/import-report.ts';
import { sampleTrajectory } from '../data/helpers.ts';
import type { ImportSummary } from '../../../src/data/importer.ts';

const SRC: BuiltinSource = { kind: 'builtin', envs: ['household', 'grid'], trainEpisodes: 4, heldOutEpisodes: 1, seed: 1, mistakeRate: 0.15 };

describe('export split', () => {
  const demos = builtinDemos(SRC, 0.3);

  it('counts each choice and labels the held-out ones as marked', () => {
    const sizes = splitSizes(demos);
    expect(sizes).toEqual({ 'held-in': 8, 'held-out': 2, all: 10 });
    expect(splitLabel('held-in', sizes)).toMatch(/^Held-in — the training split \(8 trajectories\); the default/);
    expect(splitLabel('held-out', sizes)).toContain('marked "split": "held-out"');
  });

  it('says what the default left out, and what a held-out export holds', () => {
    const def = exportTrajectories(demos, 'agentgym', { arm: 'critical' });
    expect(def.trajectories).toBe(8);
    expect(splitNote(def, 'agentgym')).toMatch(/^2 trajectories of the held-out split \(built-in evaluation data\) left out, so training on this file does not contaminate/);
    const held = exportTrajectories(demos, 'agentgym', { arm: 'critical', split: 'held-out' });
    expect(splitNote(held, 'agentgym')).toMatch(/^Only the held-out split: 8 trajectories outside it left out; each is marked "split": "held-out"/);
    expect(splitNote(exportTrajectories(demos, 'openai', { split: 'all' }), 'openai')).toMatch(/2 trajectories of the held-out split .* included; OpenAI’s format has no room for a mark/);
    expect(splitNote(exportTrajectories([sampleTrajectory('a', 3, { critical: [0] })], 'openai'), 'openai')).toBeUndefined();
  });

  it('a 0-record export names the split when the split left nothing, else the arm', () => {
    const imported = [sampleTrajectory('a', 3), sampleTrajectory('b', 3)];
    const held = exportTrajectories(imported, 'openai', { split: 'held-out' });
    expect(emptyExportMessage('x.jsonl', held, 2, 'critical')).toBe('Nothing to export: x.jsonl would hold 0 records — the “held-out” split holds none of the 2 trajectories: none of them is in the held-out split (only built-in demonstrations have one). Choose another split above. No file was saved.');
    const noSel = exportTrajectories(demos.map((t) => ({ ...t, selections: [] })), 'openai');
    expect(emptyExportMessage('y.jsonl', noSel, 10, 'critical')).toBe('Nothing to export: y.jsonl would hold 0 records — none of the 8 trajectories (the other 2 trajectories were left out by the “held-in” split) has a selected step for the critical arm (run a selector in step 2 or mark steps by hand). No file was saved.');
    expect(emptyExportMessage('z.jsonl', exportTrajectories(imported, 'openai'), 2, 'critical')).toMatch(/none of the 2 trajectories has a selected step for the critical arm/);
  });
});

describe('import report', () => {
  const base: ImportSummary = { file: 'f.json', layout: 'json-array', trajectories: 2, steps: 6, formats: {}, selections: {}, rejected: [{ file: 'f.json', reason: 'unreadable layout', records: 3 }], duplicates: [], withNotes: 0, renamedIds: 0, rejectedRecords: 3 };

  it('counts rejected records, also in reports saved before the count existed', () => {
    expect(rejectedCount(base)).toBe(3);
    const { rejectedRecords: _r, ...old } = base;
    expect(rejectedCount(old)).toBe(1);
  });

  it('tells merged variants from identical records kept twice', () => {
    const merged = { dropped: 'act_1', keptAs: 'react_1', reason: 'same actions' };
    const both = { dropped: 'a#2', keptAs: 'a', reason: 'identical', kept: true };
    expect(duplicatesHeading([merged])).toBe('1 duplicate variant merged (one copy kept)');
    expect(duplicatesHeading([both, both])).toBe('2 identical records found twice — both copies kept');
    expect(duplicatesHeading([merged, both])).toBe('1 duplicate variant merged (one copy kept); 1 identical record found twice — both copies kept');
    expect(duplicateLine(both)).toBe('a#2 is the same as a; both were kept: identical');
    expect(duplicateLine(merged)).toBe('act_1 → kept as react_1: same actions');
  });

  it('reports failed runs and step records only when the file had them', () => {
    expect(failedRunsText(base)).toBeUndefined();
    expect(stepRecordsText(base)).toBeUndefined();
    expect(failedRunsText({ failedRuns: { leftOut: 1, kept: 0, leftOutIds: ['env_1'] } })).toBe('1 failed run left out (env_1): the record says the run failed (reward / success), so it is not expert data to imitate.');
    expect(failedRunsText({ failedRuns: { leftOut: 0, kept: 2, leftOutIds: [] } })).toMatch(/^2 failed runs kept/);
    expect(stepRecordsText({ stepRecords: { records: 5, episodes: 1 } })).toMatch(/^5 step records .* rebuilt into 1 trajectory:/);
  });
});
