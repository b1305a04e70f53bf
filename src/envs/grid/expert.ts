// The grid expert: looks around until the thing it needs is in view, walks there by the
// shortest path (BFS over position × heading), and picks up / toggles. Thoughts read like a
// BabyAI ReAct agent; each turn records its ground-truth role.
import { Rng, hashSeed } from '../../data/rng.ts';
import type { StepRole } from '../../data/trajectory.ts';
import { maxMistakes, type Expert, type ExpertOptions, type ExpertTurn, type TaskSpec } from '../types.ts';
import type { GridEnv, Sighting } from './env.ts';
import { DIR_VEC, objName, passable } from './world.ts';
import { ExpertTurns, expertFromScript, type ExpertScript } from '../expert-turns.ts';

type Move = 'turn left' | 'turn right' | 'move forward';

export function createGridExpert(env: GridEnv, task: TaskSpec, opts: ExpertOptions = {}): Expert {
  const script = gridScript(env, new Rng(hashSeed(`grid-expert/${task.taskType}`, opts.seed ?? task.seed)), opts.mistakeRate ?? 0, maxMistakes(opts), opts.style === 'explorer');
  return expertFromScript('grid', script);
}

/** Shortest action sequence until the agent faces (x, y) — or stands on it with `arrive`. */
export function planPath(env: GridEnv, tx: number, ty: number, arrive = false): Move[] | null {
  const w = env.world;
  const start = { x: w.agent.x, y: w.agent.y, dir: w.agent.dir };
  const key = (s: typeof start) => `${s.x},${s.y},${s.dir}`;
  const prev = new Map<string, [string, Move] | null>([[key(start), null]]);
  const queue = [start];
  while (queue.length) {
    const s = queue.shift()!;
    const [dx, dy] = DIR_VEC[s.dir];
    const done = arrive ? s.x === tx && s.y === ty : s.x + dx === tx && s.y + dy === ty;
    if (done) {
      const path: Move[] = [];
      for (let k = key(s); prev.get(k); k = prev.get(k)![0]) path.unshift(prev.get(k)![1]);
      return path;
    }
    const nexts: [typeof start, Move][] = [
      [{ x: s.x + dx, y: s.y + dy, dir: s.dir }, 'move forward'],
      [{ x: s.x, y: s.y, dir: (s.dir + 3) % 4 }, 'turn left'],
      [{ x: s.x, y: s.y, dir: (s.dir + 1) % 4 }, 'turn right'],
    ];
    for (const [n, m] of nexts) {
      if (m === 'move forward' && !passable(w, n.x, n.y)) continue;
      const k = key(n);
      if (prev.has(k)) continue;
      prev.set(k, [key(s), m]);
      queue.push(n);
    }
  }
  return null;
}

function* gridScript(env: GridEnv, rng: Rng, mistakeRate: number, mistakeCap: number, explorer: boolean): ExpertScript {
  const w = env.world;
  const g = w.goal;
  const turns = new ExpertTurns(rng, mistakeRate, mistakeCap);
  const maybeMistake = () => turns.maybeMistake();
  const turn = (thought: string, action: string, role: StepRole) => turns.turn(thought, action, role);
  const side = (s: Sighting) => (s.right > 0 ? 'right' : 'left');
  const where = (s: Sighting) =>
    s.right === 0 ? `${s.forward} steps right in front of me`
      : s.forward === 0 ? `${Math.abs(s.right)} steps to my ${side(s)}`
        : `${s.forward} steps ahead and ${Math.abs(s.right)} to my ${side(s)}`;
  const sees = (pred: (s: Sighting) => boolean) => env.sightings().find(pred) ?? null;

  /** Turns on the spot (then from the room's centre) until `pred` is in view. Returns the
   *  sighting, or null when the whole room has been seen without it. */
  function* lookFor(label: string, pred: (s: Sighting) => boolean): Generator<ExpertTurn, Sighting | null, string> {
    let s = sees(pred);
    if (s) return s;
    for (let i = 0; i < 3; i++) {
      yield turn(rng.pick([`I don't see the ${label} yet. Let me turn to look around.`, `No ${label} in view. I turn to check the rest of the room.`]), 'turn right', 'routine');
      if ((s = sees(pred))) return s;
    }
    const r = w.rooms[w.agent.room];
    const cx = Math.floor((r.x0 + r.x1) / 2);
    const cy = Math.floor((r.y0 + r.y1) / 2);
    const centre = [[cx, cy], [cx + 1, cy], [cx, cy + 1], [cx - 1, cy], [cx, cy - 1]].find(([x, y]) => passable(w, x, y) && !(x === w.agent.x && y === w.agent.y));
    if (centre) {
      for (;;) {
        const path = planPath(env, centre[0], centre[1], true);
        if (!path || path.length === 0) break;
        yield turn(`The ${label} is not in view from here. I walk to the middle of the room to see more.`, path[0], 'routine');
        if ((s = sees(pred))) return s;
      }
      for (let i = 0; i < 4; i++) {
        yield turn(`Still no ${label}. I keep turning to scan the room.`, 'turn left', 'routine');
        if ((s = sees(pred))) return s;
      }
    }
    return null;
  }

  /** Walks until facing (x, y). With a mistake chance, acts one cell too early and then fixes it. */
  function* approach(label: string, x: number, y: number, finalAction: string, firstThought: string, firstRole: StepRole): ExpertScript {
    let thought = firstThought;
    let role = firstRole;
    for (;;) {
      const path = planPath(env, x, y);
      if (!path) throw new Error(`grid expert: no path to the ${label}`);
      if (path.length === 0) return;
      if (path.length === 1 && path[0] === 'move forward' && finalAction !== 'move forward' && role === 'routine' && maybeMistake()) {
        yield turn(`The ${label} is just ahead. I ${finalAction} now.`, finalAction, 'routine');
        thought = `That did not work: the ${label} is still 2 steps away, not right in front of me. I move one step closer first.`;
        role = 'self-correction';
      }
      yield turn(thought, path[0], role);
      thought = rng.pick([`I keep moving toward the ${label}.`, `Heading to the ${label}.`, `The ${label} is ${path.length - 1} moves away.`]);
      role = 'routine';
    }
  }

  const targetName = g.object ? objName(g.object) : '';
  const doorLabel = w.door ? `${w.door.color} door` : '';
  const plans: Record<string, string> = {
    goto: `My goal is to go to the ${targetName}. I need to find it and walk up until it is right in front of me.`,
    pickup: `My goal is to pick up the ${targetName}. I need to find it, walk up to it and pick it up.`,
    'pickup-beyond-door': `My goal is to pick up the ${targetName}. I need to find it, walk up to it and pick it up.`,
    open: `My goal is to open the ${doorLabel}. I need to find the door, walk up to it and toggle it.`,
    unlock: `My goal is to open the ${doorLabel}. I need to find the door, walk up to it and toggle it.`,
  };
  turns.prefixNext(plans[g.type], 'plan');
  // The explorer looks all around before it decides anything (four turns back to its heading).
  if (explorer) for (let i = 0; i < 4; i++) yield turn('I turn to look all around the room before I move.', 'turn right', 'routine');

  /** Finds a named thing in the current room; the turn after it first comes into view is the critical observation. */
  function* findAndFace(label: string, pred: (s: Sighting) => boolean, finalAction: string, interpret: (s: Sighting) => string): Generator<ExpertTurn, boolean, string> {
    const s = yield* lookFor(label, pred);
    if (!s) return false;
    yield* approach(label, s.x, s.y, finalAction, interpret(s), 'observation');
    return true;
  }

  if (g.type === 'goto' || g.type === 'pickup' || g.type === 'pickup-beyond-door') {
    const isTarget = (s: Sighting) => s.name === targetName;
    const final = g.type === 'goto' ? '' : 'pick up';
    let found = yield* findAndFace(targetName, isTarget, final || 'move forward', (s) => `I see the ${targetName} ${where(s)}. I go to it.`);
    if (!found) {
      // Not in this room: it must be behind the door.
      const door = w.door!;
      const doorSeen = yield* lookFor(doorLabel, (s) => s.x === door.x && s.y === door.y);
      if (!doorSeen) throw new Error('grid expert: no door in view');
      yield* approach(doorLabel, door.x, door.y, 'toggle', `The ${targetName} is not in this room, so it must be behind the ${doorLabel}. I go to the door.`, 'observation');
      if (door.state !== 'open') yield turn(`I am facing the ${doorLabel}. I open it.`, 'toggle', 'action');
      yield turn(`The door is open. I step into the doorway to look into the next room.`, 'move forward', 'routine');
      found = yield* findAndFace(targetName, isTarget, final || 'move forward', (s) => `Now I see the ${targetName} ${where(s)} in this room. I go to it.`);
      if (!found) throw new Error(`grid expert: the ${targetName} is nowhere`);
    }
    if (g.type !== 'goto') yield turn(`The ${targetName} is right in front of me. I pick it up.`, 'pick up', 'action');
    return;
  }

  // open / unlock: find the door first.
  const door = w.door!;
  const isDoor = (s: Sighting) => s.x === door.x && s.y === door.y;
  const doorSight = yield* lookFor(doorLabel, isDoor);
  if (!doorSight) throw new Error('grid expert: the door is not in this room');
  if (door.state === 'locked') {
    const keyName = `${door.color} key`;
    const sight = sees((s) => s.name === keyName);
    let keyThought = `The ${doorLabel} ${where(doorSight)} is locked. To open it I need the ${keyName}; I see it ${sight ? where(sight) : ''}. I go to the key.`;
    let keyRole: StepRole = 'observation';
    let keyAt = sight;
    if (!keyAt) {
      yield turn(`The ${doorLabel} ${where(doorSight)} is locked. To open it I first need the ${keyName}. Let me look for it.`, 'turn right', 'observation');
      keyAt = yield* lookFor(keyName, (s) => s.name === keyName);
      if (!keyAt) throw new Error(`grid expert: no ${keyName} in the room`);
      keyThought = `I see the ${keyName} ${where(keyAt)}. I go to it.`;
      keyRole = 'observation';
    }
    yield* approach(keyName, keyAt.x, keyAt.y, 'pick up', keyThought, keyRole);
    yield turn(`The ${keyName} is right in front of me. I pick it up.`, 'pick up', 'action');
    yield* approach(doorLabel, door.x, door.y, 'toggle', `I carry the ${keyName} now. I go back to the ${doorLabel}.`, 'routine');
    yield turn(`I am facing the locked ${doorLabel} with the ${keyName}. I toggle it to unlock and open it.`, 'toggle', 'action');
    return;
  }
  yield* approach(doorLabel, door.x, door.y, 'toggle', `I see the ${doorLabel} ${where(doorSight)}. I go to it.`, 'observation');
  yield turn(`I am facing the ${doorLabel}. I toggle it to open it.`, 'toggle', 'action');
}
