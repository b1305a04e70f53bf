// Grid rules: BabyAI low-level actions, text descriptions, barriers, doors and keys.
import { describe, expect, it } from 'vitest';
import { GridEnv } from '../../../src/envs/grid/env.ts';
import { grid } from '../../../src/envs/grid/index.ts';
import { planPath } from '../../../src/envs/grid/expert.ts';
import { DIR_VEC, cellKey } from '../../../src/envs/grid/world.ts';

function fresh(type: string, seed: number) {
  const env = new GridEnv();
  const start = env.reset({ env: 'grid', taskType: type, split: type === 'unlock' || type === 'pickup-beyond-door' ? 'held-out' : 'held-in', seed });
  return { env, start };
}

describe('grid environment', () => {
  it('describes the view in BabyAI-text style', () => {
    const { start } = fresh('pickup', 4);
    expect(start.observation).toMatch(/^Your goal: pick up the [a-z]+ (ball|key)\n/);
    expect(start.observation).toMatch(/(In front of you in this room, you can see several objects: There is a .+|You cannot see any objects within sight\.) The room has walls around you\. You are facing a wall \d+ steps away\. You are not carrying anything\.$/);
  });

  it('turning changes the heading; walking into a wall is refused', () => {
    const { env } = fresh('goto', 2);
    const w = env.world;
    const d0 = w.agent.dir;
    expect(env.step('turn left').valid).toBe(true);
    expect(w.agent.dir).toBe((d0 + 3) % 4);
    expect(env.step('turn right').valid).toBe(true);
    expect(w.agent.dir).toBe(d0);
    // Walk until blocked; the refusal is BabyAI-text's barrier message and the agent stays put.
    let r = env.step('move forward');
    for (let i = 0; i < 10 && r.valid; i++) r = env.step('move forward');
    if (!r.done) {
      const at = [w.agent.x, w.agent.y];
      expect(r).toMatchObject({ observation: "There is a barrier in front of you, you can't move forward.", valid: false });
      expect([w.agent.x, w.agent.y]).toEqual(at);
    }
    expect(env.step('fly away')).toMatchObject({ observation: 'The action is not recognized. Please check valid actions.', valid: false });
    expect(env.step('go forward').observation).not.toBe('The action is not recognized. Please check valid actions.');
  });

  it('a locked door needs the key of its colour', () => {
    const { env } = fresh('unlock', 7);
    const w = env.world;
    const door = w.door!;
    expect(door.state).toBe('locked');
    // Put the agent in front of the door without the key.
    const path = planPath(env, door.x, door.y)!;
    for (const m of path) env.step(m);
    expect(env.step('toggle')).toMatchObject({ observation: `The ${door.color} door is locked. You need a ${door.color} key to unlock it.`, valid: false, success: false });
    expect(env.step('pick up')).toMatchObject({ observation: 'You cannot pick up anything here.', valid: false });
    // Fetch the key, come back, toggle: unlocked and open, task done.
    const keyCell = [...w.objects].find(([, o]) => o.type === 'key' && o.color === door.color)![0].split(',').map(Number);
    for (const m of planPath(env, keyCell[0], keyCell[1])!) env.step(m);
    expect(env.step('pick up').observation).toMatch(new RegExp(`^You pick up the ${door.color} key\\. `));
    for (const m of planPath(env, door.x, door.y)!) env.step(m);
    const r = env.step('toggle');
    expect(r.observation).toMatch(new RegExp(`^You unlock the ${door.color} door with the ${door.color} key and open it\\.`));
    expect(r).toMatchObject({ done: true, success: true });
    expect(r.reward).toBeCloseTo(1 - 0.9 * (env.steps / env.stepLimit), 10);
  });

  it('pick up takes only what is right in front; drop puts it back', () => {
    const { env } = fresh('pickup', 9);
    const w = env.world;
    const target = w.goal.object!;
    const cell = [...w.objects].find(([, o]) => o === target)![0].split(',').map(Number);
    for (const m of planPath(env, cell[0], cell[1])!) env.step(m);
    const [dx, dy] = DIR_VEC[w.agent.dir];
    expect(cellKey(w.agent.x + dx, w.agent.y + dy)).toBe(cellKey(cell[0], cell[1]));
    const r = env.step('pick up');
    expect(r.success).toBe(true);
    expect(env.carrying).toBe(target);
  });

  it('held-in and held-out task types are disjoint', () => {
    const inTypes = new Set(Array.from({ length: 100 }, (_, s) => grid.sampleTask(s, 'held-in').taskType));
    const outTypes = new Set(Array.from({ length: 100 }, (_, s) => grid.sampleTask(s, 'held-out').taskType));
    expect([...inTypes].sort()).toEqual(['goto', 'open', 'pickup']);
    expect([...outTypes].sort()).toEqual(['pickup-beyond-door', 'unlock']);
  });

  it('pickup-beyond-door puts the target in the other room behind a closed door', () => {
    for (let s = 0; s < 30; s++) {
      const { env } = fresh('pickup-beyond-door', s);
      const w = env.world;
      expect(w.door!.state).toBe('closed');
      // Not visible from the start, whatever the heading.
      for (let i = 0; i < 4; i++) {
        expect(env.sightings().some((x) => x.name === `${w.goal.object!.color} ${w.goal.object!.type}`)).toBe(false);
        env.step('turn left');
      }
    }
  });
});
