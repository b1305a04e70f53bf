import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { FileCacheStore } from '../../../src/select/cache-node.ts';
import { selectionCacheKey, type CachedSelection } from '../../../src/select/cache.ts';
import { makeTrajectory } from './fixtures.ts';

const entry = (key: string, step: number): CachedSelection => ({
  key,
  promptVersion: 'v',
  model: 'm',
  budget: 0.3,
  critical: [{ step }],
  repairs: [],
  usage: { prompt: 1, completion: 1 },
  createdAt: '2026-01-01T00:00:00Z',
});

describe('selection cache', () => {
  it('keys on content, prompt version, model and budget only (sha-256 of the documented JSON)', async () => {
    const t = makeTrajectory('k1', 6);
    const key = await selectionCacheKey(t, 'atlas-select/1', 'gpt-4o', 0.3);
    const expected = createHash('sha256')
      .update(JSON.stringify([{ system: '', instruction: t.instruction, steps: t.steps.map((s) => [s.agent, s.observation]) }, 'atlas-select/1', 'gpt-4o', 0.3]))
      .digest('hex');
    expect(key).toBe(expected);
    // Another id, selections or provenance: same key. Other content, version, model or budget: another key.
    expect(await selectionCacheKey({ ...t, id: 'other', selections: [{ selector: 'x', createdAt: '', status: 'failed', critical: [] }] }, 'atlas-select/1', 'gpt-4o', 0.3)).toBe(key);
    const others = await Promise.all([
      selectionCacheKey({ ...t, steps: t.steps.slice(1) }, 'atlas-select/1', 'gpt-4o', 0.3),
      selectionCacheKey(t, 'atlas-select/2', 'gpt-4o', 0.3),
      selectionCacheKey(t, 'atlas-select/1', 'gpt-4o-mini', 0.3),
      selectionCacheKey(t, 'atlas-select/1', 'gpt-4o', 0.2),
    ]);
    expect(new Set([key, ...others]).size).toBe(5);
  });

  it('file store: concurrent puts give whole lines; a torn last line is skipped and counted', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'atlas-cache-file-'));
    try {
      const a = new FileCacheStore(dir);
      await Promise.all(Array.from({ length: 50 }, (_, i) => a.put(entry(`k${i}`, i))));
      await a.close();
      const lines = (await readFile(a.file, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(50);
      lines.forEach((l) => expect(() => JSON.parse(l)).not.toThrow());
      await writeFile(a.file, (await readFile(a.file, 'utf8')) + '{"key":"torn","crit');
      const b = new FileCacheStore(dir);
      expect((await b.get('k49'))?.critical).toEqual([{ step: 49 }]);
      expect(await b.get('torn')).toBeUndefined();
      expect(b.skippedLines).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('file store: a missing directory is an empty cache; an unreadable path is a clear error', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'atlas-cache-file-'));
    try {
      expect(await new FileCacheStore(path.join(dir, 'not-yet')).get('x')).toBeUndefined();
      await mkdir(path.join(dir, 'bad', 'selections.jsonl'), { recursive: true }); // a directory where the file should be
      await expect(new FileCacheStore(path.join(dir, 'bad')).get('x')).rejects.toThrow(/cannot read selection cache .*selections\.jsonl/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
