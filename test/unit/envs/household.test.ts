// Household rules: ALFWorld's command language, replies, and "Nothing happens." for anything
// it cannot carry out. The reply templates are checked against real ALFWorld transcripts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HouseholdEnv } from '../../../src/envs/household/env.ts';
import { household } from '../../../src/envs/household/index.ts';
import { aList } from '../../../src/envs/text.ts';

function fresh(seed = 3, split: 'held-in' | 'held-out' = 'held-in') {
  const env = new HouseholdEnv();
  const start = env.reset(household.sampleTask(seed, split));
  return { env, start };
}

describe('household environment', () => {
  it('lists items the way ALFWorld does', () => {
    expect(aList([])).toBe('nothing');
    expect(aList(['cloth 1'])).toBe('a cloth 1');
    expect(aList(['candle 1', 'spraybottle 2'])).toBe('a candle 1, and a spraybottle 2');
    expect(aList(['a 1', 'b 2', 'c 3'])).toBe('a a 1, a b 2, and a c 3');
  });

  it('starts in the middle of the room with the task line', () => {
    const { start } = fresh();
    expect(start.observation).toMatch(/^You are in the middle of a room\. Looking quickly around you, you see a [a-z]+ \d+(, a [a-z]+ \d+)*, and a [a-z]+ \d+\.\nYour task is to: .+\.$/);
    expect(start.instruction).toContain('go to (receptacle)');
  });

  it('answers go/open/take/put like ALFWorld and refuses the impossible with "Nothing happens."', () => {
    const { env } = fresh(11);
    const closed = env.world.receptacles.find((r) => r.openable)!;
    const surface = env.world.receptacles.find((r) => !r.openable && r.contents.length > 0)!;
    // Not there yet: open / take are impossible.
    expect(env.step(`open ${closed.id}`)).toMatchObject({ observation: 'Nothing happens.', valid: false });
    expect(env.step(`go to ${closed.id}`).observation).toBe(`The ${closed.id} is closed.`);
    expect(env.step(`go to ${closed.id}`).observation).toBe('Nothing happens.'); // already there
    const opened = env.step(`open ${closed.id}`).observation;
    expect(opened).toBe(`You open the ${closed.id}. The ${closed.id} is open. In it, you see ${aList(closed.contents)}.`);
    expect(env.step(`open ${closed.id}`).observation).toBe('Nothing happens.');
    expect(env.step(`close ${closed.id}`).observation).toBe(`You close the ${closed.id}.`);
    expect(env.step(`go to ${surface.id}`).observation).toBe(`On the ${surface.id}, you see ${aList(surface.contents)}.`);
    const obj = surface.contents.find((o) => !o.startsWith('desklamp'))!;
    expect(env.step(`take ${obj} from ${closed.id}`).observation).toBe('Nothing happens.'); // wrong place
    expect(env.step(`put ${obj} in/on ${surface.id}`).observation).toBe('Nothing happens.'); // not holding
    expect(env.step(`take ${obj} from ${surface.id}`)).toMatchObject({ observation: `You pick up the ${obj} from the ${surface.id}.`, valid: true });
    expect(env.step('inventory').observation).toBe(`You are carrying: a ${obj}.`);
    expect(env.step(`put ${obj} on ${surface.id}`).observation).toBe('Nothing happens.'); // ALFWorld's form is "in/on"
    expect(env.step(`clean ${obj} with ${surface.id}`).observation).toBe('Nothing happens.'); // not a sinkbasin
    expect(env.step(`put ${obj} in/on ${surface.id}`).observation).toBe(`You put the ${obj} in/on the ${surface.id}.`);
    expect(env.step('dance wildly')).toMatchObject({ observation: 'Nothing happens.', valid: false });
    expect(env.steps).toBe(15);
  });

  it('valid actions are exactly the ones it accepts', () => {
    const { env } = fresh(5);
    const target = env.world.receptacles.find((r) => r.openable)!;
    env.step(`go to ${target.id}`);
    const valid = env.validActions();
    expect(valid).toContain(`open ${target.id}`);
    expect(valid).not.toContain(`close ${target.id}`);
    for (const a of valid) {
      const probe = new HouseholdEnv();
      probe.reset(household.sampleTask(5, 'held-in'));
      probe.step(`go to ${target.id}`);
      expect(probe.step(a).valid, a).toBe(true);
    }
  });

  it('stops at the step limit with failure', () => {
    const { env } = fresh(1);
    let r = env.step('look');
    while (!r.done) r = env.step('look');
    expect(env.steps).toBe(env.stepLimit);
    expect(r).toMatchObject({ done: true, success: false, reward: 0 });
    expect(() => env.step('look')).toThrow(/after the episode ended/);
  });

  it('held-out tasks differ from held-in ones as documented', () => {
    const heldIn = Array.from({ length: 200 }, (_, s) => { const e = new HouseholdEnv(); e.reset(household.sampleTask(s, 'held-in')); return e.world; });
    const heldOut = Array.from({ length: 200 }, (_, s) => { const e = new HouseholdEnv(); e.reset(household.sampleTask(s, 'held-out')); return e.world; });
    expect(heldIn.some((w) => w.goal.type === 'puttwo')).toBe(false);
    expect(heldOut.some((w) => w.goal.type === 'puttwo')).toBe(true);
    expect(heldIn.some((w) => w.goal.lamp === 'floorlamp')).toBe(false);
    expect(heldOut.some((w) => w.goal.lamp === 'floorlamp')).toBe(true);
    expect(heldIn.some((w) => w.goal.type === 'heat' && ['potato', 'cup'].includes(w.goal.cls))).toBe(false);
    const key = (w: (typeof heldIn)[number]) => `${w.goal.type}/${w.goal.cls}`;
    const inKeys = new Set(heldIn.map(key));
    // Every held-out task is an unseen (type, object) pair or an unseen type.
    expect(heldOut.filter((w) => inKeys.has(key(w)) && w.goal.lamp !== 'floorlamp')).toEqual([]);
  });
});

const real = path.resolve('../shared/data/alfworld-react/alfworld_3prompts.json');
describe.skipIf(!existsSync(real))('household replies match real ALFWorld transcripts', () => {
  if (!existsSync(real)) console.warn(`skipping: ${real} is absent`);
  it('every observation in the real expert transcripts has one of our reply forms', () => {
    const data = JSON.parse(readFileSync(real, 'utf8')) as Record<string, string>;
    const N = '[a-z]+ \\d+';
    const L = `(nothing|a ${N}(, a ${N})*(, and a ${N})?)`;
    const forms = [
      new RegExp(`^On the ${N}, you see ${L}\\.$`),
      new RegExp(`^The ${N} is closed\\.$`),
      new RegExp(`^You open the ${N}\\. The ${N} is open\\. In it, you see ${L}\\.$`),
      new RegExp(`^The ${N} is open\\. In it, you see ${L}\\.$`),
      new RegExp(`^You pick up the ${N} from the ${N}\\.$`),
      new RegExp(`^You put the ${N} in/on the ${N}\\.$`),
      new RegExp(`^You (clean|heat|cool) the ${N} using the ${N}\\.$`),
      new RegExp(`^You turn on the ${N}\\.$`),
      /^Nothing happens\.$/,
    ];
    let checked = 0;
    const unmatched: string[] = [];
    for (const [key, text] of Object.entries(data)) {
      if (!key.startsWith('react_')) continue;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length - 1; i++) {
        if (!/^>\s*(go to|open|take|put|clean|heat|cool|use)\b/.test(lines[i])) continue;
        const obs = lines[i + 1].trim();
        if (obs.startsWith('>') || obs === 'OK.') continue;
        checked++;
        if (!forms.some((f) => f.test(obs))) unmatched.push(obs);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(unmatched).toEqual([]);
  });

  it('our replies fit the same forms', () => {
    const { env } = fresh(21);
    for (const r of env.world.receptacles.slice(0, 6)) {
      const o = env.step(`go to ${r.id}`).observation;
      expect(o).toMatch(/^(On the [a-z]+ \d+, you see .+\.|The [a-z]+ \d+ is closed\.)$/);
      if (r.openable) {
        env.step(`open ${r.id}`);
        env.step(`go to ${env.world.receptacles.find((x) => x.id !== r.id)!.id}`);
        // Coming back to an opened container shows its contents, as in the real transcripts.
        expect(env.step(`go to ${r.id}`).observation).toMatch(/^The [a-z]+ \d+ is open\. In it, you see .+\.$/);
      }
    }
  });
});
