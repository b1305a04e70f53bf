// The household environment's registry entry: task sampling by split and its expert.
import { sampleTaskOfSplit, type EnvDefinition } from '../types.ts';
import { HouseholdEnv } from './env.ts';
import { createHouseholdExpert } from './expert.ts';
import { HOUSEHOLD_TASK_TYPES } from './world.ts';

export const household: EnvDefinition = {
  name: 'household',
  summary: 'ALFWorld-style room of numbered receptacles: put, clean, heat, cool, examine under a lamp, put two',
  taskTypes: HOUSEHOLD_TASK_TYPES,
  splitNote:
    'held-in: put/clean/heat/cool/examine(desklamp, bedroom) with the usual objects; held-out: the unseen type puttwo, examine under a floorlamp (living room), and (type, object) pairs never seen in training (put keychain/spraybottle, clean plate/cloth, heat potato/cup, cool apple/pan, examine cd/watch)',
  create: () => new HouseholdEnv(),
  sampleTask: (seed, split) => sampleTaskOfSplit(household, seed, split),
  createExpert(env, task, opts) {
    if (!(env instanceof HouseholdEnv)) throw new Error('household expert needs a HouseholdEnv');
    return createHouseholdExpert(env, task, opts);
  },
};
