// import(export(x)) == x for every format that can hold a whole trajectory, and the exact
// marking of selected turns in each export.
import { describe, expect, it } from 'vitest';
import { comparable, importText, sampleTrajectory } from './helpers.ts';
import { exportTrajectories, type ExportFormat } from '../../../src/data/export.ts';
import { applyLabels } from '../../../src/data/labels.ts';
import { parseTrajectoriesJsonl, readTrajectoriesJsonl, trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { bytesSource } from '../../../src/data/lines.ts';
import { armSteps } from '../../../src/data/arms.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';

const cases: Trajectory[] = [
  sampleTrajectory('plain', 5, { critical: [1, 3] }),
  sampleTrajectory('with-system', 3, { system: 'You are an agent.', critical: [0] }),
  sampleTrajectory('agentgym-like', 7, { preamble: true, critical: [2, 5, 6] }),
  sampleTrajectory('empty-middle-obs', 4, { critical: [3], emptyObsAt: [1, 3] }),
  sampleTrajectory('no-selection', 2),
  { ...sampleTrajectory('unicode', 3, { critical: [0] }), instruction: 'Найди 🔑 — 鍵を探せ\n\t"quoted" \\ back' },
];

describe('round trips', () => {
  it('trajectories JSONL: parse(serialize(x)) deep-equals x', () => {
    const text = trajectoriesToJsonl(cases);
    expect(parseTrajectoriesJsonl(text).trajectories).toEqual(cases);
    expect(() => parseTrajectoriesJsonl(text + '{"version":1}\n', 'x.jsonl')).toThrow(/^x\.jsonl:7: not a trajectory: id must be a non-empty string$/);
    expect(() => parseTrajectoriesJsonl('{oops\n', 'y.jsonl')).toThrow(/^y\.jsonl:1: invalid JSON/);
  });

  it('trajectories JSONL streams back the same (1-byte chunks), and names the bad line', async () => {
    const text = trajectoriesToJsonl(cases);
    const got = [];
    for await (const t of readTrajectoriesJsonl(bytesSource(text, 1), 's.jsonl')) got.push(t);
    expect(got).toEqual(cases);
    const bad = text + '\n{"version":1,"id":"z","source":{"format":"x"},"instruction":"","steps":[{"agent":1}],"selections":[]}\n';
    const run = async () => {
      for await (const _ of readTrajectoriesJsonl(bytesSource(bad, 7), 's.jsonl')) void _;
    };
    await expect(run()).rejects.toThrow('s.jsonl:8: not a trajectory: steps[0].agent must be a string');
  });

  it('lone surrogates and control characters survive a round trip', async () => {
    const t = { ...sampleTrajectory('odd', 2, { critical: [1] }), instruction: 'a\ud800b\u0007c\u2028d' };
    const { text } = exportTrajectories([t], 'agentgym');
    const { trajectories } = await importText(text);
    expect(trajectories[0].instruction).toBe(t.instruction);
  });

  for (const format of ['openai', 'agentgym', 'axolotl'] as ExportFormat[]) {
    it(`${format}: import(export(x)) == x (steps, thoughts, actions, selected turns)`, async () => {
      const { text } = exportTrajectories(cases, format);
      const { trajectories, summary } = await importText(text, { file: `rt.${format}.jsonl` });
      expect(summary.rejected).toEqual([]);
      expect(summary.formats).toEqual({ [format]: cases.length });
      expect(trajectories.map(comparable)).toEqual(cases.map(comparable));
      if (format !== 'openai') expect(trajectories.map((t) => t.id)).toEqual(cases.map((t) => t.id));
    });
  }

  it('openai: weight 1 on exactly the selected assistant turns, 0 on the others, none on user/system', () => {
    const t = cases[2];
    const rec = JSON.parse(exportTrajectories([t], 'openai').text);
    const assistant = rec.messages.filter((m: { role: string }) => m.role === 'assistant');
    expect(assistant.map((m: { weight: number }) => m.weight)).toEqual([0, 0, 0, 1, 0, 0, 1, 1]); // ack + 7 steps
    expect(rec.messages.filter((m: { role: string; weight?: number }) => m.role !== 'assistant' && 'weight' in m)).toEqual([]);
  });

  it('agentgym: loss true on exactly the selected turns; arms choose the turns', () => {
    const t = cases[0];
    const lossOf = (text: string) => JSON.parse(text).conversations.filter((c: { from: string }) => c.from === 'gpt').map((c: { loss: boolean }) => c.loss);
    expect(lossOf(exportTrajectories([t], 'agentgym').text)).toEqual([false, true, false, true, false]);
    expect(lossOf(exportTrajectories([t], 'agentgym', { arm: 'full' }).text)).toEqual([true, true, true, true, true]);
    const rejected = armSteps('rejected', t, { seed: 3 });
    expect(lossOf(exportTrajectories([t], 'agentgym', { arm: 'rejected', seed: 3 }).text)).toEqual([0, 1, 2, 3, 4].map((i) => rejected.includes(i)));
  });

  it('llamafactory: one sample per selected step, ending at it; re-imports as the prefix', async () => {
    const t = cases[2];
    const { text, sideFiles, records } = exportTrajectories([t], 'llamafactory', { datasetName: 'crit', fileName: 'crit.jsonl' });
    expect(records).toBe(3);
    const info = JSON.parse(sideFiles['dataset_info.json']);
    expect(info.crit).toMatchObject({ file_name: 'crit.jsonl', formatting: 'sharegpt', mask_history: true, columns: { messages: 'conversations' } });
    expect(sideFiles['train.yaml']).toMatch(/^mask_history: true$/m);
    const samples = text.trim().split('\n').map((l) => JSON.parse(l));
    for (const s of samples) {
      expect(s.conversations[s.conversations.length - 1].from).toBe('gpt');
      s.conversations.forEach((c: { from: string }, i: number) => expect(c.from).toBe(i % 2 === 0 ? 'human' : 'gpt'));
    }
    const { trajectories } = await importText(text);
    expect(trajectories.map((x) => x.steps.length)).toEqual([3, 6, 7]);
    trajectories.forEach((x, i) => {
      const k = [2, 5, 6][i];
      expect(x.instruction).toBe(t.instruction);
      expect(x.preamble).toEqual(t.preamble);
      expect(x.steps.slice(0, k).map((s) => s.agent)).toEqual(t.steps.slice(0, k).map((s) => s.agent));
      expect(x.steps[k].agent).toBe(t.steps[k].agent);
    });
  });

  it('labels: export then apply onto unlabelled copies gives the same selections', async () => {
    const { text } = exportTrajectories(cases, 'labels');
    const first = JSON.parse(text.split('\n')[0]);
    expect(first).toEqual({ id: 'plain', nSteps: 5, selector: 'oracle:test', budget: 0.3, steps: [1, 3], categories: ['action', 'action'], reasons: ['because 1', 'because 3'], createdAt: '2026-01-01T00:00:00.000Z' });
    const bare = cases.map((t) => ({ ...t, selections: [] }));
    const { applied, problems } = applyLabels(bare, text + '{"id":"ghost","nSteps":1,"selector":"x","budget":null,"steps":[],"categories":[],"reasons":[]}\n');
    expect(applied).toBe(cases.length - 1); // "no-selection" has selector "none": nothing to apply
    expect(problems).toEqual([{ file: 'labels.jsonl', line: 7, reason: 'no trajectory with id "ghost"' }]);
    const asImport = await importText(text);
    expect(asImport.trajectories).toEqual([]);
    expect(asImport.summary.rejected[0].reason).toMatch(/^this is a labels record/);
    const withSel = cases.filter((t) => t.selections.length);
    expect(bare.filter((t) => withSel.some((w) => w.id === t.id)).map((t) => t.selections[0])).toEqual(withSel.map((t) => t.selections[0]));
  });
});
