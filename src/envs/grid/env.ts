// The grid environment: low-level BabyAI actions and BabyAI-text style descriptions of
// what lies in the agent's 7×7 view (only inside its current room, plus that room's doors).
import type { Env, ResetResult, StepResult, TaskSpec } from '../types.ts';
import { normalizeAction } from '../text.ts';
import {
  DIR_VEC, cellKey, doorAt, generateGridWorld, isWall, objName, passable, roomOf,
  type GridObject, type GridTaskType, type GridWorld,
} from './world.ts';

export const GRID_STEP_LIMIT = 64;
const VIEW = 7;
const NOT_RECOGNIZED = 'The action is not recognized. Please check valid actions.';

export const GRID_COMMANDS = `You are placed in a grid world of rooms with doors, keys, balls and boxes. Each turn you are told what you see in front of you in the current room and what you carry.
Available actions:
turn left: turn 90 degrees to the left
turn right: turn 90 degrees to the right
move forward: step one cell forward (also "go forward")
pick up: pick up the object right in front of you (you can carry one object)
drop: drop the object you carry on the free cell in front of you
toggle: open or close the door right in front of you; a locked door opens only when you carry a key of its colour
Reply with exactly one action per turn.`;

export interface Sighting {
  name: string;
  x: number;
  y: number;
  /** Cells ahead (+) of the agent and to its right (+) / left (−). */
  forward: number;
  right: number;
}

export class GridEnv implements Env {
  readonly name = 'grid';
  readonly stepLimit = GRID_STEP_LIMIT;
  readonly invalidReply = NOT_RECOGNIZED;
  readonly commands = GRID_COMMANDS;
  private w!: GridWorld;
  carrying: GridObject | null = null;
  private count = 0;
  private finished = false;
  private succeeded = false;

  get steps(): number {
    return this.count;
  }
  get world(): GridWorld {
    return this.w;
  }

  reset(task: TaskSpec): ResetResult {
    this.w = generateGridWorld(task.taskType as GridTaskType, task.seed);
    this.carrying = null;
    this.count = 0;
    this.finished = false;
    this.succeeded = false;
    const observation = `Your goal: ${this.w.goal.text}\n${this.describe()}`;
    return { instruction: `${GRID_COMMANDS}\n\n${observation}`, observation, task: this.w.goal.text };
  }

  /** The cell in front of the agent. */
  front(): [number, number] {
    const { x, y, dir } = this.w.agent;
    return [x + DIR_VEC[dir][0], y + DIR_VEC[dir][1]];
  }

  /** Objects and doors in view, nearest first. A cell is in view when it lies in the 7×7
   *  square ahead of the agent and inside the agent's room (or is one of that room's doors). */
  sightings(): Sighting[] {
    const { x, y, dir, room } = this.w.agent;
    const [fx, fy] = DIR_VEC[dir];
    const [rx, ry] = DIR_VEC[(dir + 1) % 4];
    const r = this.w.rooms[room];
    const out: Sighting[] = [];
    for (let f = 0; f < VIEW; f++) {
      for (let s = -(VIEW >> 1); s <= VIEW >> 1; s++) {
        if (f === 0 && s === 0) continue;
        const cx = x + fx * f + rx * s;
        const cy = y + fy * f + ry * s;
        const door = doorAt(this.w, cx, cy);
        if (door && cx >= r.x0 - 1 && cx <= r.x1 + 1 && cy >= r.y0 && cy <= r.y1) {
          out.push({ name: `${door.color} ${door.state} door`, x: cx, y: cy, forward: f, right: s });
          continue;
        }
        const o = this.w.objects.get(cellKey(cx, cy));
        if (o && roomOf(this.w, cx, cy) === room) out.push({ name: objName(o), x: cx, y: cy, forward: f, right: s });
      }
    }
    return out.sort((a, b) => a.forward + Math.abs(a.right) - (b.forward + Math.abs(b.right)) || a.forward - b.forward || a.right - b.right);
  }

  describe(): string {
    const seen = this.sightings();
    let text: string;
    if (seen.length === 0) text = 'You cannot see any objects within sight.';
    else {
      const counts = new Map<string, number>();
      text = 'In front of you in this room, you can see several objects: ' + seen.map((s) => {
        const n = (counts.get(s.name) ?? 0) + 1;
        counts.set(s.name, n);
        const where = s.right === 0 ? `right in front of you ${s.forward} steps away.`
          : `${s.forward} steps in front of you and ${Math.abs(s.right)} steps to your ${s.right > 0 ? 'right' : 'left'}.`;
        return `There is a ${s.name} ${n} ${where}`;
      }).join(' ');
    }
    // Distance to the wall straight ahead (the first wall cell; doors and objects do not count).
    const { x, y, dir } = this.w.agent;
    let d = 1;
    while (!isWall(this.w, x + DIR_VEC[dir][0] * d, y + DIR_VEC[dir][1] * d) || doorAt(this.w, x + DIR_VEC[dir][0] * d, y + DIR_VEC[dir][1] * d)) d++;
    const carry = this.carrying ? `You are carrying a ${objName(this.carrying)}.` : 'You are not carrying anything.';
    return `${text} The room has walls around you. You are facing a wall ${d} steps away. ${carry}`;
  }

  step(action: string): StepResult {
    if (this.finished) throw new Error('grid: step() after the episode ended; call reset() first');
    this.count++;
    const { text, valid } = this.apply(normalizeAction(action));
    if (!this.succeeded) this.succeeded = this.goalReached();
    this.finished = this.succeeded || this.count >= this.stepLimit;
    const reward = this.succeeded ? 1 - 0.9 * (this.count / this.stepLimit) : 0;
    return { observation: text, done: this.finished, success: this.succeeded, reward, valid };
  }

  private apply(a: string): { text: string; valid: boolean } {
    const agent = this.w.agent;
    const [fx, fy] = this.front();
    const inFront = this.w.objects.get(cellKey(fx, fy));
    const door = doorAt(this.w, fx, fy);
    switch (a) {
      case 'turn left':
      case 'turn right':
        agent.dir = (agent.dir + (a === 'turn left' ? 3 : 1)) % 4;
        return { text: this.describe(), valid: true };
      case 'move forward':
      case 'go forward': {
        if (!passable(this.w, fx, fy)) return { text: "There is a barrier in front of you, you can't move forward.", valid: false };
        agent.x = fx;
        agent.y = fy;
        // On a door cell the agent looks into the room it is heading for.
        const room = roomOf(this.w, fx, fy);
        if (room >= 0) agent.room = room;
        else {
          const ahead = roomOf(this.w, fx + DIR_VEC[agent.dir][0], fy + DIR_VEC[agent.dir][1]);
          if (ahead >= 0) agent.room = ahead;
        }
        return { text: this.describe(), valid: true };
      }
      case 'pick up': {
        if (!inFront || this.carrying) return { text: 'You cannot pick up anything here.', valid: false };
        this.carrying = inFront;
        this.w.objects.delete(cellKey(fx, fy));
        return { text: `You pick up the ${objName(inFront)}. ${this.describe()}`, valid: true };
      }
      case 'drop': {
        if (!this.carrying || !passable(this.w, fx, fy) || door) return { text: 'You cannot drop anything here.', valid: false };
        const o = this.carrying;
        this.w.objects.set(cellKey(fx, fy), o);
        this.carrying = null;
        return { text: `You drop the ${objName(o)}. ${this.describe()}`, valid: true };
      }
      case 'toggle': {
        if (!door) return { text: 'There is nothing to toggle in front of you.', valid: false };
        const name = `${door.color} door`;
        if (door.state === 'locked') {
          if (this.carrying?.type === 'key' && this.carrying.color === door.color) {
            door.state = 'open';
            return { text: `You unlock the ${name} with the ${objName(this.carrying)} and open it. ${this.describe()}`, valid: true };
          }
          return { text: `The ${name} is locked. You need a ${door.color} key to unlock it.`, valid: false };
        }
        door.state = door.state === 'open' ? 'closed' : 'open';
        return { text: `You ${door.state === 'open' ? 'open' : 'close'} the ${name}. ${this.describe()}`, valid: true };
      }
      default:
        return { text: NOT_RECOGNIZED, valid: false };
    }
  }

  private goalReached(): boolean {
    const g = this.w.goal;
    switch (g.type) {
      case 'goto': {
        const [fx, fy] = this.front();
        return this.w.objects.get(cellKey(fx, fy)) === g.object;
      }
      case 'pickup':
      case 'pickup-beyond-door':
        return this.carrying === g.object;
      case 'open':
      case 'unlock':
        return this.w.door!.state === 'open';
    }
  }

  /** The actions that would do something now (BabyAI itself accepts all six at any time). */
  validActions(): string[] {
    const [fx, fy] = this.front();
    const door = doorAt(this.w, fx, fy);
    const acts = ['turn left', 'turn right'];
    if (passable(this.w, fx, fy)) acts.push('move forward');
    if (!this.carrying && this.w.objects.has(cellKey(fx, fy))) acts.push('pick up');
    if (this.carrying && passable(this.w, fx, fy) && !door) acts.push('drop');
    if (door && (door.state !== 'locked' || (this.carrying?.type === 'key' && this.carrying.color === door.color))) acts.push('toggle');
    return acts;
  }
}
