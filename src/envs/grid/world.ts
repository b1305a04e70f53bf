// Grid (BabyAI-style) world: one or two rooms of floor cells inside walls, a door between
// the rooms (closed, maybe locked), coloured keys/balls/boxes, an agent with a heading.
import { Rng, hashSeed } from '../../data/rng.ts';
import type { Split } from '../types.ts';

export type GridTaskType = 'goto' | 'pickup' | 'open' | 'unlock' | 'pickup-beyond-door';
export const GRID_TASK_TYPES: Record<Split, readonly GridTaskType[]> = {
  'held-in': ['goto', 'pickup', 'open'],
  'held-out': ['unlock', 'pickup-beyond-door'],
};

export const COLORS = ['red', 'green', 'blue', 'purple', 'yellow', 'grey'] as const;
export type ObjType = 'key' | 'ball' | 'box';
export interface GridObject { type: ObjType; color: string }
export interface Door { x: number; y: number; color: string; state: 'open' | 'closed' | 'locked' }
export interface Room { x0: number; y0: number; x1: number; y1: number }

/** Directions as in MiniGrid: 0 east, 1 south, 2 west, 3 north. */
export const DIR_VEC: readonly [number, number][] = [[1, 0], [0, 1], [-1, 0], [0, -1]];

export interface GridGoal {
  type: GridTaskType;
  /** Target object (goto, pickup, pickup-beyond-door). */
  object?: GridObject;
  /** The instruction, BabyAI style: "go to the red ball". */
  text: string;
}

export interface GridWorld {
  width: number;
  height: number;
  rooms: Room[];
  door: Door | null;
  /** Objects by cell key "x,y". */
  objects: Map<string, GridObject>;
  agent: { x: number; y: number; dir: number; room: number };
  goal: GridGoal;
}

export const cellKey = (x: number, y: number) => `${x},${y}`;
export const objName = (o: GridObject) => `${o.color} ${o.type}`;

export function roomOf(w: GridWorld, x: number, y: number): number {
  return w.rooms.findIndex((r) => x >= r.x0 && x <= r.x1 && y >= r.y0 && y <= r.y1);
}

export function isWall(w: GridWorld, x: number, y: number): boolean {
  if (x < 0 || y < 0 || x >= w.width || y >= w.height) return true;
  if (w.door && w.door.x === x && w.door.y === y) return false;
  return roomOf(w, x, y) < 0;
}

export function doorAt(w: GridWorld, x: number, y: number): Door | null {
  return w.door && w.door.x === x && w.door.y === y ? w.door : null;
}

/** Can the agent stand on (x, y)? Floor without an object, or an open door. */
export function passable(w: GridWorld, x: number, y: number): boolean {
  if (isWall(w, x, y)) return false;
  const d = doorAt(w, x, y);
  if (d) return d.state === 'open';
  return !w.objects.has(cellKey(x, y));
}

export function generateGridWorld(type: GridTaskType, seed: number): GridWorld {
  for (let attempt = 0; attempt < 200; attempt++) {
    const w = tryGenerate(type, new Rng(hashSeed(`grid/${type}/${attempt}`, seed)));
    if (w && connected(w)) return w;
  }
  throw new Error(`grid: could not generate a "${type}" task for seed ${seed}`);
}

function tryGenerate(type: GridTaskType, rng: Rng): GridWorld | null {
  const twoRooms = type === 'open' || type === 'unlock' || type === 'pickup-beyond-door' || rng.next() < 0.3;
  const h = 5 + rng.int(3);
  const wl = 4 + rng.int(3);
  const rooms: Room[] = [{ x0: 1, y0: 1, x1: wl, y1: h }];
  let door: Door | null = null;
  let width = wl + 2;
  if (twoRooms) {
    const wr = 4 + rng.int(3);
    rooms.push({ x0: wl + 2, y0: 1, x1: wl + 1 + wr, y1: h });
    width = wl + wr + 3;
    const state = type === 'unlock' ? 'locked' : type === 'open' || type === 'pickup-beyond-door' || rng.next() < 0.5 ? 'closed' : 'open';
    door = { x: wl + 1, y: 1 + rng.int(h), color: rng.pick(COLORS), state };
  }
  const w: GridWorld = { width, height: h + 2, rooms, door, objects: new Map(), agent: { x: 0, y: 0, dir: 0, room: 0 }, goal: { type, text: '' } };

  const used = new Set<string>();
  const free = (room: number) => {
    const r = rooms[room];
    const cells: [number, number][] = [];
    for (let y = r.y0; y <= r.y1; y++) for (let x = r.x0; x <= r.x1; x++) {
      // Keep the cells beside the door clear so the door can always be reached and passed.
      const nearDoor = door && Math.abs(x - door.x) === 1 && y === door.y;
      if (!w.objects.has(cellKey(x, y)) && !nearDoor) cells.push([x, y]);
    }
    return cells;
  };
  const place = (o: GridObject, room: number) => {
    const [x, y] = rng.pick(free(room));
    w.objects.set(cellKey(x, y), o);
    used.add(objName(o));
  };
  const fresh = (types: readonly ObjType[]): GridObject => {
    for (;;) {
      const o = { type: rng.pick(types), color: rng.pick(COLORS) };
      if (!used.has(objName(o)) && !(door && o.type === 'key' && o.color === door.color)) return o;
    }
  };

  const agentRoom = rng.int(rooms.length);
  let target: GridObject | undefined;
  if (type === 'goto' || type === 'pickup') {
    target = fresh(type === 'goto' ? ['ball', 'box', 'key'] : ['ball', 'key']);
    place(target, agentRoom);
  } else if (type === 'pickup-beyond-door') {
    target = fresh(['ball', 'key']);
    place(target, 1 - agentRoom);
  } else if (type === 'unlock') {
    const key = { type: 'key' as const, color: door!.color };
    w.objects.set(cellKey(...rng.pick(free(agentRoom))), key);
    used.add(objName(key));
  }
  const distractors = 2 + rng.int(3);
  for (let i = 0; i < distractors; i++) {
    const room = rng.int(rooms.length);
    const o = fresh(['ball', 'box', 'key']);
    // The target's name must stay unique, so never add a second object of its colour and type.
    if (target && objName(o) === objName(target)) continue;
    place(o, room);
  }
  const spots = free(agentRoom);
  const [ax, ay] = rng.pick(spots);
  w.agent = { x: ax, y: ay, dir: rng.int(4), room: agentRoom };

  const doorName = door ? `${door.color} door` : '';
  switch (type) {
    case 'goto': w.goal = { type, object: target, text: `go to the ${objName(target!)}` }; break;
    case 'pickup': case 'pickup-beyond-door': w.goal = { type, object: target, text: `pick up the ${objName(target!)}` }; break;
    case 'open': case 'unlock': w.goal = { type, text: `open the ${doorName}` }; break;
  }
  // A go-to or pick-up task whose target is (almost) within reach at the start is no task.
  if (target && (type === 'goto' || type === 'pickup')) {
    const at = [...w.objects].find(([, o]) => o === target)![0].split(',').map(Number);
    if (Math.abs(at[0] - ax) + Math.abs(at[1] - ay) <= 2) return null;
  }
  return w;
}

/** Every floor cell without an object is reachable from the agent (doors count as open), and
 *  so is a cell beside every object. */
function connected(w: GridWorld): boolean {
  const ok = (x: number, y: number) => !isWall(w, x, y) && !w.objects.has(cellKey(x, y));
  const seen = new Set([cellKey(w.agent.x, w.agent.y)]);
  const queue: [number, number][] = [[w.agent.x, w.agent.y]];
  while (queue.length) {
    const [x, y] = queue.shift()!;
    for (const [dx, dy] of DIR_VEC) {
      const k = cellKey(x + dx, y + dy);
      if (!seen.has(k) && ok(x + dx, y + dy)) {
        seen.add(k);
        queue.push([x + dx, y + dy]);
      }
    }
  }
  for (let y = 0; y < w.height; y++) for (let x = 0; x < w.width; x++) if (ok(x, y) && !seen.has(cellKey(x, y))) return false;
  // Every object must be reachable: some free neighbour to stand on while facing it.
  for (const k of w.objects.keys()) {
    const [x, y] = k.split(',').map(Number);
    if (!DIR_VEC.some(([dx, dy]) => seen.has(cellKey(x + dx, y + dy)))) return false;
  }
  return true;
}
