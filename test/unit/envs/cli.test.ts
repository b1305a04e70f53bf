// The env / eval commands end to end (one process each; tsx start-up dominates the time).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemos } from '../../../src/envs/demo.ts';
import { getEnv } from '../../../src/envs/registry.ts';
import { trajectoriesToJsonl, parseTrajectoriesJsonl } from '../../../src/data/jsonl.ts';

const atlas = (args: string[], input?: string) =>
  execFileSync(process.execPath, [path.resolve('bin/atlas.mjs'), ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

describe('atlas env / eval', () => {
  it('env demo writes the canonical JSONL (same bytes as the library) and an AgentGym export', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'atlas-env-'));
    const out = path.join(dir, 'demo.jsonl');
    const gym = path.join(dir, 'gym.jsonl');
    const log = atlas(['env', 'demo', '--env', 'grid', '--n', '6', '--seed', '40', '--split', 'held-out', '--mistake-rate', '0.2', '--out', out, '--agentgym', gym]);
    expect(log).toMatch(/wrote 6 grid held-out trajectories \(seeds 40\.\.45, \d+ steps, 0 failed\)/);
    const text = readFileSync(out, 'utf8');
    expect(text).toBe(trajectoriesToJsonl(generateDemos(getEnv('grid'), 6, 40, 'held-out', { mistakeRate: 0.2 })));
    expect(parseTrajectoriesJsonl(text, out).trajectories).toHaveLength(6);
    const rec = JSON.parse(readFileSync(gym, 'utf8').split('\n')[0]);
    expect(rec.item_id).toBe('grid/held-out/' + JSON.parse(text.split('\n')[0]).taskType + '/40');
    expect(rec.conversations[0].from).toBe('human');
    expect(rec.conversations[1]).toMatchObject({ from: 'gpt', loss: true });
    expect(rec.conversations[1].value).toMatch(/^Thought: .+\nAction: /s);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('env play works with piped stdin', () => {
    const out = atlas(['env', 'play', '--env', 'household', '--seed', '4'], 'look\ngo to cabinet 1\nopen cabinet 1\nfly\n');
    expect(out).toContain('Your task is to: ');
    expect(out).toContain('> go to cabinet 1\nThe cabinet 1 is closed.\n> open cabinet 1\nYou open the cabinet 1. The cabinet 1 is open. In it, you see');
    expect(out).toContain('> fly\nNothing happens.');
    expect(out).toMatch(/\[stopped after 4 steps, task not done\]/);
  }, 60_000);

  it('eval prints the figures as JSON and refuses a model it cannot load', () => {
    const rep = JSON.parse(atlas(['eval', '--model', 'expert', '--env', 'all', '--episodes', '5', '--seed', '3', '--json']));
    const totals = rep.rows.filter((r: { taskType: string }) => r.taskType === 'all');
    expect(totals.map((r: { env: string; split: string }) => `${r.env} ${r.split}`)).toEqual(['household held-in', 'household held-out', 'grid held-in', 'grid held-out', 'crafting held-out']);
    expect(totals.every((r: { successRate: number }) => r.successRate === 1)).toBe(true);
    expect(rep.skipped[0]).toMatch(/crafting has no held-in tasks/);
    expect(() => atlas(['eval', '--model', '/nope/model', '--env', 'grid', '--episodes', '2'])).toThrow(/model path \/nope\/model does not exist/);
  }, 60_000);
});
