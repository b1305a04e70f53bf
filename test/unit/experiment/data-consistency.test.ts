// The runner's data preparation and the page's built-in demonstrations agree: the page's copy
// carries the same heuristic selection the runner rebuilds; stored built-in demonstrations keep
// their split; the no-supervised-step error names the selection and the fix; byod is sized to
// run anywhere.
import { describe, it, expect } from 'vitest';
import { builtinTrajectories, noSupervisedStepMessage, prepareBuiltinData, prepareDatasetData } from '../../../src/experiment/data.ts';
import { rebuiltFromSeed } from '../../../src/select/registry.ts';
import { experimentPreset } from '../../../src/experiment/presets.ts';
import { builtinDemos, type BuiltinSource } from '../../../src/experiment/builtin-demos.ts';

const SRC: BuiltinSource = { kind: 'builtin', envs: ['household', 'grid'], trainEpisodes: 4, heldOutEpisodes: 1, seed: 1, mistakeRate: 0.15 };

describe('built-in demonstrations on the page and in the runner', () => {
  it('carry the same heuristic selection, step for step', () => {
    const page = builtinDemos(SRC, 0.3);
    const run = prepareBuiltinData(SRC, 'heuristic', 0.3);
    const runAll = [...run.train, ...run.heldOut];
    expect(page.map((t) => t.id)).toEqual(runAll.map((t) => t.id));
    let labelled = 0;
    page.forEach((t, i) => {
      const mine = t.selections.find((s) => s.selector === 'heuristic');
      const theirs = runAll[i].selections.find((s) => s.selector === 'heuristic');
      expect(mine?.critical.map((c) => c.step)).toEqual(theirs?.critical.map((c) => c.step));
      if (mine) {
        labelled++;
        expect(t.activeSelection).toBe('heuristic');
      }
    });
    expect(labelled).toBe(page.length - run.unlabelled.length);
    expect(labelled).toBeGreaterThan(0);
  });

  it('make ground truth the active selection when the run uses it', () => {
    const page = builtinDemos(SRC, 0.3, 'ground-truth');
    expect(page.every((t) => t.activeSelection === 'ground-truth')).toBe(true);
    expect(page.every((t) => t.selections.some((s) => s.selector === 'heuristic'))).toBe(true);
  });

  it('only heuristic and ground truth are rebuilt from the seed', () => {
    expect(rebuiltFromSeed('heuristic')).toBe(true);
    expect(rebuiltFromSeed('ground-truth')).toBe(true);
    for (const s of ['oracle:gpt-4o', 'manual', 'judge:x', 'random']) expect(rebuiltFromSeed(s)).toBe(false);
  });

  it('stored built-in demonstrations keep their held-in / held-out split', () => {
    const { train, heldOut } = builtinTrajectories(SRC);
    const stored = [...heldOut, ...train].map((t) => ({ ...t, selections: [{ selector: 'oracle:m', createdAt: '', status: 'labelled' as const, critical: [{ step: 0 }] }] }));
    const d = prepareDatasetData(stored, 'oracle:m', 0.3, 1);
    expect(d.train.map((t) => t.id).sort()).toEqual(train.map((t) => t.id).sort());
    expect(d.heldOut.map((t) => t.id).sort()).toEqual(heldOut.map((t) => t.id).sort());
    expect(d.unlabelled).toEqual([]);
    expect(d.train.every((t) => t.activeSelection === 'oracle:m')).toBe(true);
  });
});

describe('the no-supervised-step error', () => {
  it('names the selection and the stored-data fix on built-in data', () => {
    const m = noSupervisedStepMessage('critical', 'oracle:mock-model', 'builtin', 8, [{ id: 'household-1', reason: 'no labelled selection by "oracle:mock-model" on this trajectory' }]);
    expect(m).toMatch(/"oracle:mock-model"/);
    expect(m).toMatch(/none of the 8 training trajectories/);
    expect(m).toMatch(/1 trajectories lack that selection, e\.g\. household-1/);
    expect(m).toMatch(/Train on the demonstrations as stored here/);
  });
  it('points to step 2 on a dataset', () => {
    const m = noSupervisedStepMessage('critical', 'manual', 'dataset', 3, []);
    expect(m).toMatch(/"manual"/);
    expect(m).toMatch(/Run a selector on this data in step 2/);
    expect(m).not.toMatch(/stored here/);
  });
  it('keeps the plain message for other arms', () => {
    expect(noSupervisedStepMessage('random', 'heuristic', 'builtin', 3, [])).toBe('the random arm has no supervised step in the training data');
  });
});

describe('presets', () => {
  it('Bring your own data is sized like the Quick demo', () => {
    const q = experimentPreset('quick-demo');
    const b = experimentPreset('byod', 'import:x');
    // Both start from the shipped base agent; byod trains exactly its steps (no clock: its
    // evaluation has no rollouts to time) where the Quick demo fits its steps in two minutes.
    expect(b.model).toEqual({ kind: 'preset', name: 'base' });
    expect(b.model).toEqual(q.model);
    expect({ steps: b.hyper.steps, batch: b.hyper.batchSize, seq: b.hyper.seqLen }).toEqual({ steps: 60, batch: 2, seq: 512 });
    expect(b.hyper).toEqual(q.hyper);
    expect(b.timeBudgetSeconds).toBeUndefined();
    expect(q.timeBudgetSeconds).toBe(120);
    expect(b.nextActionQueries).toBe(q.nextActionQueries);
    expect(b.rolloutEpisodes).toBe(0);
    expect(b.data).toEqual({ kind: 'dataset', datasetId: 'import:x' });
  });
});
