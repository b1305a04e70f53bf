// The household environment: ALFWorld's command language and replies over a generated room.
import type { Env, ResetResult, StepResult, TaskSpec } from '../types.ts';
import { aList, normalizeAction } from '../text.ts';
import { generateHouseWorld, type HouseTaskType, type HouseWorld, type Receptacle } from './world.ts';

export const HOUSEHOLD_STEP_LIMIT = 50;

export const HOUSEHOLD_COMMANDS = `Interact with a household to solve a task. Here are the available commands:
look: look around your current location
inventory: check your current inventory
go to (receptacle): move to a receptacle
open (receptacle): open a receptacle
close (receptacle): close a receptacle
take (object) from (receptacle): take an object from a receptacle
put (object) in/on (receptacle): put an object in or on a receptacle
clean (object) with (receptacle): clean an object with a receptacle
heat (object) with (receptacle): heat an object with a receptacle
cool (object) with (receptacle): cool an object with a receptacle
use (object): use an object
examine (something): examine a receptacle or an object
Reply with exactly one command per turn. If a command cannot be carried out, the reply is "Nothing happens."`;

const NOTHING = 'Nothing happens.';
const NAME = '([a-z]+ \\d+)';
const PATTERNS: [RegExp, string][] = [
  [new RegExp(`^go to ${NAME}$`), 'goto'],
  [new RegExp(`^open ${NAME}$`), 'open'],
  [new RegExp(`^close ${NAME}$`), 'close'],
  [new RegExp(`^take ${NAME} from ${NAME}$`), 'take'],
  [new RegExp(`^put ${NAME} in/on ${NAME}$`), 'put'],
  [new RegExp(`^(clean|heat|cool) ${NAME} with ${NAME}$`), 'process'],
  [new RegExp(`^use ${NAME}$`), 'use'],
  [new RegExp(`^examine ${NAME}$`), 'examine'],
  [/^inventory$/, 'inventory'],
  [/^look$/, 'look'],
];
const APPLIANCE: Record<string, string> = { clean: 'sinkbasin', heat: 'microwave', cool: 'fridge' };

export class HouseholdEnv implements Env {
  readonly name = 'household';
  readonly stepLimit = HOUSEHOLD_STEP_LIMIT;
  readonly invalidReply = NOTHING;
  readonly commands = HOUSEHOLD_COMMANDS;
  private w!: HouseWorld;
  private byId = new Map<string, Receptacle>();
  /** Current receptacle id, or null in the middle of the room. */
  location: string | null = null;
  holding: string | null = null;
  private lampOnAt: string | null = null;
  private count = 0;
  private finished = false;
  private succeeded = false;

  get steps(): number {
    return this.count;
  }
  /** The generated world (read by the expert and tests). */
  get world(): HouseWorld {
    return this.w;
  }

  reset(task: TaskSpec): ResetResult {
    this.w = generateHouseWorld(task.taskType as HouseTaskType, task.split, task.seed);
    this.byId = new Map(this.w.receptacles.map((r) => [r.id, r]));
    this.location = null;
    this.holding = null;
    this.lampOnAt = null;
    this.count = 0;
    this.finished = false;
    this.succeeded = false;
    const observation = `You are in the middle of a room. Looking quickly around you, you see ${aList(this.roomListing())}.`;
    const taskLine = `Your task is to: ${this.w.goal.text}`;
    return { instruction: `${HOUSEHOLD_COMMANDS}\n\n${observation}\n${taskLine}`, observation: `${observation}\n${taskLine}`, task: this.w.goal.text };
  }

  /** Receptacles as the room lists them: by type name, highest number first (ALFWorld's order). */
  roomListing(): string[] {
    return this.w.receptacles
      .slice()
      .sort((a, b) => (a.type === b.type ? Number(b.id.split(' ')[1]) - Number(a.id.split(' ')[1]) : a.type < b.type ? -1 : 1))
      .map((r) => r.id);
  }

  receptacle(id: string): Receptacle | undefined {
    return this.byId.get(id);
  }

  /** Contents visible at a receptacle (nothing while it is closed). */
  visibleAt(id: string): string[] {
    const r = this.byId.get(id);
    if (!r || (r.openable && !r.isOpen)) return [];
    return r.contents;
  }

  /** What arriving at (or examining) a receptacle shows. */
  describe(r: Receptacle): string {
    if (r.openable && !r.isOpen) return `The ${r.id} is closed.`;
    if (r.openable) return `The ${r.id} is open. In it, you see ${aList(r.contents)}.`;
    return `On the ${r.id}, you see ${aList(r.contents)}.`;
  }

  step(action: string): StepResult {
    if (this.finished) throw new Error('household: step() after the episode ended; call reset() first');
    this.count++;
    const { text, valid } = this.apply(normalizeAction(action));
    if (valid && !this.succeeded) this.succeeded = this.goalReached();
    this.finished = this.succeeded || this.count >= this.stepLimit;
    return { observation: text, done: this.finished, success: this.succeeded, reward: this.succeeded ? 1 : 0, valid };
  }

  private apply(a: string): { text: string; valid: boolean } {
    const fail = { text: NOTHING, valid: false };
    for (const [re, kind] of PATTERNS) {
      const m = re.exec(a);
      if (!m) continue;
      const here = this.location ? this.byId.get(this.location)! : null;
      switch (kind) {
        case 'goto': {
          const r = this.byId.get(m[1]);
          if (!r || r.id === this.location) return fail;
          this.location = r.id;
          return { text: this.describe(r), valid: true };
        }
        case 'open': {
          if (!here || here.id !== m[1] || !here.openable || here.isOpen) return fail;
          here.isOpen = true;
          return { text: `You open the ${here.id}. The ${here.id} is open. In it, you see ${aList(here.contents)}.`, valid: true };
        }
        case 'close': {
          if (!here || here.id !== m[1] || !here.openable || !here.isOpen) return fail;
          here.isOpen = false;
          return { text: `You close the ${here.id}.`, valid: true };
        }
        case 'take': {
          const [, obj, rid] = m;
          if (!here || here.id !== rid || this.holding || !this.visibleAt(rid).includes(obj) || obj.startsWith('desklamp')) return fail;
          here.contents = here.contents.filter((o) => o !== obj);
          this.holding = obj;
          return { text: `You pick up the ${obj} from the ${rid}.`, valid: true };
        }
        case 'put': {
          const [, obj, rid] = m;
          if (!here || here.id !== rid || this.holding !== obj || (here.openable && !here.isOpen) || here.type === 'floorlamp') return fail;
          here.contents = [...here.contents, obj];
          this.holding = null;
          return { text: `You put the ${obj} in/on the ${rid}.`, valid: true };
        }
        case 'process': {
          const [, verb, obj, rid] = m;
          if (!here || here.id !== rid || here.type !== APPLIANCE[verb] || this.holding !== obj) return fail;
          const o = this.w.objects.get(obj)!;
          if (verb === 'clean') o.clean = true;
          if (verb === 'heat') [o.hot, o.cool] = [true, false];
          if (verb === 'cool') [o.cool, o.hot] = [true, false];
          return { text: `You ${verb} the ${obj} using the ${rid}.`, valid: true };
        }
        case 'use': {
          const lamp = m[1];
          const onFloor = here && here.type === 'floorlamp' && here.id === lamp;
          const onSurface = lamp.startsWith('desklamp') && here && this.visibleAt(here.id).includes(lamp);
          if (!onFloor && !onSurface) return fail;
          this.lampOnAt = here!.id;
          return { text: `You turn on the ${lamp}.`, valid: true };
        }
        case 'examine': {
          const r = this.byId.get(m[1]);
          if (r) return r.id === this.location ? { text: this.describe(r), valid: true } : fail;
          const visible = this.holding === m[1] || (here !== null && this.visibleAt(here.id).includes(m[1]));
          return visible ? { text: `There's nothing special about ${m[1]}.`, valid: true } : fail;
        }
        case 'inventory':
          return { text: this.holding ? `You are carrying: a ${this.holding}.` : 'You are not carrying anything.', valid: true };
        case 'look': {
          if (!here) return { text: `You are in the middle of a room. Looking quickly around you, you see ${aList(this.roomListing())}.`, valid: true };
          return { text: `You are facing the ${here.id}. Next to it, you see nothing.`, valid: true };
        }
      }
    }
    return fail;
  }

  private goalReached(): boolean {
    const g = this.w.goal;
    const ok = (id: string) => {
      const o = this.w.objects.get(id);
      if (!o || o.cls !== g.cls) return false;
      if (g.type === 'clean') return o.clean;
      if (g.type === 'heat') return o.hot;
      if (g.type === 'cool') return o.cool;
      return true;
    };
    if (g.type === 'examine') {
      return this.holding !== null && ok(this.holding) && this.lampOnAt !== null && this.lampOnAt === this.location;
    }
    let placed = 0;
    for (const r of this.w.receptacles) if (r.type === g.dest) placed += r.contents.filter(ok).length;
    return placed >= (g.type === 'puttwo' ? 2 : 1);
  }

  validActions(): string[] {
    const acts = ['look', 'inventory'];
    for (const r of this.w.receptacles) if (r.id !== this.location) acts.push(`go to ${r.id}`);
    const here = this.location ? this.byId.get(this.location)! : null;
    if (!here) return acts;
    acts.push(`examine ${here.id}`);
    if (here.openable) acts.push(here.isOpen ? `close ${here.id}` : `open ${here.id}`);
    const visible = this.visibleAt(here.id);
    if (!this.holding) for (const o of visible) if (!o.startsWith('desklamp')) acts.push(`take ${o} from ${here.id}`);
    for (const o of visible) if (o.startsWith('desklamp')) acts.push(`use ${o}`);
    if (here.type === 'floorlamp') acts.push(`use ${here.id}`);
    if (this.holding) {
      if (!(here.openable && !here.isOpen) && here.type !== 'floorlamp') acts.push(`put ${this.holding} in/on ${here.id}`);
      for (const [verb, type] of Object.entries(APPLIANCE)) if (here.type === type) acts.push(`${verb} ${this.holding} with ${here.id}`);
      acts.push(`examine ${this.holding}`);
    }
    return acts;
  }
}
