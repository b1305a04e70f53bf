// Household (ALFWorld-style) world data and layout generation: rooms of numbered
// receptacles, objects placed where such objects plausibly are, and the task goal.
import { Rng, hashSeed } from '../../data/rng.ts';
import type { Split } from '../types.ts';

export type RoomKind = 'kitchen' | 'livingroom' | 'bedroom' | 'bathroom';

export interface Receptacle {
  /** e.g. "cabinet 2" */
  id: string;
  type: string;
  openable: boolean;
  isOpen: boolean;
  /** Object ids, in the order the room lists them. */
  contents: string[];
}

export interface HouseObject {
  /** e.g. "apple 1" */
  id: string;
  cls: string;
  clean: boolean;
  hot: boolean;
  cool: boolean;
}

export type HouseTaskType = 'put' | 'clean' | 'heat' | 'cool' | 'examine' | 'puttwo';

export interface HouseGoal {
  type: HouseTaskType;
  /** Object class to act on, e.g. "apple". */
  cls: string;
  /** Destination receptacle type (not for examine). */
  dest?: string;
  /** Lamp class for examine: desklamp or floorlamp. */
  lamp?: string;
  /** The sentence after "Your task is to: ". */
  text: string;
}

export interface HouseWorld {
  kind: RoomKind;
  receptacles: Receptacle[];
  objects: Map<string, HouseObject>;
  goal: HouseGoal;
}

/** Receptacle types of each room: [type, min count, max count, openable]. */
const ROOMS: Record<RoomKind, [string, number, number, boolean][]> = {
  kitchen: [
    ['cabinet', 3, 6, true], ['coffeemachine', 1, 1, false], ['countertop', 1, 3, false], ['diningtable', 1, 2, false],
    ['drawer', 1, 4, true], ['fridge', 1, 1, true], ['garbagecan', 1, 1, false], ['microwave', 1, 1, true],
    ['shelf', 0, 2, false], ['sinkbasin', 1, 1, false], ['stoveburner', 2, 4, false], ['toaster', 1, 1, false],
  ],
  livingroom: [
    ['armchair', 1, 2, false], ['cabinet', 1, 3, true], ['coffeetable', 1, 2, false], ['drawer', 1, 3, true],
    ['floorlamp', 1, 1, false], ['garbagecan', 1, 1, false], ['shelf', 1, 3, false], ['sidetable', 1, 2, false],
    ['sofa', 1, 1, false], ['tvstand', 1, 1, false],
  ],
  bedroom: [
    ['bed', 1, 1, false], ['desk', 1, 1, false], ['drawer', 2, 5, true], ['dresser', 1, 1, false],
    ['garbagecan', 1, 1, false], ['shelf', 1, 4, false], ['sidetable', 1, 2, false],
  ],
  bathroom: [
    ['cabinet', 2, 4, true], ['countertop', 1, 1, false], ['drawer', 0, 2, true], ['garbagecan', 1, 1, false],
    ['handtowelholder', 1, 1, false], ['sinkbasin', 1, 2, false], ['toilet', 1, 1, false], ['towelholder', 1, 1, false],
  ],
};

/** Where each object class plausibly lies, most likely first. */
export const OBJECT_PLACES: Record<string, readonly string[]> = {
  apple: ['fridge', 'countertop', 'diningtable', 'garbagecan', 'sinkbasin'],
  bread: ['countertop', 'diningtable', 'fridge', 'cabinet'],
  egg: ['fridge', 'countertop', 'diningtable', 'garbagecan', 'sinkbasin'],
  lettuce: ['fridge', 'countertop', 'diningtable'],
  potato: ['fridge', 'countertop', 'diningtable', 'garbagecan', 'sinkbasin', 'stoveburner'],
  tomato: ['fridge', 'countertop', 'diningtable', 'garbagecan', 'sinkbasin'],
  mug: ['cabinet', 'countertop', 'coffeemachine', 'diningtable', 'sinkbasin', 'shelf'],
  cup: ['cabinet', 'countertop', 'diningtable', 'sinkbasin', 'fridge', 'shelf'],
  bowl: ['cabinet', 'countertop', 'diningtable', 'shelf', 'fridge'],
  plate: ['cabinet', 'countertop', 'diningtable', 'fridge', 'shelf'],
  pan: ['stoveburner', 'cabinet', 'countertop', 'sinkbasin'],
  pot: ['stoveburner', 'cabinet', 'countertop', 'diningtable'],
  knife: ['countertop', 'diningtable', 'drawer', 'sinkbasin'],
  fork: ['drawer', 'countertop', 'diningtable', 'sinkbasin'],
  spoon: ['drawer', 'countertop', 'diningtable', 'sinkbasin'],
  spatula: ['drawer', 'countertop', 'diningtable', 'sinkbasin'],
  saltshaker: ['cabinet', 'countertop', 'diningtable', 'shelf'],
  peppershaker: ['cabinet', 'countertop', 'diningtable', 'shelf'],
  dishsponge: ['sinkbasin', 'countertop', 'cabinet', 'drawer'],
  soapbar: ['sinkbasin', 'countertop', 'cabinet', 'toilet'],
  cloth: ['cabinet', 'countertop', 'drawer', 'sinkbasin', 'towelholder'],
  spraybottle: ['cabinet', 'countertop', 'toilet', 'garbagecan'],
  soapbottle: ['countertop', 'cabinet', 'toilet', 'shelf'],
  candle: ['cabinet', 'countertop', 'toilet', 'shelf'],
  toiletpaper: ['cabinet', 'toilet', 'countertop', 'garbagecan', 'drawer'],
  handtowel: ['handtowelholder', 'countertop', 'cabinet'],
  book: ['desk', 'shelf', 'bed', 'sidetable', 'drawer', 'dresser', 'coffeetable', 'sofa'],
  pen: ['desk', 'drawer', 'sidetable', 'shelf', 'dresser'],
  pencil: ['desk', 'drawer', 'sidetable', 'shelf', 'dresser'],
  cd: ['desk', 'drawer', 'shelf', 'sidetable', 'garbagecan'],
  cellphone: ['bed', 'desk', 'sidetable', 'dresser', 'drawer', 'sofa'],
  creditcard: ['desk', 'drawer', 'sidetable', 'dresser', 'coffeetable', 'shelf'],
  keychain: ['drawer', 'desk', 'sidetable', 'dresser', 'shelf', 'coffeetable'],
  alarmclock: ['desk', 'sidetable', 'dresser', 'shelf'],
  remotecontrol: ['coffeetable', 'sofa', 'armchair', 'tvstand', 'sidetable'],
  statue: ['shelf', 'coffeetable', 'sidetable', 'tvstand', 'dresser'],
  vase: ['shelf', 'coffeetable', 'sidetable', 'tvstand'],
  watch: ['drawer', 'sidetable', 'coffeetable', 'dresser', 'shelf'],
  pillow: ['bed', 'sofa', 'armchair'],
  newspaper: ['coffeetable', 'sofa', 'armchair', 'sidetable'],
};

/** Every object class a household room can hold (the targets and distractors). */
export const HOUSEHOLD_OBJECT_CLASSES: readonly string[] = Object.keys(OBJECT_PLACES);

const ROOM_OBJECTS: Record<RoomKind, readonly string[]> = {
  kitchen: ['apple', 'bread', 'egg', 'lettuce', 'potato', 'tomato', 'mug', 'cup', 'bowl', 'plate', 'pan', 'pot', 'knife', 'fork', 'spoon', 'spatula', 'saltshaker', 'peppershaker', 'dishsponge'],
  bathroom: ['soapbar', 'cloth', 'spraybottle', 'soapbottle', 'candle', 'toiletpaper', 'handtowel'],
  bedroom: ['book', 'pen', 'pencil', 'cd', 'cellphone', 'creditcard', 'keychain', 'alarmclock', 'pillow', 'watch'],
  livingroom: ['book', 'cellphone', 'creditcard', 'keychain', 'remotecontrol', 'statue', 'vase', 'watch', 'pillow', 'newspaper'],
};

const CLEANABLE = ['apple', 'egg', 'lettuce', 'potato', 'tomato', 'mug', 'cup', 'bowl', 'plate', 'pan', 'pot', 'knife', 'fork', 'spoon', 'spatula', 'soapbar', 'cloth', 'dishsponge'];
const HEATABLE = ['apple', 'bread', 'egg', 'potato', 'tomato', 'mug', 'cup', 'plate'];
const COOLABLE = ['apple', 'bread', 'egg', 'lettuce', 'potato', 'tomato', 'mug', 'cup', 'bowl', 'plate', 'pan', 'pot'];
const EXAMINABLE = ['book', 'pen', 'pencil', 'cd', 'cellphone', 'creditcard', 'keychain', 'alarmclock', 'watch', 'remotecontrol', 'statue', 'vase', 'newspaper'];
/** Receptacles that are appliances, never a "put … in" destination for clean/heat/cool. */
const NOT_DEST = new Set(['fridge', 'microwave', 'sinkbasin', 'garbagecan', 'coffeemachine', 'toaster', 'floorlamp']);

/** (task type, object class) combinations kept out of training: they appear only in held-out. */
export const HELD_OUT_COMBOS: Record<string, readonly string[]> = {
  put: ['keychain', 'spraybottle'],
  clean: ['plate', 'cloth'],
  heat: ['potato', 'cup'],
  cool: ['apple', 'pan'],
  examine: ['cd', 'watch'],
};

export const HOUSEHOLD_TASK_TYPES: Record<Split, readonly HouseTaskType[]> = {
  'held-in': ['put', 'clean', 'heat', 'cool', 'examine'],
  'held-out': ['put', 'clean', 'heat', 'cool', 'examine', 'puttwo'],
};

function candidateClasses(type: HouseTaskType, kind: RoomKind): string[] {
  const inRoom = ROOM_OBJECTS[kind];
  switch (type) {
    case 'clean': return inRoom.filter((c) => CLEANABLE.includes(c));
    case 'heat': return inRoom.filter((c) => HEATABLE.includes(c));
    case 'cool': return inRoom.filter((c) => COOLABLE.includes(c));
    case 'examine': return inRoom.filter((c) => EXAMINABLE.includes(c));
    default: return inRoom.slice();
  }
}

function roomsFor(type: HouseTaskType, split: Split): RoomKind[] {
  switch (type) {
    case 'clean': return ['kitchen', 'bathroom'];
    case 'heat': case 'cool': return ['kitchen'];
    // Examining under a floor lamp (living room) is an unseen combination: held-out only.
    case 'examine': return split === 'held-in' ? ['bedroom'] : ['bedroom', 'livingroom'];
    default: return ['kitchen', 'livingroom', 'bedroom', 'bathroom'];
  }
}

/** Is (type, class, room) allowed in the split? Held-out gets puttwo, the held-out object
 *  combos and the floor-lamp examine; held-in gets everything else. */
function inSplit(type: HouseTaskType, cls: string, kind: RoomKind, split: Split): boolean {
  const heldOut = type === 'puttwo' || (HELD_OUT_COMBOS[type] ?? []).includes(cls) || (type === 'examine' && kind === 'livingroom');
  return split === 'held-out' ? heldOut : !heldOut;
}

function goalText(type: HouseTaskType, cls: string, dest: string | undefined, lamp: string | undefined, rng: Rng): string {
  switch (type) {
    case 'put': return rng.pick([`put some ${cls} on ${dest}.`, `put a ${cls} in ${dest}.`, `find some ${cls} and put it in ${dest}.`]);
    case 'clean': return rng.pick([`put a clean ${cls} in ${dest}.`, `clean some ${cls} and put it in ${dest}.`]);
    case 'heat': return rng.pick([`heat some ${cls} and put it in ${dest}.`, `put a hot ${cls} in ${dest}.`]);
    case 'cool': return rng.pick([`cool some ${cls} and put it in ${dest}.`, `put a cool ${cls} in ${dest}.`]);
    case 'examine': return rng.pick([`look at ${cls} under the ${lamp}.`, `examine the ${cls} with the ${lamp}.`]);
    case 'puttwo': return rng.pick([`put two ${cls} in ${dest}.`, `find two ${cls} and put them in ${dest}.`]);
  }
}

/** Builds the world for (type, split, seed). Retries internally (with derived seeds) until
 *  the room admits a task of that type in that split. */
export function generateHouseWorld(type: HouseTaskType, split: Split, seed: number): HouseWorld {
  for (let attempt = 0; attempt < 200; attempt++) {
    const world = tryGenerate(type, split, new Rng(hashSeed(`household/${type}/${split}/${attempt}`, seed)));
    if (world) return world;
  }
  throw new Error(`household: could not generate a ${split} "${type}" task for seed ${seed}`);
}

function tryGenerate(type: HouseTaskType, split: Split, rng: Rng): HouseWorld | null {
  const kind = rng.pick(roomsFor(type, split));
  const receptacles: Receptacle[] = [];
  for (const [rtype, lo, hi, openable] of ROOMS[kind]) {
    const n = lo + rng.int(hi - lo + 1);
    for (let i = 1; i <= n; i++) receptacles.push({ id: `${rtype} ${i}`, type: rtype, openable, isOpen: false, contents: [] });
  }
  const presentTypes = new Set(receptacles.map((r) => r.type));
  if (type === 'clean' && !presentTypes.has('sinkbasin')) return null;

  const classes = candidateClasses(type, kind).filter((c) => inSplit(type, c, kind, split));
  if (classes.length === 0) return null;
  const cls = rng.pick(classes);
  const places = OBJECT_PLACES[cls].filter((p) => presentTypes.has(p));

  let dest: string | undefined;
  let lamp: string | undefined;
  if (type === 'examine') {
    lamp = kind === 'livingroom' ? 'floorlamp' : 'desklamp';
  } else {
    const dests = [...presentTypes].filter((t) => t !== 'floorlamp' && (type === 'put' || type === 'puttwo' || !NOT_DEST.has(t)));
    // The target must start somewhere other than the destination type.
    const options = dests.filter((d) => places.some((p) => p !== d));
    if (options.length === 0) return null;
    dest = rng.pick(options.sort());
  }
  const sources = places.filter((p) => p !== dest);
  if (sources.length === 0) return null;

  const objects = new Map<string, HouseObject>();
  const counters = new Map<string, number>();
  const place = (c: string, types: readonly string[]) => {
    const spots = receptacles.filter((r) => types.includes(r.type));
    if (spots.length === 0) return false;
    const n = (counters.get(c) ?? 0) + 1;
    counters.set(c, n);
    const id = `${c} ${n}`;
    objects.set(id, { id, cls: c, clean: false, hot: false, cool: false });
    rng.pick(spots).contents.push(id);
    return true;
  };

  // The target class: one instance (two or three for puttwo), never in a destination receptacle.
  const targetCount = type === 'puttwo' ? 2 + rng.int(2) : 1 + (rng.next() < 0.3 ? 1 : 0);
  for (let i = 0; i < targetCount; i++) place(cls, sources);
  if (type === 'examine' && lamp === 'desklamp') {
    const lampSpots = ['desk', 'sidetable', 'dresser'].filter((t) => presentTypes.has(t));
    place('desklamp', lampSpots);
  }
  // Distractors: other classes of the room, where they plausibly lie.
  const others = rng.sample(ROOM_OBJECTS[kind].filter((c) => c !== cls), 4 + rng.int(5));
  for (const c of others) {
    const n = 1 + rng.int(2);
    for (let i = 0; i < n; i++) place(c, OBJECT_PLACES[c].filter((p) => presentTypes.has(p)));
  }
  // Containers list their objects in a shuffled order; numbering stays per class.
  for (const r of receptacles) r.contents = rng.shuffle(r.contents);
  const text = goalText(type, cls, dest, lamp, rng);
  return { kind, receptacles, objects, goal: { type, cls, dest, lamp, text } };
}
