// Small synthetic household trajectories for the selection tests, with ground-truth roles.
import type { StepRole, Trajectory } from '../../../src/data/trajectory.ts';

/**
 * A "find the <object> and put it in the <place>" episode of `n` ≥ 4 steps (≥ 6 withMistake): a plan, a
 * search with empty receptacles, a failed action followed by a correction (when withMistake),
 * the object first seen, then the decisive put.
 */
export function makeTrajectory(id: string, n = 8, opts: { object?: string; place?: string; withMistake?: boolean } = {}): Trajectory {
  const object = opts.object ?? 'apple';
  const place = opts.place ?? 'fridge';
  const steps: Trajectory['steps'] = [];
  const roles: StepRole[] = [];
  const push = (thought: string, action: string, observation: string, role: StepRole) => {
    steps.push({ agent: `Think: ${thought}\nAction: ${action}`, thought, action, observation });
    roles.push(role);
  };
  push(`First I need to find the ${object}, then put it in the ${place}.`, 'go to cabinet 1', 'You arrive at cabinet 1. The cabinet 1 is closed.', 'plan');
  const search = n - 4 - (opts.withMistake ? 2 : 0);
  if (search < 0) throw new Error(`makeTrajectory: ${n} steps is too short`);
  if (opts.withMistake) {
    push('Open it.', 'open drawer 9', 'Nothing happens.', 'routine');
    push('There is no drawer 9; I will look at the shelves instead.', 'go to shelf 1', 'You arrive at shelf 1. On the shelf 1, you see a mug 1.', 'self-correction');
  }
  for (let i = 0; i < search; i++) push('Keep looking.', `go to drawer ${i + 1}`, `You arrive at drawer ${i + 1}. On the drawer ${i + 1}, you see nothing.`, 'routine');
  push('Check the countertop.', 'go to countertop 1', `You arrive at countertop 1. On the countertop 1, you see a ${object} 1 and a knife 1.`, 'routine');
  // As the built-in environments label it: the turn that notices the target is the critical observation.
  push(`I found the ${object}; take it.`, `take ${object} 1 from countertop 1`, `You pick up the ${object} 1 from the countertop 1.`, 'observation');
  push(`Now put it in the ${place}.`, `put ${object} 1 in/on ${place} 1`, `You put the ${object} 1 in/on the ${place} 1.`, 'action');
  return {
    version: 1,
    id,
    source: { format: 'synthetic' },
    env: 'household',
    instruction: `You are in the middle of a room. Your task is to: put a ${object} in ${place}. (${id})`,
    steps,
    selections: [],
    groundTruth: roles,
  };
}
