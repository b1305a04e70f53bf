// Environment adapters: a browser File/Blob (Blob.stream(), a web ReadableStream — Node has
// the same API) and Node files; tokenizer loading by path.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { blobSource } from '../../../src/data/sources/browser.ts';
import { loadTokenizer, nodeFileSource } from '../../../src/data/sources/node.ts';
import { importTrajectories } from '../../../src/data/importer.ts';
import { ImportCancelled } from '../../../src/data/lines.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { exportTrajectories } from '../../../src/data/export.ts';
import { sampleTrajectory } from './helpers.ts';
import { sharedPresent } from './tokenizers.ts';

const data = exportTrajectories(Array.from({ length: 300 }, (_, i) => sampleTrajectory(`t${i}`, 4, { critical: [1] })), 'agentgym').text;

describe('byte sources', () => {
  it('Blob.stream() (the browser/worker path) imports like a Node file, with progress and cancel', async () => {
    const blob = new Blob([data]);
    const { source, totalBytes } = blobSource(blob);
    const progress: number[] = [];
    const viaBlob = await importTrajectories(source, { file: 'x.jsonl', totalBytes, importedAt: 'T', onProgress: (n) => progress.push(n) });
    const dir = mkdtempSync(path.join(tmpdir(), 'atlas-data-'));
    writeFileSync(path.join(dir, 'x.jsonl'), data);
    const viaFile = await importTrajectories(nodeFileSource(path.join(dir, 'x.jsonl')).source, { file: 'x.jsonl', importedAt: 'T' });
    expect(viaBlob.trajectories.length).toBe(300);
    expect(viaBlob.trajectories).toEqual(viaFile.trajectories);
    expect(progress[progress.length - 1]).toBe(totalBytes);
    const ac = new AbortController();
    ac.abort();
    await expect(importTrajectories(blobSource(blob).source, { file: 'x', signal: ac.signal })).rejects.toBeInstanceOf(ImportCancelled);
  });
});

describe('loadTokenizer', () => {
  it('"default" and the tokenizer folder give the same tokenizer', () => {
    const a = loadTokenizer('default');
    const b = loadTokenizer('models/default-tokenizer');
    expect(a).toBe(defaultTokenizer());
    expect(b.encode('go to fridge 1')).toEqual(a.encode('go to fridge 1'));
    expect(() => loadTokenizer('no/such/dir')).toThrow(/not found/);
  });
  it.skipIf(!sharedPresent)('a llama2.c .bin: vocabulary size counted from the file', () => {
    const t = loadTokenizer(path.resolve('../shared/models/stories260K/tok512.bin'));
    expect(t.vocabSize).toBe(512);
    expect(t.encode('Once upon a time')).toEqual([403, 407, 261, 378]);
  });
});
