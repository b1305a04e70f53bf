// Labels and arms mean what they say: a file's own labels are the critical arm's default; the
// Train step's sentence comes from the runner's own data preparation; baseline selections are
// never called ATLaS nor taken for the critical arm's.
import { describe, it, expect } from 'vitest';
import { importText } from '../data/helpers.ts';
import { sampleTrajectory } from '../data/helpers.ts';
import { importedSelection, isBaselineSelection } from '../../../src/ui/state/selection-roles.ts';
import { criticalArmPlan, criticalPlanText } from '../../../src/ui/state/critical-plan.ts';
import { maskCaption } from '../../../src/ui/mask-caption.ts';
import { prepareDatasetData } from '../../../src/experiment/data.ts';
import { buildTrainingExamples } from '../../../src/data/masks.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { builtinDemos, type BuiltinSource } from '../../../src/experiment/builtin-demos.ts';
import type { Trajectory } from '../../../src/data/trajectory.ts';

/** AgentGym records with `loss` on exactly one agent turn of six. */
function labelledFile(n: number): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      item_id: `task_${i}`,
      conversations: [
        { from: 'human', value: `Your task is to: put mug ${i} in the cabinet.` },
        ...Array.from({ length: 6 }, (_, k) => [
          { from: 'gpt', loss: k === 2, value: `Thought: I should check place ${k}.\nAction: go to shelf ${k}` },
          { from: 'human', value: `On shelf ${k}, you see nothing.` },
        ]).flat(),
      ],
    }),
  ).join('\n');
}

const SRC: BuiltinSource = { kind: 'builtin', envs: ['household', 'grid'], trainEpisodes: 4, heldOutEpisodes: 1, seed: 1, mistakeRate: 0.15 };

describe('the critical arm on an imported selection', () => {
  it('a file with per-turn loss flags brings its selection, and the plan trains on exactly those turns', async () => {
    const { trajectories } = await importText(labelledFile(10));
    expect(importedSelection(trajectories)).toBe('import:loss');
    const config = { selector: 'import:loss', budget: 0.3, seed: 1, data: { kind: 'dataset' as const, datasetId: 'x' } };
    const plan = criticalArmPlan(trajectories, config);
    expect(plan).toMatchObject({ total: 10, covered: 10, train: 8, trainSteps: 48, supervisedSteps: 8, computed: false });
    // The runner's own count agrees: one supervised turn per training trajectory.
    const run = prepareDatasetData(structuredClone(trajectories), 'import:loss', 0.3, 1);
    const { report } = buildTrainingExamples(run.train, { arm: 'critical', tokenizer: defaultTokenizer(), contextLength: 512, seed: 1, budget: 0.3 });
    expect(report.supervisedTurns).toBe(plan.supervisedSteps);
    const text = criticalPlanText(plan);
    expect(text.coverage).toBe('present on 10 of 10 trajectories');
    expect(text.origin).toContain('the file’s own “loss” flags');
    expect(text.supervised).toBe('in the 8 training trajectories it supervises 8 of 48 steps (17 %)');
    // The plan works on copies: the page's trajectories are not relabelled.
    expect(trajectories.every((t) => t.selections.length === 1)).toBe(true);
  });

  it('the heuristic on the same file is what the runner computes, not what the file says', async () => {
    const { trajectories } = await importText(labelledFile(10));
    const plan = criticalArmPlan(trajectories, { selector: 'heuristic', budget: 0.3, seed: 1, data: { kind: 'dataset', datasetId: 'x' } });
    expect(plan.computed).toBe(true);
    const run = prepareDatasetData(structuredClone(trajectories), 'heuristic', 0.3, 1);
    expect(plan.covered).toBe(10 - run.unlabelled.length);
    expect(criticalPlanText(plan).origin).toMatch(/computed by the runner on every trajectory, budget 30 %/);
  });

  it('files without flags bring none; the most common import selection wins', () => {
    const plain = [sampleTrajectory('a', 4), sampleTrajectory('b', 4)];
    expect(importedSelection(plain)).toBeUndefined();
    const flagged: Trajectory[] = plain.map((t, i) => ({ ...t, selections: [{ selector: i ? 'import:weight' : 'import:loss', createdAt: '', status: 'labelled', critical: [{ step: 0 }] }] }));
    flagged.push({ ...sampleTrajectory('c', 4), selections: [{ selector: 'import:weight', createdAt: '', status: 'labelled', critical: [{ step: 1 }] }] });
    expect(importedSelection(flagged)).toBe('import:weight');
  });

  it('built-in data: a selection the runner cannot rebuild from the seed is on none of the regenerated trajectories', () => {
    const page = builtinDemos(SRC, 0.3).map((t) => ({ ...t, selections: [...t.selections, { selector: 'oracle:m', createdAt: '', status: 'labelled' as const, critical: [{ step: 0 }] }] }));
    const onBuiltin = criticalArmPlan(page, { selector: 'oracle:m', budget: 0.3, seed: 1, data: SRC });
    expect(onBuiltin.covered).toBe(0);
    expect(criticalPlanText(onBuiltin).coverage).toMatch(/^present on 0 of 10 trajectories — the others give the critical arm no loss \(e\.g\. .*no labelled selection by "oracle:m"/);
    // On the stored demonstrations the same selection is there.
    expect(criticalArmPlan(page, { selector: 'oracle:m', budget: 0.3, seed: 1, data: { kind: 'dataset', datasetId: 'b' } }).covered).toBe(10);
    expect(criticalArmPlan(page, { selector: 'heuristic', budget: 0.3, seed: 1, data: SRC }).covered).toBeGreaterThan(0);
  });
});

describe('baseline selections are arms, not critical steps', () => {
  it('random, rejected, full and highest-loss are baselines; the others are candidates', () => {
    for (const b of ['random', 'rejected', 'full', 'highest-loss']) expect(isBaselineSelection(b)).toBe(true);
    for (const c of ['heuristic', 'ground-truth', 'manual', 'oracle:gpt-4o', 'judge:x', 'import:loss']) expect(isBaselineSelection(c)).toBe(false);
  });

  it('the mask view names the selection shown and says ATLaS only of a critical-step selection the critical arm trains on', () => {
    const inspected = maskCaption('critical', 'random', 'heuristic');
    expect(inspected).toContain('“random”');
    expect(inspected).toContain('not ATLaS');
    expect(inspected).toContain('the critical arm trains on (“heuristic”)');
    expect(maskCaption('critical', 'heuristic', 'heuristic')).toMatch(/“heuristic”.*: ATLaS\.$/);
    expect(maskCaption('critical', 'random', 'random')).toMatch(/baseline selection, so this run compares random steps, not ATLaS/);
    expect(maskCaption('critical', 'oracle:m', 'heuristic')).not.toMatch(/ATLaS/);
    expect(maskCaption('random', 'import:loss', 'import:loss')).toContain('as many as the selection “import:loss” marks');
    expect(maskCaption('full', 'heuristic', 'heuristic')).toContain('No selection is involved');
  });
});
