// The crafting expert: reads the goal's recipe from the shown commands, gets base materials
// and crafts bottom-up. Intermediate items with several ingredients and the goal itself are
// critical actions; fetching materials and one-ingredient conversions are routine.
import { Rng, hashSeed } from '../../data/rng.ts';
import type { StepRole } from '../../data/trajectory.ts';
import { maxMistakes, type Expert, type ExpertOptions, type TaskSpec } from '../types.ts';
import type { CraftingEnv } from './env.ts';
import { RECIPE_BY_OUTPUT, isBase, recipeCommand } from './recipes.ts';
import { ExpertTurns, expertFromScript, type ExpertScript } from '../expert-turns.ts';


export function createCraftingExpert(env: CraftingEnv, task: TaskSpec, opts: ExpertOptions = {}): Expert {
  const script = craftingScript(env, new Rng(hashSeed(`crafting-expert/${task.taskType}`, opts.seed ?? task.seed)), opts.mistakeRate ?? 0, maxMistakes(opts));
  return expertFromScript('crafting', script);
}

function* craftingScript(env: CraftingEnv, rng: Rng, mistakeRate: number, mistakeCap: number): ExpertScript {
  const goal = env.goal;
  const turns = new ExpertTurns(rng, mistakeRate, mistakeCap);
  // No mistake while the plan or a correction is still to be written.
  const maybeMistake = () => !turns.hasPending && turns.maybeMistake();
  const turn = (thought: string, action: string, role: StepRole) => turns.turn(thought, action, role);
  const have = (item: string) => env.inventory.get(item) ?? 0;
  const ingredients = (item: string) => RECIPE_BY_OUTPUT.get(item)!.inputs.map(([i, n]) => `${n} ${i}`).join(' and ');

  /** Makes sure `qty` of `item` are in the inventory. */
  function* ensure(item: string, qty: number, purpose: string): ExpertScript {
    if (have(item) >= qty) return;
    if (isBase(item)) {
      const n = qty - have(item);
      yield turn(rng.pick([`I need ${n} ${item} for ${purpose}. I get it.`, `To make ${purpose} I need ${n} ${item}.`, `Next I fetch ${n} ${item}.`]), `get ${n} ${item}`, 'routine');
      return;
    }
    const r = RECIPE_BY_OUTPUT.get(item)!;
    const times = Math.ceil((qty - have(item)) / r.count);
    if (maybeMistake()) {
      if (rng.next() < 0.5) {
        yield turn(`I need ${qty - have(item)} ${item}. I try to get it.`, `get ${qty - have(item)} ${item}`, 'routine');
        turns.prefixNext(`I could not get ${item}: it is not a base material, so I have to craft it from ${ingredients(item)}.`, 'self-correction');
      } else {
        yield turn(`Next I craft ${item}.`, recipeCommand(r, times), 'routine');
        turns.prefixNext(`I do not have the ingredients for ${item} yet. I need ${r.inputs.map(([i, n]) => `${n * times} ${i}`).join(' and ')} first.`, 'self-correction');
      }
    }
    // Crafting one input can use up another (sticks eat planks), so repeat until all are there.
    for (let round = 0; round < 4 && !r.inputs.every(([i, n]) => have(i) >= n * times); round++) {
      for (const [i, n] of r.inputs) yield* ensure(i, n * times, item);
    }
    const decisive = item === goal || r.inputs.length > 1;
    const thought = item === goal
      ? `I now have everything for ${goal}: ${r.inputs.map(([i, n]) => `${n * times} ${i}`).join(', ')}. I craft it.`
      : rng.pick([`I have the ingredients for ${item}. I craft it.`, `Now I can craft ${item} for ${purpose}.`, `I craft ${r.count * times} ${item}.`]);
    yield turn(thought, recipeCommand(r, times), decisive ? 'action' : 'routine');
  }

  const top = RECIPE_BY_OUTPUT.get(goal)!;
  const parts = top.inputs.map(([i, n]) => {
    if (isBase(i)) return `${n} ${i} (a base material I can get)`;
    return `${n} ${i} (crafted from ${ingredients(i)})`;
  });
  turns.prefixNext(`To craft ${goal}, I need ${parts.join(' and ')}. I will get the base materials and craft the intermediate items first, then craft ${goal}.`, 'plan');
  yield* ensure(goal, 1, goal);
}
