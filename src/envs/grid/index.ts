// The grid environment's registry entry.
import { sampleTaskOfSplit, type EnvDefinition } from '../types.ts';
import { GridEnv } from './env.ts';
import { createGridExpert } from './expert.ts';
import { GRID_TASK_TYPES } from './world.ts';

export const grid: EnvDefinition = {
  name: 'grid',
  summary: 'BabyAI-style rooms with doors, keys, balls and boxes: go to, pick up, open, unlock',
  taskTypes: GRID_TASK_TYPES,
  splitNote:
    'held-in: goto, pickup (one or two rooms, target in the agent\'s room), open (a closed door); held-out: unlock (the door is locked: find and carry its key first) and pickup-beyond-door (the target is in the other room: open the door, then find it) — unseen combinations of the held-in skills',
  create: () => new GridEnv(),
  sampleTask: (seed, split) => sampleTaskOfSplit(grid, seed, split),
  createExpert(env, task, opts) {
    if (!(env instanceof GridEnv)) throw new Error('grid expert needs a GridEnv');
    return createGridExpert(env, task, opts);
  },
};
