// Importers: every supported record shape, the conversation rules, file layouts, streaming,
// and the failure reports (file, line or JSON path, reason).
import { describe, expect, it } from 'vitest';
import { importText, NOW } from './helpers.ts';
import { ImportCancelled } from '../../../src/data/lines.ts';
import { splitAgentText } from '../../../src/data/agentText.ts';

const agentgym = {
  item_id: 'webshop_6',
  conversations: [
    { from: 'human', value: 'You are web shopping. Reply with Thought: and Action:.', loss: null },
    { from: 'gpt', value: 'Ok.', loss: false },
    { from: 'human', value: 'WebShop [SEP] Instruction: buy red shoes [SEP] Search', loss: null },
    { from: 'gpt', value: 'Thought:\nI should search.\n\nAction:\nsearch[red shoes]', loss: true },
    { from: 'human', value: 'Results: [SEP] B01 [SEP] Red Shoe', loss: null },
    { from: 'gpt', value: 'Thought: pick the first.\nAction: click[B01]', loss: false },
  ],
};

describe('record formats', () => {
  it('AgentGym: the opening "Ok." is not a step; loss flags become selection import:loss', async () => {
    const { trajectories: [t], summary } = await importText(JSON.stringify(agentgym) + '\n');
    expect(summary.formats).toEqual({ agentgym: 1 });
    expect(t.id).toBe('webshop_6');
    expect(t.env).toBe('webshop');
    expect(t.preamble).toEqual([
      { role: 'user', text: agentgym.conversations[0].value },
      { role: 'agent', text: 'Ok.' },
    ]);
    expect(t.instruction).toBe(agentgym.conversations[2].value);
    expect(t.steps.length).toBe(2);
    expect(t.steps[0]).toMatchObject({ thought: 'I should search.', action: 'search[red shoes]', observation: 'Results: [SEP] B01 [SEP] Red Shoe' });
    expect(t.steps[1]).toMatchObject({ thought: 'pick the first.', action: 'click[B01]', observation: '' });
    expect(t.selections).toEqual([{ selector: 'import:loss', createdAt: NOW, status: 'labelled', critical: [{ step: 0 }] }]);
    expect(t.source).toEqual({ format: 'agentgym', file: 'test.jsonl', record: 'line 1' });
  });

  it('ShareGPT with system, Agent-FLAN role/content/loss, mixed role and from keys', async () => {
    const sharegpt = { id: 'a1', conversations: [{ from: 'system', value: 'sys' }, { from: 'human', value: 'task' }, { from: 'gpt', value: 'act 1' }, { from: 'human', value: 'obs 1' }] };
    const flan = { id: 'f1', conversation: [{ role: 'user', content: 'task', loss: false }, { role: 'assistant', content: 'Thought: t\nAction: a', loss: true }] };
    const mixed = { conversations: [{ role: 'user', value: 'task' }, { from: 'gpt', content: 'x' }, { from: 'observation', value: 'o' }, { role: 'function_call', content: 'y' }] };
    const { trajectories, summary } = await importText([sharegpt, flan, mixed].map((r) => JSON.stringify(r)).join('\n'));
    expect(summary.rejected).toEqual([]);
    expect(summary.formats).toEqual({ sharegpt: 2, 'agent-flan': 1 });
    expect(trajectories[0]).toMatchObject({ id: 'a1', system: 'sys', instruction: 'task', steps: [{ agent: 'act 1', observation: 'obs 1' }], selections: [] });
    expect(trajectories[1].steps[0]).toMatchObject({ thought: 't', action: 'a' });
    expect(trajectories[1].selections[0].critical).toEqual([{ step: 0 }]);
    expect(trajectories[2].id).toBe('test.jsonl:3');
    expect(trajectories[2].steps.map((s) => [s.agent, s.observation])).toEqual([['x', 'o'], ['y', '']]);
  });

  it('OpenAI messages with weight, text content parts; Axolotl train flags', async () => {
    const openai = { messages: [{ role: 'system', content: 'S' }, { role: 'user', content: [{ type: 'text', text: 'ta' }, { type: 'text', text: 'sk' }] }, { role: 'assistant', content: 'a0', weight: 0 }, { role: 'user', content: 'o0' }, { role: 'assistant', content: 'a1', weight: 1 }] };
    const axolotl = { messages: [{ role: 'user', content: 'task', train: false }, { role: 'assistant', content: 'a0', train: true }] };
    const { trajectories, summary } = await importText(JSON.stringify(openai) + '\n' + JSON.stringify(axolotl));
    expect(summary.formats).toEqual({ openai: 1, axolotl: 1 });
    expect(trajectories[0]).toMatchObject({ system: 'S', instruction: 'task', steps: [{ agent: 'a0', observation: 'o0' }, { agent: 'a1', observation: '' }] });
    expect(trajectories[0].selections[0]).toMatchObject({ selector: 'import:weight', critical: [{ step: 1 }] });
    expect(trajectories[1].selections[0]).toMatchObject({ selector: 'import:train', critical: [{ step: 0 }] });
  });

  it('merges consecutive same-role turns and records a note; keeps empty content', async () => {
    const rec = { conversations: [{ from: 'human', value: 'task' }, { from: 'human', value: 'more task' }, { from: 'gpt', value: '' }, { from: 'gpt', value: 'second' }, { from: 'human', value: '' }] };
    const { trajectories: [t] } = await importText(JSON.stringify(rec));
    expect(t.instruction).toBe('task\n\nmore task');
    expect(t.steps).toEqual([{ agent: '\n\nsecond', observation: '' }]);
    expect(t.provenance!.notes).toContain('2 turn(s) following a turn of the same role were merged into it');
  });

  it('labelled ReAct text (Think:/Action:/Observation:) as a whole text file', async () => {
    const text = 'You are in a room.\nYour task is to: find a key.\nThink: The key may be in the drawer.\nObservation: OK.\nAction: open drawer 1\nObservation: You open the drawer 1. You see a key 1.\nAction: take key 1 from drawer 1\nObservation: You pick up the key 1.\n';
    const { trajectories: [t], summary } = await importText(text, { file: 'task.txt' });
    expect(summary.layout).toBe('text');
    expect(t.id).toBe('task');
    expect(t.instruction).toBe('You are in a room.\nYour task is to: find a key.');
    expect(t.steps).toEqual([
      { agent: 'Think: The key may be in the drawer.\nAction: open drawer 1', thought: 'The key may be in the drawer.', action: 'open drawer 1', observation: 'You open the drawer 1. You see a key 1.' },
      { agent: 'Action: take key 1 from drawer 1', action: 'take key 1 from drawer 1', observation: 'You pick up the key 1.' },
    ]);
  });

  it('splits agent text into thought and action where marked', () => {
    expect(splitAgentText('Thought: a\nb\nAction: c')).toEqual({ thought: 'a\nb', action: 'c' });
    expect(splitAgentText('I will open it.\nAction: open box')).toEqual({ thought: 'I will open it.', action: 'open box' });
    expect(splitAgentText('think: just thinking')).toEqual({ thought: 'just thinking' });
    expect(splitAgentText('go to desk 1')).toEqual({});
  });
});

describe('file layouts and failures', () => {
  it('a JSON list: elements with line and path; a bad element is rejected alone', async () => {
    const text = `[\n${JSON.stringify(agentgym)},\n{"conversations": 5},\n{"conversations": [}]},\n"plain words"\n]\n`;
    const { trajectories, summary } = await importText(text, { file: 'list.json' }, 7);
    expect(summary.layout).toBe('json-array');
    expect(trajectories.map((t) => t.id)).toEqual(['webshop_6']);
    expect(summary.rejected).toEqual([
      { file: 'list.json', line: 3, path: '$[1]', reason: '$[1].conversations must be a list of messages (got number)' },
      { file: 'list.json', line: 4, path: '$[2]', reason: expect.stringMatching(/^invalid JSON/) },
      { file: 'list.json', line: 5, path: '$[3]', reason: expect.stringMatching(/no agent turns/) },
    ]);
  });

  it('a truncated JSON list keeps the complete elements and reports the cut one', async () => {
    const text = `[${JSON.stringify(agentgym)}, ${JSON.stringify(agentgym).slice(0, 50)}`;
    const { trajectories, summary } = await importText(text, { file: 'cut.json' });
    expect(trajectories.length).toBe(1);
    expect(summary.rejected).toEqual([{ file: 'cut.json', line: 1, path: '$[1]', reason: 'the file ends inside this element (truncated JSON)' }]);
  });

  it('a pretty-printed JSON object of records is read member by member', async () => {
    const text = JSON.stringify({ first: agentgym, second: 'no actions here', third: 'You are in a field. Go north.\n> go north\nYou are north.' }, null, 2);
    const { trajectories, summary } = await importText(text, { file: 'obj.json' });
    expect(summary.layout).toBe('json-object');
    expect(trajectories.map((t) => t.id)).toEqual(['webshop_6', 'third']);
    expect(summary.rejected).toEqual([{ file: 'obj.json', line: 37, path: '$.second', reason: expect.stringMatching(/no agent turns/) }]);
  });

  it('a package.json-like object is one record of a layout the importer does not read: rejected once, naming its fields', async () => {
    const pkg = { name: 'atlas-playground', version: '0.1.0', engines: { node: '>=20.19' }, scripts: { start: 'vite' }, notes: '> go north\nYou are north.' };
    const { trajectories, summary } = await importText(JSON.stringify(pkg, null, 2), { file: 'package.json' });
    expect(trajectories).toEqual([]);
    expect(summary.trajectories).toBe(0);
    // Its fields are reasons, not records: one rejection for the one record.
    expect(summary.rejected).toEqual([
      {
        file: 'package.json',
        line: 1,
        path: '$',
        fields: ['name', 'version', 'engines', 'scripts', 'notes'],
        reason: expect.stringMatching(/^no conversation or trajectory in this record: its fields are "name", "version", "engines", "scripts" and "notes" \(the importer reads /),
      },
    ]);
    expect(summary.rejectedRecords).toBe(1);
    // The same object on one line (JSONL layout) gives the same answer.
    expect((await importText(JSON.stringify(pkg), { file: 'package.json' })).summary.rejected.map((r) => r.reason)).toEqual(summary.rejected.map((r) => r.reason));
    // Strings inside a collection of transcripts are still rejected by path, with the transcript reasons.
    const coll = await importText(JSON.stringify({ a: 'Task: go.\n> go north\nYou are north.', engines: '>=20.19', notes: '> go north\nYou are north.' }));
    expect(Object.fromEntries(coll.summary.rejected.map((r) => [r.path, r.reason]))).toEqual({
      '$.engines': '$.engines: not a ReAct transcript (no agent turns: expected "> action" lines or "Action:" / "Think:" lines)',
      '$.notes': '$.notes: not a ReAct transcript (no task: expected the instruction before the first agent line)',
    });
  });

  it('a prompt-style agent line is ">" then a space or a letter; an action-less "Action:" is no agent turn', async () => {
    const ok = await importText('Task: go.\n>go to desk 1\nYou arrive.\n> look\nNothing.', { file: 't.txt' });
    expect(ok.trajectories[0].steps.map((s) => s.action)).toEqual(['go to desk 1', 'look']);
    const noText = await importText(JSON.stringify({ a: 'Task: go.\n>= 3\n>\n', b: 'Task: go.\nAction:\nObservation: x' }));
    expect(noText.trajectories).toEqual([]);
    expect(noText.summary.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^\$\.a: not a ReAct transcript \(no agent turns/),
      '$.b: not a ReAct transcript (no agent turn with an action or thought after the instruction)',
    ]);
  });

  it('JSONL: each bad line is reported with file:line and reason, good lines kept', async () => {
    const lines = [JSON.stringify(agentgym), '{"conversations": [{"from": "human", "value": "t"}]}', 'not json', '[1,2]', 'null', '{"messages":[{"role":"wizard","content":"x"}]}', '{"messages":[{"role":"user","content":7}]}', '{"conversations":[{"from":"gpt","value":"a","loss":"yes"}]}', JSON.stringify(agentgym)];
    const { trajectories, summary } = await importText(lines.join('\r\n'), { file: 'f.jsonl' });
    expect(trajectories.map((t) => t.id)).toEqual(['webshop_6', 'webshop_6#2']);
    expect(summary.renamedIds).toBe(1);
    expect(summary.rejected.map((r) => [r.line, r.reason.slice(0, 40)])).toEqual([
      [2, 'no agent turn after the instruction (not'],
      [3, 'invalid JSON: Unexpected token \'o\', "not'],
      [4, '$ is a list but not a list of messages ('],
      [5, '$ is null, not a record'],
      [6, '$.messages[0] has an unknown role "wizar'],
      [7, '$.messages[0] content must be a string ('],
      [8, '$.conversations[0].loss must be true, fa'],
    ]);
  });

  it('empty, binary and over-long input never crash', async () => {
    expect((await importText('')).summary.rejected).toEqual([{ file: 'test.jsonl', reason: 'the file is empty: no records' }]);
    expect((await importText(' \n\n ')).summary.trajectories).toBe(0);
    const binary = new Uint8Array(4096).map((_, i) => (i * 37) % 256);
    const b = await importText(binary);
    expect(b.trajectories).toEqual([]);
    expect(b.summary.rejected.length).toBeGreaterThan(0);
    const long = JSON.stringify({ conversations: [{ from: 'human', value: 'x'.repeat(5000) }, { from: 'gpt', value: 'y' }] });
    const r = await importText(`${JSON.stringify(agentgym)}\n${long}\n${JSON.stringify(agentgym)}`, { maxLineChars: 2000 }, 333);
    expect(r.trajectories.length).toBe(2);
    expect(r.summary.rejected).toEqual([{ file: 'test.jsonl', line: 2, reason: `line is ${long.length} characters long, over the 2000-character limit` }]);
  });

  it('a 10,000-step trajectory and any Unicode, split across 1-byte chunks', async () => {
    const conv = [{ from: 'human', value: 'задача 🧭 — 任务' }];
    for (let i = 0; i < 10_000; i++) conv.push({ from: 'gpt', value: `Thought: 思考 ${i} 😀\nAction: act ${i}` }, { from: 'human', value: `obs ${i} \u{1F600}\u0301` });
    const text = JSON.stringify({ conversations: conv });
    const { trajectories: [t] } = await importText(text, {}, 65_537);
    expect(t.steps.length).toBe(10_000);
    expect(t.steps[9999]).toMatchObject({ thought: '思考 9999 😀', action: 'act 9999', observation: 'obs 9999 \u{1F600}\u0301' });
    const small = JSON.stringify({ conversations: conv.slice(0, 5) });
    const { trajectories: [u] } = await importText(small, {}, 1);
    expect(u.instruction).toBe('задача 🧭 — 任务');
    expect(u.steps[1].thought).toBe('思考 1 😀');
  });

  it('reports progress and stops on cancel', async () => {
    const text = (JSON.stringify(agentgym) + '\n').repeat(200);
    const seen: number[] = [];
    await importText(text, { totalBytes: new TextEncoder().encode(text).length, onProgress: (read) => seen.push(read) }, 1000);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen[seen.length - 1]).toBe(new TextEncoder().encode(text).length);
    const ac = new AbortController();
    const run = importText(text, { signal: ac.signal, onProgress: (read) => read > 5000 && ac.abort() }, 1000);
    await expect(run).rejects.toBeInstanceOf(ImportCancelled);
  });

  it('--format rejects records of another shape, naming what it found', async () => {
    const { trajectories, summary } = await importText(JSON.stringify(agentgym) + '\n' + JSON.stringify('> go\nok'), { format: 'openai' });
    expect(trajectories).toEqual([]);
    expect(summary.rejected.map((r) => r.reason)).toEqual(['--format openai expects "messages", found "conversations"', '--format openai expects "messages", found a string']);
  });
});

describe('more layouts', () => {
  it('a pretty-printed single record is one record, whatever its key order', async () => {
    const rec = { source_note: 'x', item_id: 'webshop_9', conversations: agentgym.conversations, system: 'S' };
    const { trajectories, summary } = await importText(JSON.stringify(rec, null, 2), { file: 'one.json' });
    expect(summary.rejected).toEqual([]);
    expect(trajectories.map((t) => [t.id, t.system, t.steps.length, t.extra?.source_note])).toEqual([['webshop_9', 'S', 2, 'x']]);
  });

  it('several pretty-printed records in a row (jq output) are all read', async () => {
    const text = [agentgym, { ...agentgym, item_id: 'webshop_7' }].map((r) => JSON.stringify(r, null, 2)).join('\n');
    const { trajectories, summary } = await importText(text, {}, 100);
    expect(summary.rejected).toEqual([]);
    expect(trajectories.map((t) => t.id)).toEqual(['webshop_6', 'webshop_7']);
  });

  it('a transcript that starts with a quote is text; JSONL of transcript strings is JSONL', async () => {
    const text = '"Find the key," says the note.\n> open drawer 1\nYou see a key 1.\n';
    const t = await importText(text, { file: 'q.txt' });
    expect([t.summary.layout, t.trajectories.length, t.trajectories[0]?.instruction]).toEqual(['text', 1, '"Find the key," says the note.']);
    const j = await importText([text, text].map((x) => JSON.stringify(x)).join('\n'));
    expect([j.summary.layout, j.trajectories.length]).toEqual(['jsonl', 2]);
  });

  it('an over-long element of a JSON list is reported and its neighbours kept', async () => {
    const big = { conversations: [{ from: 'human', value: 'x'.repeat(3000) }, { from: 'gpt', value: 'y' }] };
    const text = JSON.stringify([agentgym, big, agentgym], null, 1);
    const { trajectories, summary } = await importText(text, { file: 'l.json', maxLineChars: 2000 }, 500);
    expect(trajectories.map((t) => t.id)).toEqual(['webshop_6', 'webshop_6#2']);
    expect(summary.rejected).toEqual([{ file: 'l.json', line: expect.any(Number), path: '$[1]', reason: expect.stringMatching(/^element is \d+ characters long, over the 2000-character limit$/) }]);
  });

  it('JSONL whose lines are message lists is JSONL, not one JSON list', async () => {
    const line = JSON.stringify([{ role: 'user', content: 'task' }, { role: 'assistant', content: 'act' }]);
    const { trajectories, summary } = await importText(`${line}\n${line}\n${line}\n`);
    expect(summary.layout).toBe('jsonl');
    expect(trajectories.length).toBe(3);
  });

  it('a truncated pretty-printed record is reported once; text after the last value is reported', async () => {
    const text = JSON.stringify(agentgym, null, 2);
    const cut = await importText(text.slice(0, text.length - 40), { file: 'cut.json' });
    expect(cut.trajectories).toEqual([]);
    expect(cut.summary.rejected).toEqual([{ file: 'cut.json', line: 1, path: '$', reason: 'the file ends inside this record (truncated JSON)' }]);
    const tail = await importText(`[${JSON.stringify(agentgym)}]\nnot json`, { file: 't.json' });
    expect(tail.trajectories.length).toBe(1);
    expect(tail.summary.rejected).toEqual([{ file: 't.json', line: 2, reason: expect.stringMatching(/^unexpected text after the last top-level JSON value/) }]);
  });
});
