// The crafting environment's registry entry. The whole environment is held out: it has no
// held-in tasks, so nothing from it can enter training by accident.
import { sampleTaskOfSplit, type EnvDefinition } from '../types.ts';
import { CraftingEnv } from './env.ts';
import { createCraftingExpert } from './expert.ts';

const TYPES = ['shallow', 'deep'] as const;

export const crafting: EnvDefinition = {
  name: 'crafting',
  summary: 'TextCraft-style recipe tree: get base materials, craft intermediates, craft the goal',
  taskTypes: { 'held-in': [], 'held-out': TYPES },
  splitNote: 'the whole environment is held out (an unseen environment, like the paper\'s held-out set): it has only held-out tasks — shallow (1–2 crafting levels) and deep (3–4 levels)',
  create: () => new CraftingEnv(),
  sampleTask: (seed, split) => sampleTaskOfSplit(crafting, seed, split),
  createExpert(env, task, opts) {
    if (!(env instanceof CraftingEnv)) throw new Error('crafting expert needs a CraftingEnv');
    return createCraftingExpert(env, task, opts);
  },
};
