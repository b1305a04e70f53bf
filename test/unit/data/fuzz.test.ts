// Fuzz: thousands of mutated records in one JSONL file. The importer must never throw, must
// account for every line (kept or rejected with a reason naming file and line), and must keep
// every record whose mutation leaves it valid.
import { describe, expect, it } from 'vitest';
import { importText } from './helpers.ts';
import { Rng } from '../../../src/data/rng.ts';

type Rec = Record<string, unknown>;
const base = (rng: Rng): Rec => {
  const n = 1 + rng.int(6);
  const conv: Rec[] = [{ from: 'human', value: `task ${rng.int(1000)}`, loss: null }];
  for (let i = 0; i < n; i++) conv.push({ from: 'gpt', value: `Thought: t${i}\nAction: a${i}`, loss: rng.next() < 0.5 }, { from: 'human', value: `o${i}`, loss: null });
  return { item_id: `env_${rng.int(1e6)}`, conversations: conv };
};
const UNICODE = ['😀', '\u0301', '中文', '\u202e', '\ud7ff', 'Ω', '\u0000'.replace('\u0000', '\u0001'), '\t', '"', '\\'];

// Mutations that keep a record valid (it must be kept) …
const valid: ((r: Rec, rng: Rng) => void)[] = [
  (r, rng) => { const c = r.conversations as Rec[]; const m = c[rng.int(c.length)]; m.value = `${m.value}${rng.pick(UNICODE)}${rng.pick(UNICODE)}`; },
  (r) => { (r.conversations as Rec[])[2].value = ''; },
  (r) => { for (const m of r.conversations as Rec[]) { m.role = m.from === 'gpt' ? 'assistant' : 'user'; delete m.from; } },
  (r) => { (r.conversations as Rec[]).splice(2, 0, { from: 'gpt', value: 'second turn' }); },
  (r) => { (r.conversations as Rec[]).unshift({ from: 'system', value: 'sys' }); },
  (r) => { r.extra_field = { nested: [1, 2, 3] }; },
  (r) => { delete r.item_id; },
];
// … and mutations that make it invalid (it must be rejected with a reason).
const invalid: ((r: Rec, rng: Rng) => void)[] = [
  (r) => { r.conversations = 'not a list'; },
  (r) => { (r.conversations as Rec[])[1].value = 42; },
  (r) => { (r.conversations as Rec[])[1].from = 'robot'; },
  (r) => { (r.conversations as Rec[])[1].loss = 'yes'; },
  (r) => { r.conversations = [{ from: 'human', value: 'only a task' }]; },
  (r) => { (r.conversations as unknown[])[1] = null; },
  (r) => { delete (r.conversations as Rec[])[1].from; },
  (r) => { (r.conversations as Rec[])[1].from = 'constructor'; },
  (r) => { (r.conversations as Rec[])[1].from = '__proto__'; },
];

describe('fuzz', () => {
  it('3,000 mutated records: no crash, every line accounted for, every valid record kept', async () => {
    const rng = new Rng(7);
    const lines: string[] = [];
    const expectValid = new Map<number, boolean | undefined>(); // line → expected outcome (undefined: unknown)
    for (let i = 0; i < 3000; i++) {
      const r = base(rng);
      const kind = rng.int(4);
      let text: string;
      if (kind === 0) {
        rng.pick(valid)(r, rng);
        text = JSON.stringify(r);
        expectValid.set(i + 1, true);
      } else if (kind === 1) {
        rng.pick(invalid)(r, rng);
        text = JSON.stringify(r);
        expectValid.set(i + 1, false);
      } else if (kind === 2) {
        // Byte-level damage: truncate, delete or insert random characters.
        const s = JSON.stringify(r);
        const at = rng.int(s.length);
        const op = rng.int(3);
        text = op === 0 ? s.slice(0, at) : op === 1 ? s.slice(0, at) + s.slice(at + 1 + rng.int(5)) : s.slice(0, at) + rng.pick(['{', '}', '"', ',', ']', 'x', '\\', '😀']) + s.slice(at);
        expectValid.set(i + 1, undefined);
      } else {
        text = JSON.stringify(r);
        expectValid.set(i + 1, true);
      }
      lines.push(text.replace(/\n/g, ' '));
    }
    const { trajectories, summary } = await importText(lines.join('\n'), { file: 'fuzz.jsonl' }, 4096);
    // A damaged key can turn a record into a collection of named members ("line 12 $.conversatins"),
    // each member then kept or rejected on its own; so a line may appear on both sides.
    const keptLines = new Set(trajectories.map((t) => Number(/^line (\d+)/.exec(t.source.record!)![1])));
    const rejectedLines = new Set(summary.rejected.map((r) => r.line));
    // Every non-blank line is kept or rejected (never neither); intact records are one or the other.
    for (let line = 1; line <= lines.length; line++) {
      const blank = lines[line - 1].trim() === '';
      expect(keptLines.has(line) || rejectedLines.has(line) || blank, `line ${line}`).toBe(true);
      if (expectValid.get(line) !== undefined) expect(keptLines.has(line) && rejectedLines.has(line), `line ${line}`).toBe(false);
    }
    expect(trajectories.length + summary.rejected.length).toBeGreaterThanOrEqual(lines.filter((l) => l.trim() !== '').length);
    for (const r of summary.rejected) {
      expect(r.file).toBe('fuzz.jsonl');
      expect(r.reason.length).toBeGreaterThan(5);
    }
    const mustKeep = [...expectValid].filter(([, v]) => v === true).map(([l]) => l);
    const mustReject = [...expectValid].filter(([, v]) => v === false).map(([l]) => l);
    expect(mustKeep.filter((l) => !keptLines.has(l))).toEqual([]);
    expect(mustReject.filter((l) => !rejectedLines.has(l))).toEqual([]);
    expect(mustKeep.length).toBeGreaterThan(1000);
    expect(mustReject.length).toBeGreaterThan(500);
    console.log(`fuzz: ${lines.length} records, ${trajectories.length} kept (${mustKeep.length} known-valid all kept), ${summary.rejected.length} rejected (${mustReject.length} known-invalid all rejected)`);
  });

  it('random bytes and random JSON-ish garbage in every layout never throw', async () => {
    const rng = new Rng(11);
    const alphabet = '[]{}",:\\ \n0123456789abcdeftrunl😀\u0000';
    for (let i = 0; i < 300; i++) {
      const len = rng.int(400);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[rng.int(alphabet.length)];
      const start = ['[', '{', '"', '> ', 'Action: ', ''][i % 6];
      const { summary } = await importText(start + s, {}, 1 + rng.int(50));
      for (const r of summary.rejected) expect(typeof r.reason).toBe('string');
    }
  });

  it('a pretty-printed JSON list of 1,000 mutated records: valid ones kept, invalid ones rejected by path', async () => {
    const rng = new Rng(23);
    const records: Rec[] = [];
    const valids: boolean[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = base(rng);
      const ok = rng.next() < 0.6;
      (ok ? rng.pick(valid) : rng.pick(invalid))(r, rng);
      r.id = `rec${i}`;
      records.push(r);
      valids.push(ok);
    }
    const { trajectories, summary } = await importText(JSON.stringify(records, null, 1), { file: 'list.json' }, 777);
    expect(summary.layout).toBe('json-array');
    expect(trajectories.map((t) => t.id)).toEqual(records.filter((_, i) => valids[i]).map((r) => r.id));
    expect(summary.rejected.map((r) => r.path)).toEqual(records.flatMap((_, i) => (valids[i] ? [] : [`$[${i}]`])));
    expect(summary.rejected.every((r) => r.line! > 1 && r.reason.length > 5)).toBe(true);
  });
});
