// The crafting environment's own recipe list (Minecraft-flavoured, not minecraft-data):
// base materials you can `get`, and items crafted from them in a tree up to four levels deep.

export interface Recipe {
  output: string;
  count: number;
  inputs: [string, number][];
}

export const BASE_ITEMS = [
  'oak log', 'birch log', 'cobblestone', 'iron ingot', 'gold ingot', 'redstone', 'coal', 'string',
  'feather', 'flint', 'leather', 'sugar cane', 'white wool', 'diamond', 'slime ball', 'carrot', 'sand', 'gunpowder',
] as const;

const R = (output: string, count: number, ...inputs: [string, number][]): Recipe => ({ output, count, inputs });

export const RECIPES: readonly Recipe[] = [
  R('oak planks', 4, ['oak log', 1]),
  R('birch planks', 4, ['birch log', 1]),
  R('stick', 4, ['oak planks', 2]),
  R('crafting table', 1, ['oak planks', 4]),
  R('chest', 1, ['oak planks', 8]),
  R('wooden pickaxe', 1, ['oak planks', 3], ['stick', 2]),
  R('wooden sword', 1, ['oak planks', 2], ['stick', 1]),
  R('stone pickaxe', 1, ['cobblestone', 3], ['stick', 2]),
  R('stone sword', 1, ['cobblestone', 2], ['stick', 1]),
  R('iron pickaxe', 1, ['iron ingot', 3], ['stick', 2]),
  R('iron sword', 1, ['iron ingot', 2], ['stick', 1]),
  R('diamond pickaxe', 1, ['diamond', 3], ['stick', 2]),
  R('torch', 4, ['coal', 1], ['stick', 1]),
  R('ladder', 3, ['stick', 7]),
  R('oak fence', 3, ['oak planks', 4], ['stick', 2]),
  R('oak door', 3, ['oak planks', 6]),
  R('oak sign', 3, ['oak planks', 6], ['stick', 1]),
  R('birch sign', 3, ['birch planks', 6], ['stick', 1]),
  R('birch boat', 1, ['birch planks', 5]),
  R('bowl', 4, ['oak planks', 3]),
  R('bow', 1, ['string', 3], ['stick', 3]),
  R('arrow', 4, ['flint', 1], ['stick', 1], ['feather', 1]),
  R('fishing rod', 1, ['stick', 3], ['string', 2]),
  R('carrot on a stick', 1, ['fishing rod', 1], ['carrot', 1]),
  R('paper', 3, ['sugar cane', 3]),
  R('book', 1, ['paper', 3], ['leather', 1]),
  R('bookshelf', 1, ['oak planks', 6], ['book', 3]),
  R('lever', 1, ['stick', 1], ['cobblestone', 1]),
  R('furnace', 1, ['cobblestone', 8]),
  R('cobblestone slab', 6, ['cobblestone', 3]),
  R('cobblestone stairs', 4, ['cobblestone', 6]),
  R('iron nugget', 9, ['iron ingot', 1]),
  R('lantern', 1, ['iron nugget', 8], ['torch', 1]),
  R('bucket', 1, ['iron ingot', 3]),
  R('shears', 1, ['iron ingot', 2]),
  R('iron bars', 16, ['iron ingot', 6]),
  R('compass', 1, ['iron ingot', 4], ['redstone', 1]),
  R('clock', 1, ['gold ingot', 4], ['redstone', 1]),
  R('tripwire hook', 2, ['iron ingot', 1], ['stick', 1], ['oak planks', 1]),
  R('crossbow', 1, ['stick', 3], ['string', 2], ['iron ingot', 1], ['tripwire hook', 1]),
  R('piston', 1, ['oak planks', 3], ['cobblestone', 4], ['iron ingot', 1], ['redstone', 1]),
  R('sticky piston', 1, ['piston', 1], ['slime ball', 1]),
  R('painting', 1, ['stick', 8], ['white wool', 1]),
  R('item frame', 1, ['stick', 8], ['leather', 1]),
  R('white bed', 1, ['white wool', 3], ['oak planks', 3]),
  R('jukebox', 1, ['oak planks', 8], ['diamond', 1]),
  R('note block', 1, ['oak planks', 8], ['redstone', 1]),
  R('glass', 1, ['sand', 1], ['coal', 1]),
  R('glass bottle', 3, ['glass', 3]),
  R('tnt', 1, ['gunpowder', 5], ['sand', 4]),
  R('dispenser', 1, ['cobblestone', 7], ['bow', 1], ['redstone', 1]),
  R('redstone torch', 1, ['redstone', 1], ['stick', 1]),
  R('repeater', 1, ['redstone torch', 2], ['redstone', 1], ['cobblestone', 3]),
  R('minecart', 1, ['iron ingot', 5]),
  R('rail', 16, ['iron ingot', 6], ['stick', 1]),
  R('campfire', 1, ['stick', 3], ['coal', 1], ['oak log', 3]),
];

export const RECIPE_BY_OUTPUT: ReadonlyMap<string, Recipe> = new Map(RECIPES.map((r) => [r.output, r]));
const BASE = new Set<string>(BASE_ITEMS);

export function isBase(item: string): boolean {
  return BASE.has(item);
}

/** Crafting depth: 0 for base items, 1 + the deepest input otherwise. */
export function depth(item: string): number {
  const r = RECIPE_BY_OUTPUT.get(item);
  if (!r) return 0;
  return 1 + Math.max(...r.inputs.map(([i]) => depth(i)));
}

/** The recipes in an item's crafting tree (each once), deepest inputs first. */
export function recipeTree(item: string, acc: Recipe[] = []): Recipe[] {
  const r = RECIPE_BY_OUTPUT.get(item);
  if (!r || acc.includes(r)) return acc;
  for (const [i] of r.inputs) recipeTree(i, acc);
  acc.push(r);
  return acc;
}

/** TextCraft's command text for a recipe: "craft 4 oak planks using 1 oak log". */
export function recipeCommand(r: Recipe, times = 1): string {
  return `craft ${r.count * times} ${r.output} using ${r.inputs.map(([i, n]) => `${n * times} ${i}`).join(', ')}`;
}

/** "minecraft:oak_planks", as TextCraft prints item ids. */
export function itemId(item: string): string {
  return `minecraft:${item.replace(/ /g, '_')}`;
}
