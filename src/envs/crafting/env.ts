// The crafting environment: TextCraft's commands and replies over this project's recipe list.
import { Rng, hashSeed } from '../../data/rng.ts';
import type { Env, ResetResult, StepResult, TaskSpec } from '../types.ts';
import { normalizeAction } from '../text.ts';
import { RECIPES, RECIPE_BY_OUTPUT, depth, isBase, itemId, recipeCommand, recipeTree, type Recipe } from './recipes.ts';

export const CRAFTING_STEP_LIMIT = 40;
const MAX_DISTRACTORS = 10;

export type CraftTaskType = 'shallow' | 'deep';
/** Goals by task type: shallow = one or two crafting levels, deep = three or four. */
export const CRAFT_GOALS: Record<CraftTaskType, readonly string[]> = {
  shallow: RECIPES.filter((r) => depth(r.output) <= 2).map((r) => r.output),
  deep: RECIPES.filter((r) => depth(r.output) >= 3).map((r) => r.output),
};

export const CRAFTING_COMMANDS = `You are given few useful crafting recipes to craft items in Minecraft. Crafting commands are of the format "craft [target object] using [input ingredients]".
You can either "get" an object (ingredients) from the environment with "get [count] [object]", or "craft" (target object) using any of the crafting commands, or check what you have with "inventory".
You can use ONLY these crafting commands provided, do not use your own crafting commands. Only base materials can be fetched with "get"; everything else has to be crafted.
Reply with exactly one command per turn.`;

export class CraftingEnv implements Env {
  readonly name = 'crafting';
  readonly stepLimit = CRAFTING_STEP_LIMIT;
  readonly invalidReply = 'Could not execute the command.';
  readonly commands = CRAFTING_COMMANDS;
  goal = '';
  /** The recipes shown to the agent (the goal's tree plus distractors), in the order shown. */
  shown: Recipe[] = [];
  inventory = new Map<string, number>();
  private count = 0;
  private finished = false;
  private succeeded = false;

  get steps(): number {
    return this.count;
  }

  reset(task: TaskSpec): ResetResult {
    const rng = new Rng(hashSeed(`crafting/${task.taskType}`, task.seed));
    const goals = CRAFT_GOALS[task.taskType as CraftTaskType];
    if (!goals) throw new Error(`crafting: unknown task type "${task.taskType}" (expected shallow or deep)`);
    this.goal = rng.pick(goals);
    const tree = recipeTree(this.goal);
    const distractors = rng.sample(RECIPES.filter((r) => !tree.includes(r)), MAX_DISTRACTORS);
    this.shown = rng.shuffle([...tree, ...distractors]);
    this.inventory = new Map();
    this.count = 0;
    this.finished = false;
    this.succeeded = false;
    const observation = `Crafting commands:\n${this.shown.map((r) => recipeCommand(r)).join('\n')}\n\nGoal: craft ${this.goal}.`;
    return { instruction: `${CRAFTING_COMMANDS}\n\n${observation}`, observation, task: `craft ${this.goal}` };
  }

  step(action: string): StepResult {
    if (this.finished) throw new Error('crafting: step() after the episode ended; call reset() first');
    this.count++;
    const { text, valid } = this.apply(normalizeAction(action));
    this.finished = this.succeeded || this.count >= this.stepLimit;
    return { observation: text, done: this.finished, success: this.succeeded, reward: this.succeeded ? 1 : 0, valid };
  }

  private has(item: string, n: number): boolean {
    return (this.inventory.get(item) ?? 0) >= n;
  }
  private add(item: string, n: number): void {
    this.inventory.set(item, (this.inventory.get(item) ?? 0) + n);
    if (item === this.goal) this.succeeded = true;
  }

  private apply(a: string): { text: string; valid: boolean } {
    let m: RegExpExecArray | null;
    if ((m = /^craft (.+?) using (.+)$/.exec(a))) {
      const out = /^(\d+) (.+)$/.exec(m[1].trim());
      const outItem = out ? out[2] : m[1].trim();
      const outCount = out ? Number(out[1]) : 1;
      const inputs: [string, number][] = [];
      for (const part of m[2].split(',')) {
        const im = /^(\d+) (.+)$/.exec(part.trim());
        if (!im) return { text: `Wrong item format: ${part.trim()}`, valid: false };
        inputs.push([im[2], Number(im[1])]);
      }
      if (!inputs.every(([i, n]) => this.has(i, n))) return { text: `Could not find enough items to craft ${itemId(outItem)}`, valid: false };
      const r = RECIPE_BY_OUTPUT.get(outItem);
      const times = r ? outCount / r.count : 0;
      const matches = r && Number.isInteger(times) && times > 0 && inputs.length === r.inputs.length &&
        r.inputs.every(([i, n]) => inputs.some(([j, k]) => j === i && k === n * times));
      if (!matches) return { text: `Could not find a valid recipe for ${outCount} ${itemId(outItem)}`, valid: false };
      for (const [i, n] of inputs) {
        const left = this.inventory.get(i)! - n;
        if (left === 0) this.inventory.delete(i);
        else this.inventory.set(i, left);
      }
      this.add(outItem, outCount);
      return { text: `Crafted ${outCount} ${itemId(outItem)}`, valid: true };
    }
    if ((m = /^get (\d+) (.+)$/.exec(a))) {
      const n = Number(m[1]);
      if (!isBase(m[2]) || n <= 0) return { text: `Could not find ${m[2]}`, valid: false };
      this.add(m[2], n);
      return { text: `Got ${n} ${m[2]}`, valid: true };
    }
    if (a === 'inventory') {
      if (this.inventory.size === 0) return { text: 'Inventory: You are not carrying anything.', valid: true };
      return { text: `Inventory: ${[...this.inventory].map(([i, n]) => `[${i}] (${n})`).join(' ')}`, valid: true };
    }
    return { text: a === '' ? this.invalidReply : `Could not execute ${a}`, valid: false };
  }

  /** Inventory, getting one of each base material the shown recipes use, and the shown
   *  recipes the inventory can pay for now. */
  validActions(): string[] {
    const bases = new Set<string>();
    for (const r of this.shown) for (const [i] of r.inputs) if (isBase(i)) bases.add(i);
    const craftable = this.shown.filter((r) => r.inputs.every(([i, n]) => this.has(i, n)));
    return ['inventory', ...[...bases].sort().map((b) => `get 1 ${b}`), ...craftable.map((r) => recipeCommand(r))];
  }
}
