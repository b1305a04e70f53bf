// Crafting rules: TextCraft's commands and its error replies.
import { describe, expect, it } from 'vitest';
import { CraftingEnv, CRAFT_GOALS } from '../../../src/envs/crafting/env.ts';
import { crafting } from '../../../src/envs/crafting/index.ts';
import { BASE_ITEMS, RECIPES, RECIPE_BY_OUTPUT, depth, recipeCommand, recipeTree } from '../../../src/envs/crafting/recipes.ts';

function fresh(seed = 1, taskType = 'deep') {
  const env = new CraftingEnv();
  const start = env.reset({ env: 'crafting', taskType, split: 'held-out', seed });
  return { env, start };
}

describe('crafting recipes', () => {
  it('form a tree over base items: every input is a base item or has a recipe, no cycles', () => {
    for (const r of RECIPES) {
      for (const [i, n] of r.inputs) {
        expect(BASE_ITEMS.includes(i as never) || RECIPE_BY_OUTPUT.has(i), `${r.output} needs ${i}`).toBe(true);
        expect(n).toBeGreaterThan(0);
      }
      expect(depth(r.output)).toBeGreaterThanOrEqual(1);
    }
    expect(RECIPES.length).toBeGreaterThanOrEqual(40);
    expect(Math.max(...RECIPES.map((r) => depth(r.output)))).toBe(4);
    expect(CRAFT_GOALS.shallow.every((g) => depth(g) <= 2)).toBe(true);
    expect(CRAFT_GOALS.deep.every((g) => depth(g) >= 3)).toBe(true);
  });
});

describe('crafting environment', () => {
  it('shows the goal tree plus distractors as TextCraft does', () => {
    const { env, start } = fresh(3);
    expect(start.observation).toMatch(/^Crafting commands:\n(craft \d+ [a-z ]+ using \d+ [a-z ]+(, \d+ [a-z ]+)*\n)+\nGoal: craft [a-z ]+\.$/);
    for (const r of recipeTree(env.goal)) expect(start.observation).toContain(recipeCommand(r));
    expect(env.shown.length).toBe(recipeTree(env.goal).length + 10);
  });

  it('replies and errors like TextCraft', () => {
    const { env } = fresh(5);
    expect(env.step('inventory').observation).toBe('Inventory: You are not carrying anything.');
    expect(env.step('get 2 stick')).toMatchObject({ observation: 'Could not find stick', valid: false });
    expect(env.step('get 2 unobtainium')).toMatchObject({ observation: 'Could not find unobtainium', valid: false });
    expect(env.step('craft 4 stick using 2 oak planks')).toMatchObject({ observation: 'Could not find enough items to craft minecraft:stick', valid: false });
    expect(env.step('get 1 oak log')).toMatchObject({ observation: 'Got 1 oak log', valid: true });
    expect(env.step('craft 4 oak planks using 1 oak log').observation).toBe('Crafted 4 minecraft:oak_planks');
    expect(env.step('craft 5 stick using 2 oak planks')).toMatchObject({ observation: 'Could not find a valid recipe for 5 minecraft:stick', valid: false });
    expect(env.step('craft 4 stick using 2 oak planks').observation).toBe('Crafted 4 minecraft:stick');
    expect(env.step('inventory').observation).toBe('Inventory: [oak planks] (2) [stick] (4)');
    expect(env.step('craft 4 stick using two oak planks').observation).toBe('Wrong item format: two oak planks');
    expect(env.step('dig a hole')).toMatchObject({ observation: 'Could not execute dig a hole', valid: false });
  });

  it('multiples of a recipe craft in one command', () => {
    const { env } = fresh(5);
    env.step('get 2 oak log');
    expect(env.step('craft 8 oak planks using 2 oak log').observation).toBe('Crafted 8 minecraft:oak_planks');
  });

  it('crafting the goal ends the episode with reward 1', () => {
    // A one-level goal: get its base inputs, craft it.
    let env = fresh(0, 'shallow').env;
    for (let seed = 1; depth(env.goal) !== 1; seed++) env = fresh(seed, 'shallow').env;
    const r = RECIPE_BY_OUTPUT.get(env.goal)!;
    for (const [i, n] of r.inputs) expect(env.step(`get ${n} ${i}`)).toMatchObject({ done: false, success: false });
    expect(env.step(recipeCommand(r))).toMatchObject({ observation: `Crafted ${r.count} minecraft:${env.goal.replace(/ /g, '_')}`, done: true, success: true, reward: 1 });
  });

  it('is held out entirely', () => {
    expect(crafting.taskTypes['held-in']).toEqual([]);
    expect(() => crafting.sampleTask(0, 'held-in')).toThrow(/crafting.*no held-in tasks/);
  });
});
