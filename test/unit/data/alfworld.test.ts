// The real ALFWorld ReAct prompt file (../shared/data/alfworld-react): 18 react_* transcripts
// with thoughts and 18 act_* without. Checked by hand against the file's text.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrajectories } from '../../../src/data/importer.ts';
import { nodeFileSource } from '../../../src/data/sources/node.ts';
import { exportTrajectories } from '../../../src/data/export.ts';
import { parseReAct } from '../../../src/envs/react.ts';
import { importText } from './helpers.ts';

const FILE = path.resolve('../shared/data/alfworld-react/alfworld_3prompts.json');
const present = existsSync(FILE);
if (!present) console.warn(`alfworld tests skipped: ${FILE} is missing`);

async function load(variants: 'merge' | 'keep' = 'merge') {
  const { source, totalBytes } = nodeFileSource(FILE);
  return importTrajectories(source, { file: FILE, totalBytes, variants });
}

describe.skipIf(!present)('ALFWorld ReAct transcripts', () => {
  it('imports 18 trajectories and reports the 18 act_* duplicates', async () => {
    const { trajectories, summary } = await load();
    expect(trajectories.map((t) => t.id)).toEqual(Object.keys(JSON.parse(readFileSync(FILE, 'utf8'))).filter((k) => k.startsWith('react_')));
    expect(summary.rejected).toEqual([]);
    expect(summary.duplicates.map((d) => d.dropped).sort()).toEqual(trajectories.map((t) => t.id.replace(/^react_/, 'act_')).sort());
    expect(summary.duplicates.find((d) => d.dropped === 'act_examine_0')!.reason).toMatch(/stray "OK\." line/);
    for (const t of trajectories) expect(t.provenance?.notes?.some((n) => n.includes('without thoughts'))).toBe(true);
  });

  it('the one-line file and a truncated copy are both reported as layout json-object', async () => {
    const whole = await load();
    expect(whole.summary.layout).toBe('json-object');
    const text = readFileSync(FILE, 'utf8');
    const cut = await importText(text.slice(0, Math.floor(text.length / 2)), { file: 'cut.json' });
    expect(cut.summary.layout).toBe('json-object');
    // The complete members before the cut are the same trajectories as in the whole file.
    expect(cut.trajectories.length).toBeGreaterThan(0);
    for (const t of cut.trajectories) expect(t.steps).toEqual(whole.trajectories.find((w) => w.id === t.id)?.steps ?? (await load('keep')).trajectories.find((w) => w.id === t.id)!.steps);
    // Two such lines are JSONL.
    expect((await importText(`${text.trim()}\n${text.trim()}\n`, { file: 'two.jsonl' })).summary.layout).toBe('jsonl');
  });

  it('step count of each react_X equals the number of actions in act_X', async () => {
    const raw = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, string>;
    const { trajectories } = await load();
    for (const t of trajectories) {
      const actLines = raw[t.id.replace('react_', 'act_')].split('\n').filter((l) => l.startsWith('>'));
      expect(t.steps.length, t.id).toBe(actLines.length);
      expect(t.steps.map((s) => s.action), t.id).toEqual(actLines.map((l) => l.slice(1).trim()));
    }
    expect(trajectories.find((t) => t.id === 'react_put_0')!.steps.length).toBe(6);
    expect(trajectories.find((t) => t.id === 'react_puttwo_2')!.steps.length).toBe(24);
  });

  it('splits thoughts from actions (react_put_0, checked by hand)', async () => {
    const t = (await load()).trajectories.find((x) => x.id === 'react_put_0')!;
    expect(t.instruction).toMatch(/^You are in the middle of a room\..*\nYour task is to: put some spraybottle on toilet\.$/s);
    expect(t.taskType).toBe('put');
    expect(t.steps[0].thought).toBe(
      'To solve the task, I need to find and take a sparybottle, then put it on toilet.\nFirst I need to find a spraybottle. A spraybottle is more likely to appear in cabinet (1-4), countertop (1), toilet (1), sinkbasin (1-2), garbagecan (1). I can check one by one, starting with cabinet 1.',
    );
    expect(t.steps[0].action).toBe('go to cabinet 1');
    expect(t.steps[0].observation).toBe('On the cabinet 1, you see a cloth 1, a soapbar 1, a soapbottle 1.');
    expect(t.steps[1]).toEqual({ agent: 'go to cabinet 2', action: 'go to cabinet 2', observation: 'The cabinet 2 is closed.' });
    // A thought not answered by "OK." (it is followed directly by the action) joins that action too.
    expect(t.steps[3].thought).toBe('Now I find a spraybottle (2). Next, I need to take it.');
    expect(t.steps[3].action).toBe('take spraybottle 2 from cabinet 2');
    expect(t.steps[5]).toEqual({ agent: 'put spraybottle 2 in/on toilet 1', action: 'put spraybottle 2 in/on toilet 1', observation: 'You put the spraybottle 2 in/on the toilet 1.' });
  });

  it('repairs react_cool_0, whose "take" observation comes after a thought, and says so', async () => {
    const t = (await load()).trajectories.find((x) => x.id === 'react_cool_0')!;
    const take = t.steps.find((s) => s.action === 'take pan 1 from stoveburner 3')!;
    expect(take.observation).toBe('You pick up the pan 1 from the stoveburner 3.');
    expect(t.provenance!.notes!.join('\n')).toMatch(/came after a thought's "OK\."; it was moved back/);
  });

  it('keeps all 36 with variants "keep"', async () => {
    const { trajectories, summary } = await load('keep');
    expect(trajectories.length).toBe(36);
    expect(summary.duplicates).toEqual([]);
    expect(trajectories.filter((t) => t.id.startsWith('act_')).every((t) => t.steps.every((s) => s.thought === undefined))).toBe(true);
  });

  it('exports in the environments\' "Thought: …\\nAction: …" style and re-imports with the same thoughts and actions', async () => {
    const { trajectories } = await load();
    const { text } = exportTrajectories(trajectories, 'agentgym', { arm: 'full', agentText: 'thought-action' });
    const back = (await importText(text)).trajectories;
    expect(back.map((t) => t.steps.map((s) => [s.thought, s.action]))).toEqual(trajectories.map((t) => t.steps.map((s) => [s.thought, s.action])));
    const first = back[0].steps[0];
    expect(first.agent).toBe(`Thought: ${trajectories[0].steps[0].thought}\nAction: go to cabinet 1`);
    expect(parseReAct(first.agent)).toEqual({ thought: trajectories[0].steps[0].thought, action: 'go to cabinet 1' });
    expect(back[0].steps[1].agent).toBe('Action: go to cabinet 2');
  });
});
