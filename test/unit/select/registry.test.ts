// One selector registry (src/select/registry.ts) that everything reads: the selection runner,
// `atlas select --selector`, the runner's data (applySelector), the Select step's list and the
// link's `selector=` / `labels=`. These tests fail when any of them drifts from the table.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getSelector, isSelectorName, rebuiltFromSeed, SEED_REBUILT_SELECTORS, SELECTOR_NAMES, SELECTORS, selectorOfSelection } from '../../../src/select/registry.ts';
import { runSelection } from '../../../src/select/run.ts';
import { applySelector, builtinTrajectories } from '../../../src/experiment/data.ts';
import type { BuiltinSource } from '../../../src/experiment/builtin-demos.ts';
import { command as select } from '../../../src/cli/commands/select.ts';
import { trajectoriesToJsonl } from '../../../src/data/jsonl.ts';
import { SELECTOR_CHOICES, runnableInPage } from '../../../src/ui/state/selector-choices.ts';
import { BASELINE_SELECTIONS, isBaselineSelection, selectionOrigin } from '../../../src/ui/state/selection-roles.ts';
import { configFromHash, configToHash, presetConfig } from '../../../src/ui/state/playground-config.ts';
import { makeTrajectory } from './fixtures.ts';

const SRC: BuiltinSource = { kind: 'builtin', envs: ['household', 'grid', 'crafting'], trainEpisodes: 3, heldOutEpisodes: 1, seed: 4, mistakeRate: 0.15 };

describe('the selector registry', () => {
  it('lists each selector once, in the Select step order, each with its text', () => {
    expect(SELECTOR_NAMES).toEqual(['heuristic', 'oracle', 'judge', 'ground-truth', 'random', 'rejected', 'highest-loss', 'full']);
    for (const s of SELECTORS) {
      expect(s.label.length, s.name).toBeGreaterThan(10);
      expect(s.origin, s.name).toMatch(/^the /);
      expect(getSelector(s.name)).toBe(s);
    }
    expect(() => getSelector('magic')).toThrow(`unknown selector "magic" (one of ${SELECTOR_NAMES.join(', ')})`);
  });

  it('baseline arms are arms, not critical-arm candidates; the others are', () => {
    expect(SELECTORS.filter((s) => !s.criticalArm).map((s) => s.name)).toEqual(['random', 'rejected', 'highest-loss', 'full']);
    expect(BASELINE_SELECTIONS).toEqual(['random', 'rejected', 'highest-loss', 'full']);
    for (const n of ['random', 'rejected', 'full', 'highest-loss']) expect(isBaselineSelection(n)).toBe(true);
    for (const n of ['heuristic', 'ground-truth', 'oracle:gpt-4o', 'judge:tiny', 'manual', 'import:loss']) expect(isBaselineSelection(n)).toBe(false);
  });

  it('names selections: a model selector\'s are "<name>:<model>", a rule selector\'s its own name', () => {
    expect(selectorOfSelection('oracle:gpt-4o')?.name).toBe('oracle');
    expect(selectorOfSelection('judge:org/model:q4')?.name).toBe('judge');
    expect(selectorOfSelection('heuristic')?.name).toBe('heuristic');
    for (const n of ['oracle', 'judge', 'heuristic:x', 'manual', 'import:loss']) expect(selectorOfSelection(n)).toBeUndefined();
    expect(selectionOrigin('oracle:gpt-4o')).toBe('the oracle gpt-4o');
    expect(selectionOrigin('judge:tiny')).toBe('the local judge tiny');
    expect(selectionOrigin('ground-truth')).toBe('the built-in expert’s ground truth');
    expect(selectionOrigin('highest-loss')).toBe('the highest-loss baseline');
  });

  it('a selector rebuilt from the seed is a rule that needs nothing and draws nothing at random', () => {
    expect(SEED_REBUILT_SELECTORS).toEqual(['heuristic', 'ground-truth']);
    const t = makeTrajectory('r', 10, { withMistake: true });
    for (const s of SELECTORS.filter((x) => x.rebuiltFromSeed)) {
      expect(s.kind, s.name).toBe('rule');
      expect(s.needsModel ?? s.needsNetwork, s.name).toBeUndefined();
      if (s.kind === 'rule') expect(s.select(t, { budget: 0.3, seed: 1 })).toEqual(s.select(t, { budget: 0.3, seed: 99 }));
    }
    for (const s of SELECTORS) expect(rebuiltFromSeed(s.name)).toBe(s.rebuiltFromSeed);
  });
});

describe('everything derives from it', () => {
  it('applySelector computes every selector rebuilt from the seed, as runSelection does', async () => {
    const rebuilt = SELECTORS.filter((s) => s.rebuiltFromSeed);
    expect(rebuilt.length).toBeGreaterThan(0);
    for (const s of rebuilt) {
      const { train } = builtinTrajectories(SRC);
      const failed = applySelector(train, s.name, 0.3, '2025-01-01T00:00:00.000Z');
      expect(failed, s.name).toEqual([]);
      const run = (await runSelection(builtinTrajectories(SRC).train, { selector: s.name, budget: 0.3 })).trajectories;
      train.forEach((t, i) => {
        expect(t.activeSelection).toBe(s.name);
        const mine = t.selections.filter((x) => x.selector === s.name);
        expect(mine).toHaveLength(1);
        expect(mine[0]).toMatchObject({ status: 'labelled', budget: 0.3 });
        expect(mine[0].critical, `${s.name} ${t.id}`).toEqual(run[i].selections.at(-1)!.critical);
        expect(run[i].activeSelection).toBe(s.name);
      });
    }
    // Any other name must already be on the trajectories.
    const { train } = builtinTrajectories(SRC);
    expect(applySelector(train.slice(0, 1), 'oracle:m', 0.3)).toEqual([{ id: train[0].id, reason: 'no labelled selection by "oracle:m" on this trajectory' }]);
  });

  it('the Select step lists exactly the registry, with its labels; the page runs what it can', () => {
    expect(SELECTOR_CHOICES).toEqual(SELECTORS.map((s) => ({ name: s.name, label: s.label })));
    for (const s of SELECTORS) {
      const expected = s.needsModel === undefined;
      expect(runnableInPage(s.name, false), s.name).toBe(expected);
      expect(runnableInPage(s.name, true), s.name).toBe(expected || s.needsModel === 'judge');
    }
    expect(runnableInPage('highest-loss', true)).toBe(false);
  });

  it('a link\'s selector= takes every registry name and nothing else; labels= never names a model selector bare', () => {
    for (const name of SELECTOR_NAMES) {
      const c = presetConfig('quick-demo');
      c.selector.kind = name;
      expect(configFromHash(configToHash(c))).toEqual({ config: c, problems: [] });
    }
    expect(isSelectorName('manual')).toBe(false);
    expect(configFromHash('#selector=manual')?.problems).toEqual([`selector=manual is not one of ${SELECTOR_NAMES.join(', ')}`]);
    const bare = configFromHash('#labels=oracle');
    expect(bare?.problems).toEqual(['labels=oracle names no selection: oracle selections are named oracle:MODEL (the model that chose them)']);
    expect(bare?.config.experiment.selector).toBe(presetConfig('quick-demo').experiment.selector);
    expect(configFromHash('#labels=oracle:gpt-4o')).toMatchObject({ config: { experiment: { selector: 'oracle:gpt-4o' } }, problems: [] });
  });
});

describe('atlas select --selector', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-registry-'));
    // Labelled by the heuristic already, so the rejected arm has a selection to take the complement of.
    const ts = (await runSelection(Array.from({ length: 3 }, (_, i) => makeTrajectory(`reg${i}`, 8 + i, { withMistake: i === 0 })), { selector: 'heuristic' })).trajectories;
    await writeFile(path.join(dir, 'in.jsonl'), trajectoriesToJsonl(ts));
    return () => rm(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  it('accepts exactly the registry\'s names', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const notAName = /--selector must be one of/;
    for (const name of SELECTOR_NAMES) {
      // Each name gets past the name check: it runs, or stops at an option only that selector needs.
      const outcome = await select.run(['--in', path.join(dir, 'in.jsonl'), '--selector', name, '--out', path.join(dir, `${name}.jsonl`)]).then(
        (code) => `exit ${code}`,
        (err: Error) => err.message,
      );
      expect(outcome, name).not.toMatch(notAName);
      if (getSelector(name).kind === 'rule' && !getSelector(name).needsModel) expect(outcome, name).toBe('exit 0');
    }
    for (const name of ['magic', 'manual', 'critical', 'oracle:gpt-4o', 'Heuristic']) {
      await expect(select.run(['--in', path.join(dir, 'in.jsonl'), '--selector', name, '--out', 'x'])).rejects.toThrow(`--selector must be one of ${SELECTOR_NAMES.join(', ')} (got "${name}")`);
    }
  });
});
