// Real-world layouts beyond chat files: step-level instruction records (input/output pairs whose
// prompt holds few-shot examples and the history), search traces (problem + trace + reward),
// OpenAI-style role/content conversations, and layouts the importer does not read — each either
// imported right or refused in one clear sentence. Fixtures: test/fixtures/data/ (README there).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importText } from './helpers.ts';
import { splitFewShot } from '../../../src/data/fewShot.ts';

const fixture = (name: string) => readFileSync(`test/fixtures/data/${name}`, 'utf8');
const actions = (t: { steps: { action?: string }[] }) => t.steps.map((s) => s.action);

describe('step-level instruction records (input/output pairs)', () => {
  it('rebuilds each episode from its longest history + output, drops the few-shot examples, keeps the real task', async () => {
    const { trajectories, summary } = await importText(fixture('step-pairs.jsonl'), { file: 'step-pairs.jsonl' });
    expect(summary.formats).toEqual({ 'step-pairs': 2 });
    expect(summary.stepRecords).toEqual({ records: 7, episodes: 2 });
    const [book, qa] = trajectories;

    // The real task, not the examples: no egg, no pen, and the prompt is not the trajectory.
    expect(book.id).toBe('bedroom_book_4');
    expect(book.instruction).toBe('You are in a bedroom. You see a bed 1, a dresser 1 and a shelf 1.\nYour task is to: put a book on the dresser.');
    expect(book.system).toMatch(/^Interact with a household to solve a task\./);
    expect(book.system).not.toMatch(/egg|pen 1|examples/);
    expect(actions(book)).toEqual(['go to shelf 1', 'take book 3 from shelf 1', 'go to dresser 1', 'put book 3 in/on dresser 1']);
    expect(book.steps[0].thought).toBe('A book is likely on the shelf or the bed; shelf first.');
    expect(book.steps.map((s) => s.observation)).toEqual(['On the shelf 1, you see a book 3 and a vase 1.', 'You pick up the book 3.', 'On the dresser 1, you see a lamp 1.', '']);
    expect(book.provenance!.notes).toEqual(
      expect.arrayContaining([
        '2 few-shot example(s) in the prompt were dropped (they end at "Here is the task."); the task after them is this trajectory\'s',
        // Records come in any order; the shortest (a lone thought) still belongs to the episode.
        'rebuilt from 5 step records of one episode (line 1, line 2, line 4, line 5, line 7): the longest history and its output give the 4 steps',
      ]),
    );

    // Labelled style after "(END OF EXAMPLES)": the question is the task, "Observation 1:" is a label.
    expect(qa.instruction).toBe('Question: In which country was the inventor of the telephone born?');
    expect(qa.system).toBe('Answer the question by interleaving Thought, Action and Observation steps. Actions: Search[entity], Finish[answer].');
    expect(actions(qa)).toEqual(['Search[Alexander Graham Bell]', 'Finish[Scotland]']);
    expect(qa.steps[0].observation).toBe('Alexander Graham Bell was a Scottish-born inventor.');

    // Only the two broken records are rejected — never the outputs of the good ones.
    expect(summary.rejected).toEqual([
      { file: 'step-pairs.jsonl', line: 8, reason: expect.stringMatching(/^an input\/output pair with no agent step: neither the prompt \("instruction" \/ "input"\) nor the output \("output"\) has/) },
      { file: 'step-pairs.jsonl', line: 9, reason: '$.input must be a string (got number)' },
    ]);
  });

  it('finds examples by a repeated task header when there is no marker; a prompt ending in ">" awaits the output', () => {
    const prompt = [
      'You play a text game. Reply with one command.',
      '',
      'You are in a hall. Your task is to: open the door.',
      '> open door 1',
      'The door opens.',
      '',
      'You are in a barn. Your task is to: feed the horse.',
      '> take hay 1',
      'You take the hay.',
      '',
      'You are in a garden. Your task is to: water the rose.',
      '> take can 1',
      'You take the watering can.',
      '>',
    ].join('\n');
    const split = splitFewShot(prompt);
    expect(split).toMatchObject({ system: 'You play a text game. Reply with one command.', demos: 2, by: 'the repeated header "You are in a garden. Your task is to:"' });
    expect(split.episode.startsWith('You are in a garden.')).toBe(true);
    expect(splitFewShot('Just a task, no examples.\n> look\nYou see a room.')).toEqual({ demos: 0, episode: 'Just a task, no examples.\n> look\nYou see a room.' });
  });

  it('joins an unprefixed output to a prompt-style history; diverging attempts at one task stay apart', async () => {
    const head = 'You are in a garden. Your task is to: water the rose.\n';
    const rec = (history: string, output: string) => JSON.stringify({ input: head + history, output });
    const text = [
      rec('>', 'take can 1'),
      rec('> take can 1\nYou take the watering can.\n>', 'water rose 1'),
      // Another attempt at the same task: its first step differs, so it is its own episode.
      rec('> take hose 1\nThere is no hose.\n>', 'take can 1'),
    ].join('\n');
    const { trajectories, summary } = await importText(text);
    expect(summary.rejected).toEqual([]);
    expect(summary.stepRecords).toEqual({ records: 3, episodes: 2 });
    expect(trajectories.map(actions)).toEqual([['take can 1', 'water rose 1'], ['take hose 1', 'take can 1']]);
  });
  it('KnowAgent\'s "ActionPath:" lines are the agent\'s reasoning, not environment actions (both styles)', async () => {
    const alf = JSON.stringify({ input: 'Here is the task.\nYou are in a room.\nYour task is to: take a mug.\n', output: '> Think: Find a mug.\n> ActionPath: Start\n> go to shelf 1\nOn the shelf 1, you see a mug 1.\n> ActionPath: Start->Goto(shelf 1)\n> take mug 1 from shelf 1\nYou pick up the mug 1.' });
    const qa = JSON.stringify({ input: '(END OF EXAMPLES)\nQuestion: Who wrote Perelandra?\n', output: 'ActionPath 1: Start\nThought 1: Search it.\nAction 1: Search[Perelandra]\nObservation 1: A novel by C. S. Lewis.\nActionPath 2: Start->Search[Perelandra]\nThought 2: Done.\nAction 2: Finish[C. S. Lewis]' });
    const { trajectories } = await importText(`${alf}\n${qa}`);
    expect(trajectories.map((t) => [t.instruction, actions(t)])).toEqual([
      ['You are in a room.\nYour task is to: take a mug.', ['go to shelf 1', 'take mug 1 from shelf 1']],
      ['Question: Who wrote Perelandra?', ['Search[Perelandra]', 'Finish[C. S. Lewis]']],
    ]);
    expect(trajectories[0].steps[1].thought).toBe('ActionPath: Start->Goto(shelf 1)');
    expect(trajectories[1].steps[0].observation).toBe('A novel by C. S. Lewis.');
    expect(trajectories[1].steps[1].thought).toBe('ActionPath 2: Start->Search[Perelandra]\nDone.');
  });
});

describe('search traces (problem + trace + reward)', () => {
  it('the goal is the task, each ">" action is split from its observation, failed runs are left out, scalars are not records', async () => {
    const { trajectories, summary } = await importText(fixture('search-trace.json'), { file: 'search-trace.json' });
    expect(summary.layout).toBe('json-object');
    expect(trajectories.map((t) => t.id)).toEqual(['env_0']);
    const [t] = trajectories;
    expect(t.source.format).toBe('search-trace');
    expect(t.instruction.endsWith('\n\ncraft wooden shovel.')).toBe(true);
    expect(t.instruction.startsWith('Crafting commands:\ncraft 4 oak planks')).toBe(true);
    expect(actions(t)).toEqual(['inventory', 'craft 4 oak planks using 1 oak logs', 'craft 4 stick using 2 oak planks', 'craft 1 wooden shovel using 2 stick, 1 oak planks']);
    // No action glued into an observation, no empty ">" left over.
    for (const s of t.steps) expect(s.observation).not.toMatch(/(^|\n)\s*>|craft \d/);
    expect(t.steps[0].thought).toBe('I should check my inventory first.');
    expect(t.outcome).toEqual({ success: true, reward: 1 });
    expect(t.extra?.plans).toHaveLength(2);
    expect(t.provenance!.notes).toContain('the trace holds 3 executor runs (sub-tasks), each starting after an empty ">"; they were joined in order');
    // env_1 failed (reward 0): left out, counted; env_2 recorded no steps: one rejection for the record.
    expect(summary.failedRuns).toEqual({ leftOut: 1, kept: 0, leftOutIds: ['env_1'] });
    expect(summary.rejected).toEqual([{ file: 'search-trace.json', line: 21, path: '$.env_2', reason: '$.env_2.trace is empty: the run recorded no steps; the run failed: reward 0' }]);
    expect(summary.rejectedRecords).toBe(1);

    const kept = await importText(fixture('search-trace.json'), { file: 'search-trace.json', failedRuns: 'keep' });
    expect(kept.trajectories.map((x) => [x.id, x.outcome])).toEqual([['env_0', { success: true, reward: 1 }], ['env_1', { success: false, reward: 0 }]]);
    expect(kept.summary.failedRuns).toEqual({ leftOut: 0, kept: 1, leftOutIds: [] });
    expect(kept.trajectories[1].provenance!.notes).toContain("the record's reward 0 marks this run as failed");
  });

  it('nested task groups, boolean rewards, {name, result, traj} records; broken variants are rejected by path', async () => {
    const run = (reward: unknown, trace: unknown = ' think: Find a mug first.\nOK.\n> go to shelf 1\nOn the shelf 1, you see a mug 1.\n> take mug 1 from shelf 1\nYou pick up the mug 1.\n>\n') => ({
      problem: 'You are in a room.\nYour task is to: take a mug.',
      trace,
      plans: ['take a mug. at depth 1, success: True'],
      reward,
    });
    const file = { pick: { 'trial/a': run(true), 'trial/b': run(false), 'trial/c': run('yes'), 'trial/d': run(true, ['> go']) } };
    const { trajectories, summary } = await importText(JSON.stringify(file, null, 2), { file: 'adapt.json' });
    expect(trajectories.map((t) => [t.id, t.instruction, actions(t)])).toEqual([['trial/a', 'You are in a room.\nYour task is to: take a mug.', ['go to shelf 1', 'take mug 1 from shelf 1']]]);
    expect(summary.failedRuns?.leftOutIds).toEqual(['trial/b']);
    expect(summary.rejected.map((r) => [r.path, r.reason])).toEqual([
      ['$.pick["trial/c"]', '$.pick["trial/c"].reward must be true, false or a number (got "yes")'],
      ['$.pick["trial/d"]', '$.pick["trial/d"].trace must be the run\'s transcript as a string (got a list)'],
    ]);

    const knowAgent = { name: 'pick_mug_1', result: true, traj: 'You are in a room.\nYour task is to: take a mug.\n> go to shelf 1\nOn the shelf 1, you see a mug 1.\n> take mug 1 from shelf 1\nYou pick up the mug 1.\n' };
    const k = await importText(JSON.stringify(knowAgent) + '\n' + JSON.stringify({ ...knowAgent, name: 'pick_mug_2', result: false }));
    expect(k.trajectories.map((t) => [t.id, t.instruction, actions(t), t.outcome])).toEqual([['pick_mug_1', 'You are in a room.\nYour task is to: take a mug.', ['go to shelf 1', 'take mug 1 from shelf 1'], { success: true }]]);
    expect(k.summary.failedRuns).toMatchObject({ leftOut: 1 });
  });
});

describe('layouts the importer does not read, roles, prefixes, duplicates', () => {
  it('a file of unread records is refused once, naming the fields; rejections count records', async () => {
    const { trajectories, summary } = await importText(fixture('unknown-layout.jsonl'), { file: 'u.jsonl' });
    expect(trajectories).toEqual([]);
    expect(summary.rejected).toEqual([
      {
        file: 'u.jsonl',
        line: 1,
        fields: ['question', 'log', 'score'],
        records: 3,
        reason: expect.stringMatching(/^all 3 records have a layout the importer does not read — no conversation or trajectory, only the fields "question", "log" and "score" \(the importer reads /),
      },
    ]);
    expect(summary.rejectedRecords).toBe(3);
    // Beside records it can read, each unread record is rejected once, by line.
    const good = JSON.stringify({ conversations: [{ from: 'human', value: 'task' }, { from: 'gpt', value: 'act' }] });
    const mixed = await importText([good, ...fixture('unknown-layout.jsonl').trim().split('\n')].join('\n'));
    expect(mixed.trajectories.length).toBe(1);
    expect(mixed.summary.rejected.map((r) => [r.line, r.records, r.fields])).toEqual([[2, undefined, ['question', 'log', 'score']], [3, undefined, ['question', 'log', 'score']], [4, undefined, ['question', 'log', 'score']]]);
  });

  it('named records of one unread shape (and a summary member) are refused in one sentence naming each shape', async () => {
    const runs = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`fixed_${i}`, { problem: `buy item ${i}`, score: i / 4, success: i === 3, action_history: ['search[item]', 'click[Buy Now]'] }]));
    const { summary } = await importText(JSON.stringify({ ...runs, overall: { score: 0.4, success_rate: 0.25, count: 4 } }, null, 2), { file: 'w.json' });
    expect(summary.rejected).toEqual([
      expect.objectContaining({
        path: '$.fixed_0',
        records: 5,
        reason: expect.stringMatching(/^none of the 5 records has a layout the importer reads — no conversation or trajectory: 4 have the fields "problem", "score", "success" and "action_history"; 1 has the fields "score", "success_rate" and "count" \(/),
      }),
    ]);
    expect(summary.rejectedRecords).toBe(5);
  });

  it('a record with no conversation at all says so and lists its fields (not "not a ReAct transcript")', async () => {
    const one = await importText('{"item_id": "webshop_3"}\n');
    expect(one.summary.rejected.map((r) => r.reason)).toEqual([expect.stringMatching(/^no conversation or trajectory in this record: its only field is "item_id" \(/)]);
    const good = JSON.stringify({ conversations: [{ from: 'human', value: 'task' }, { from: 'gpt', value: 'act' }] });
    const { summary } = await importText(`${good}\n{"item_id": "webshop_4", "reward": 1}\n`);
    expect(summary.rejected).toEqual([{ file: 'test.jsonl', line: 2, fields: ['item_id', 'reward'], reason: expect.stringMatching(/^no conversation or trajectory in this record: its fields are "item_id" and "reward" \(/) }]);
    expect([...one.summary.rejected, ...summary.rejected].every((r) => !/ReAct/.test(r.reason))).toBe(true);
  });

  it('OpenAI-style role/content is its own format; an "Observation:" label the file uses is not doubled; identical trajectories are reported', async () => {
    const { trajectories, summary } = await importText(fixture('openai-style.jsonl'), { file: 'o.jsonl' });
    expect(summary.formats).toEqual({ 'openai-style': 3 });
    expect(trajectories[0].steps.map((s) => s.observation)).toEqual(['In the drawer 1 you see a key 1.', 'You pick up the key.']);
    expect(trajectories[0].provenance!.notes![0]).toMatch(/^the "Observation:" label at the start of 2 observation\(s\) was removed/);
    expect(trajectories.map((t) => t.id)).toEqual(['chat_1', 'chat_2', 'chat_1#2']);
    expect(summary.duplicates).toEqual([{ dropped: 'chat_1#2', keptAs: 'chat_1', kept: true, reason: expect.stringMatching(/^identical to "chat_1"/) }]);
    // A bare list of role/content messages is OpenAI-style too; ShareGPT stays ShareGPT.
    const bare = await importText(JSON.stringify([{ role: 'user', content: 'task' }, { role: 'assistant', content: 'act' }]) + '\n' + JSON.stringify([{ from: 'human', value: 'task' }, { from: 'gpt', value: 'act' }]));
    expect(bare.summary.formats).toEqual({ 'openai-style': 1, sharegpt: 1 });
    // A file where the label is on a few observations only keeps them as written.
    const few = JSON.stringify({ conversations: [{ from: 'human', value: 't' }, { from: 'gpt', value: 'a' }, { from: 'human', value: 'Observation: x' }, { from: 'gpt', value: 'b' }, { from: 'human', value: 'y' }, { from: 'gpt', value: 'c' }, { from: 'human', value: 'z' }] });
    expect((await importText(few)).trajectories[0].steps.map((s) => s.observation)).toEqual(['Observation: x', 'y', 'z']);
  });

  it('--format names the new layouts and refuses records of another shape', async () => {
    const pair = JSON.stringify({ input: 'Your task is to: go.\n>', output: 'go north' });
    expect((await importText(pair, { format: 'step-pairs' })).trajectories.length).toBe(1);
    const r = await importText(pair, { format: 'search-trace' });
    expect(r.summary.rejected.map((x) => x.reason)).toEqual(['--format search-trace expects a "trace" record with its goal, found an input/output step record']);
  });
});
