// The household expert: searches receptacles in a plausible order, takes the target when an
// observation reveals it, processes it and puts it away — writing ReAct thoughts like the
// ALFWorld expert transcripts and recording each turn's ground-truth role.
import { Rng, hashSeed } from '../../data/rng.ts';
import type { StepRole } from '../../data/trajectory.ts';
import { maxMistakes, type Expert, type ExpertOptions, type ExpertTurn, type TaskSpec } from '../types.ts';
import { article, rangeText } from '../text.ts';
import type { HouseholdEnv } from './env.ts';
import { OBJECT_PLACES } from './world.ts';
import { ExpertTurns, expertFromScript, type ExpertScript } from '../expert-turns.ts';

const APPLIANCE: Record<string, string> = { clean: 'sinkbasin', heat: 'microwave', cool: 'fridge' };
const LAMP_PLACES = ['desk', 'sidetable', 'dresser', 'shelf'];

export function createHouseholdExpert(env: HouseholdEnv, task: TaskSpec, opts: ExpertOptions = {}): Expert {
  const script = householdScript(env, new Rng(hashSeed(`household-expert/${task.taskType}/${task.split}`, opts.seed ?? task.seed)), opts.mistakeRate ?? 0, maxMistakes(opts), opts.style === 'explorer');
  return expertFromScript('household', script);
}

function* householdScript(env: HouseholdEnv, rng: Rng, mistakeRate: number, mistakeCap: number, explorer: boolean): ExpertScript {
  const w = env.world;
  const g = w.goal;
  const present = new Set(w.receptacles.map((r) => r.type));
  const countOf = (type: string) => w.receptacles.filter((r) => r.type === type).length;
  const checked = new Set<string>();
  /** Target-class instances the observations have shown, with where they lie. */
  const known = new Map<string, string>();
  const used = new Set<string>();
  let lampSeenAt: string | null = null;
  const turns = new ExpertTurns(rng, mistakeRate, mistakeCap);
  const maybeMistake = () => turns.maybeMistake();
  /** Wraps a turn; the first turn of the episode carries the opening plan. */
  const turn = (thought: string, action: string, role: StepRole) => turns.turn(thought, action, role);
  const note = (rid: string) => {
    for (const o of env.visibleAt(rid)) {
      if (o.startsWith(`${g.cls} `) && !used.has(o) && !known.has(o)) known.set(o, rid);
      if (o.startsWith('desklamp') && lampSeenAt === null) lampSeenAt = rid;
    }
  };
  const searchOrder = (types: readonly string[]) => {
    const ordered = types.filter((t) => present.has(t));
    // Experts do not all agree on the order; swap a neighbouring pair now and then.
    if (ordered.length > 2 && rng.next() < 0.5) {
      const i = rng.int(ordered.length - 1);
      [ordered[i], ordered[i + 1]] = [ordered[i + 1], ordered[i]];
    }
    return ordered;
  };
  /** Receptacles of the given types in search order (type by likelihood, then by number). */
  const visitOrder = (types: readonly string[]) =>
    w.receptacles.filter((r) => types.includes(r.type)).sort((a, b) => types.indexOf(a.type) - types.indexOf(b.type) || Number(num(a.id)) - Number(num(b.id))).map((r) => r.id);
  const firstUnchecked = (order: readonly string[]) => order.find((id) => !checked.has(id)) ?? 'the first of them';
  const likelyText = (types: string[]) => types.map((t) => `${t} (${rangeText(countOf(t))})`).join(', ');
  /** Where to look for `what`, and the sentence that opens the search. The expert knows where
   *  such things usually are; the explorer does not and walks the room's list in order. */
  const searchPlan = (what: string, likely: readonly string[]) => {
    if (explorer) {
      const order = env.roomListing();
      return { order, thought: (opening: string) => `${opening} I do not know where ${article(what)} would be, so I check every receptacle in the order I see them, starting with ${firstUnchecked(order)}.` };
    }
    const types = searchOrder(likely);
    const order = visitOrder(types);
    return { order, thought: (opening: string) => `${opening} ${capital(article(what))} is more likely to appear in ${likelyText(types)}. I can check one by one, starting with ${firstUnchecked(order)}.` };
  };

  /** Goes to a receptacle, opening it when closed (unless it is an appliance used closed). */
  function* goTo(rid: string, thought: string, role: StepRole, open = true): ExpertScript {
    yield turn(thought, `go to ${rid}`, role);
    const r = env.receptacle(rid)!;
    if (open && r.openable && !r.isOpen) {
      yield turn(rng.pick([`The ${rid} is closed. I open it to look inside.`, `The ${rid} is closed, so I need to open it.`, `I open the ${rid}.`]), `open ${rid}`, 'routine');
    }
    note(rid);
  }

  /** Searches until an unused instance of `cls` (or a lamp) is visible; returns where. */
  function* search(what: string, order: readonly string[], firstThought: string, found: () => string | null): Generator<ExpertTurn, { at: string; fresh: boolean }, string> {
    const already = found();
    if (already) return { at: already, fresh: false };
    let thought = firstThought;
    let role: StepRole = 'routine';
    for (const rid of order) {
      if (checked.has(rid)) continue;
      const lampBefore = lampSeenAt;
      yield* goTo(rid, thought, role);
      checked.add(rid);
      role = 'routine';
      const hit = found();
      if (hit) return { at: hit, fresh: true };
      const seen = env.visibleAt(rid);
      if (g.type === 'examine' && g.lamp === 'desklamp' && what !== 'desklamp' && lampBefore === null && lampSeenAt === rid) {
        // Noticing the lamp early changes the plan for later: a critical observation.
        const lamp = seen.find((o) => o.startsWith('desklamp'))!;
        thought = `There is no ${what} here, but I notice a ${lamp} ${onIn(rid)} the ${rid}. I will come back to use it once I have the ${what}. Next, I keep looking for the ${what}.`;
        role = 'observation';
        continue;
      }
      thought = rng.pick([
        seen.length === 0 ? `The ${rid} is empty.` : `There is no ${what} ${onIn(rid)} the ${rid}.`,
        `No ${what} here.`,
        `The ${what} is not ${onIn(rid)} the ${rid}.`,
      ]);
      thought += rng.pick([' Next, I check the next place.', ' I keep looking.', ' Let me try another place.', '']);
    }
    throw new Error(`household expert: searched everywhere and found no ${what}`);
  }

  const unusedTarget = () => {
    for (const [o, rid] of known) if (!used.has(o)) return rid;
    return null;
  };
  const nextTargetAt = (rid: string) => [...known].find(([o, at]) => at === rid && !used.has(o))![0];

  /** Finds and takes one target instance. */
  function* fetch(ordinal: string): ExpertScript {
    const plan = searchPlan(g.cls, OBJECT_PLACES[g.cls]);
    const remembered = unusedTarget();
    const start = rng.pick([`First I need to find ${ordinal} ${g.cls}.`, `I need to find ${ordinal} ${g.cls} first.`]);
    const { at, fresh } = yield* search(g.cls, plan.order, plan.thought(start), unusedTarget);
    const obj = nextTargetAt(at);
    if (!fresh && remembered) {
      if (env.location !== at) yield* goTo(at, `I saw ${article(g.cls)} (${num(obj)}) ${onIn(at)} the ${at} earlier, so I go straight there.`, 'routine');
      yield turn(`Now I take the ${obj} from the ${at}.`, `take ${obj} from ${at}`, 'action');
    } else {
      const others = [...known].filter(([o, r]) => o !== obj && !used.has(o) && r === at).map(([o]) => o);
      const extra = g.type === 'puttwo' && others.length ? ` I can come back for the ${others[0]} later.` : '';
      const lamp = g.type === 'examine' && lampSeenAt === at ? ` There is also a desklamp here.` : '';
      yield turn(`Now I find ${article(g.cls)} (${num(obj)}) ${onIn(at)} the ${at}. Next, I need to take it.${extra}${lamp}`, `take ${obj} from ${at}`, 'observation');
    }
    used.add(obj);
    known.delete(obj);
  }

  /** Process and put away the held object; with a mistake before the move when it happens. */
  function* deliver(obj: string, afterTake: string): ExpertScript {
    const destId = `${g.dest} 1`;
    const tool = APPLIANCE[g.type];
    if (tool) {
      const toolId = `${tool} 1`;
      let thought = `${afterTake} Next, I need to go to the ${toolId} and ${g.type} it.`;
      const wrong = g.type === 'heat' ? 'fridge 1' : 'microwave 1';
      let processThought = `I am at the ${toolId}. I ${g.type} the ${obj} with it.`;
      if (env.location === toolId) {
        processThought = `${afterTake} I am already at the ${toolId}, so I can ${g.type} it right here.`;
      } else if (g.type !== 'clean' && env.location !== wrong && maybeMistake()) {
        yield turn(`${afterTake} Next, I go to the ${wrong} to ${g.type} it.`, `go to ${wrong}`, 'routine');
        thought = `Wait, the ${wrong.split(' ')[0]} cannot ${g.type} things; to ${g.type} the ${g.cls} I need the ${toolId}.`;
        yield* goTo(toolId, thought, 'self-correction', false);
      } else if (maybeMistake()) {
        yield turn(`${afterTake} Next, I ${g.type} it with the ${toolId}.`, `${g.type} ${obj} with ${toolId}`, 'routine');
        yield* goTo(toolId, `Nothing happened because I am at the ${env.location}, not at the ${toolId}. I need to go there first.`, 'self-correction', false);
      } else {
        yield* goTo(toolId, thought, 'routine', false);
      }
      yield turn(processThought, `${g.type} ${obj} with ${toolId}`, 'action');
      afterTake = `Now I ${g.type} ${article(g.cls)} (${num(obj)}).`;
    }
    if (maybeMistake() && env.location !== destId) {
      yield turn(`${afterTake} Next, I put it in/on the ${destId}.`, `put ${obj} in/on ${destId}`, 'routine');
      yield* goTo(destId, `Nothing happened: I am not at the ${destId} yet. I need to go to the ${destId} before putting the ${g.cls} there.`, 'self-correction');
    } else {
      yield* goTo(destId, `${afterTake} Next, I need to put it in/on the ${destId}.`, 'routine');
    }
    yield turn(`I am at the ${destId}. I put the ${obj} in/on it.`, `put ${obj} in/on ${destId}`, 'action');
  }

  // ---- the episode ----
  const steps: Record<string, string> = {
    put: `find and take ${article(g.cls)}, then put it in ${g.dest}.`,
    clean: `find and take ${article(g.cls)}, then clean it with sinkbasin, then put it in ${g.dest}.`,
    heat: `find and take ${article(g.cls)}, then heat it with microwave, then put it in ${g.dest}.`,
    cool: `find and take ${article(g.cls)}, then cool it with fridge, then put it in ${g.dest}.`,
    examine: `find and take ${article(g.cls)}, then find and use a ${g.lamp}.`,
    puttwo: `find and take the first ${g.cls}, then put it in ${g.dest}, then find and take the second ${g.cls}, then put it in ${g.dest}.`,
  };
  turns.prefixNext(`To solve the task, I need to ${steps[g.type]}`, 'plan');

  if (g.type === 'puttwo') {
    yield* fetch('the first');
    yield* deliver(env.holding!, `Now I take the first ${g.cls} (${num(env.holding!)}).`);
    yield* fetch('the second');
    yield* deliver(env.holding!, `Now I take the second ${g.cls} (${num(env.holding!)}).`);
    return;
  }
  yield* fetch('a');
  const obj = env.holding!;
  if (g.type !== 'examine') {
    yield* deliver(obj, `Now I take ${article(g.cls)} (${num(obj)}).`);
    return;
  }
  if (g.lamp === 'floorlamp') {
    yield* goTo('floorlamp 1', `Now I take ${article(g.cls)} (${num(obj)}). Next, I need to go to the floorlamp 1 and turn it on.`, 'routine');
    yield turn(`I am at the floorlamp 1 holding the ${obj}. I turn it on to look at the ${g.cls}.`, 'use floorlamp 1', 'action');
    return;
  }
  const lampId = () => env.visibleAt(lampSeenAt!).find((o) => o.startsWith('desklamp'))!;
  if (lampSeenAt) {
    if (env.location !== lampSeenAt) yield* goTo(lampSeenAt, `Now I take ${article(g.cls)} (${num(obj)}). I saw a desklamp on the ${lampSeenAt}, so I go there.`, 'routine');
    yield turn(`I am at the ${lampSeenAt} with the ${obj}. I turn on the ${lampId()}.`, `use ${lampId()}`, 'action');
    return;
  }
  const lampPlan = searchPlan('desklamp', LAMP_PLACES);
  const { at } = yield* search('desklamp', lampPlan.order, lampPlan.thought(`Now I take ${article(g.cls)} (${num(obj)}). Next, I need to find a desklamp.`), () => lampSeenAt);
  yield turn(`Now I find a desklamp (${num(lampId())}) on the ${at}. Next, I need to use it.`, `use ${lampId()}`, 'observation');
}

/** "in" for containers that open, "on" for surfaces. */
function onIn(rid: string): string {
  return /^(cabinet|drawer|fridge|microwave|garbagecan)/.test(rid) ? 'in' : 'on';
}
function num(id: string): string {
  return id.split(' ')[1];
}
function capital(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
