// Proof: the real stories260K model gives exactly its README's golden greedy text — from
// the llama2.c .bin, from the Hugging Face folder `atlas convert` makes of it, and through
// `atlas generate` on the command line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createGpuContext, type GpuContext } from '../../../src/engine/device.ts';
import type { LlamaConfig } from '../../../src/engine/config.ts';
import type { NamedTensors } from '../../../src/engine/params.ts';
import { createModel } from '../../../src/engine/model.ts';
import { createGenerator } from '../../../src/engine/generate/generator.ts';
import { parseLlama2c } from '../../../src/engine/weights/llama2c.ts';
import { loadHfModel } from '../../../src/engine/weights/hf.ts';
import { dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { Llama2cTokenizer } from '../../../src/data/tokenizer/llama2c.ts';
import { referenceLogits } from './reference.ts';
import { maxAbsDiff } from './tiny-model.ts';
import { STORIES_BIN, STORIES_DIR, haveStories, storiesGolden } from './stories.ts';

const DIR = STORIES_DIR;
const BIN = STORIES_BIN;
const have = haveStories;
if (!have) console.warn(`SKIPPED stories260K golden tests: ${DIR} not found (../shared absent)`);
const golden = storiesGolden;
const run = promisify(execFile);
const atlas = (...args: string[]) => run(process.execPath, [path.resolve('bin/atlas.mjs'), ...args], { cwd: path.resolve('.'), maxBuffer: 1 << 20 });

describe.skipIf(!have)('stories260K golden greedy output', () => {
  let ctx: GpuContext;
  let tmp: string;
  let tok: Llama2cTokenizer;
  beforeAll(async () => {
    ctx = await createGpuContext();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'atlas-s260-'));
    tok = Llama2cTokenizer.fromBytes(readFileSync(path.join(DIR, 'tok512.bin')), 512);
  });
  afterAll(() => {
    ctx?.device.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function greedy60(config: LlamaConfig, tensors: NamedTensors) {
    const model = await createModel(ctx, config, tensors);
    const gen = await createGenerator(model, { maxBatch: 1, maxSeq: 64 });
    const [ids] = await gen.generate([[1]], { maxNewTokens: 60 });
    gen.destroy();
    model.destroy();
    return ids;
  }

  it('from the llama2.c .bin: 60 greedy tokens from BOS = golden text; logits = CPU reference', async () => {
    const { config, tensors } = parseLlama2c(readFileSync(BIN));
    const ids = await greedy60(config, tensors);
    expect(ids).toHaveLength(60);
    expect(tok.decode(ids, 1)).toBe(golden());
    // the decode-step logits agree with an independent full forward
    const model = await createModel(ctx, config, tensors);
    const gen = await createGenerator(model, { maxBatch: 1, maxSeq: 16 });
    const { tokens, logits } = await gen.generateDetailed([[1]], { maxNewTokens: 8, collectLogits: true });
    expect(tokens[0]).toEqual(ids.slice(0, 8));
    const ref = referenceLogits(config, tensors, [1, ...ids.slice(0, 7)]);
    for (let s = 0; s < 8; s++) expect(maxAbsDiff(logits![0][s], ref[s]), `step ${s}`).toBeLessThan(1e-4);
    gen.destroy();
    model.destroy();
  });

  it('atlas convert → HF folder → load → the same golden text (and bit-identical weights)', async () => {
    const out = path.join(tmp, 'hf');
    const { stdout } = await atlas('convert', '--from', BIN, '--out', out);
    expect(stdout).toMatch(/converted .* → /);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const fromBin = parseLlama2c(readFileSync(BIN));
    const hf = await loadHfModel(dirSource(out));
    expect(hf.config).toEqual(fromBin.config);
    for (const [name, t] of fromBin.tensors) expect(Buffer.from(hf.tensors.get(name)!.buffer).equals(Buffer.from(t.slice().buffer)), name).toBe(true);
    const ids = await greedy60(hf.config, hf.tensors);
    expect(tok.decode(ids, 1)).toBe(golden());
    // the converted folder generates through the CLI too, with its HF tokenizer.json
    const cli = await atlas('generate', '--model', out, '--max-new-tokens', '60');
    expect(cli.stdout).toBe(golden() + '\n');
  });

  it('a converted folder with only the llama2.c tokenizer (no hf/ beside the .bin) generates the golden text', async () => {
    const src = path.join(tmp, 'bin-only');
    mkdirSync(src);
    for (const f of ['stories260K.bin', 'tok512.bin']) copyFileSync(path.join(DIR, f), path.join(src, f));
    const out = path.join(tmp, 'hf-bin');
    await atlas('convert', '--from', path.join(src, 'stories260K.bin'), '--out', out);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tok512.bin']);
    const cli = await atlas('generate', '--model', out, '--max-new-tokens', '60');
    expect(cli.stdout).toBe(golden() + '\n');
  });

  it('npx atlas generate --model stories260K.bin --max-new-tokens 60 prints the golden text', async () => {
    const { stdout } = await atlas('generate', '--model', BIN, '--max-new-tokens', '60');
    expect(stdout).toBe(golden() + '\n');
  });

  it('the CLI reports bad inputs clearly', async () => {
    const truncated = path.join(tmp, 'truncated.bin');
    writeFileSync(truncated, readFileSync(BIN).subarray(0, 100_000));
    const err = await atlas('generate', '--model', truncated).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/truncated\.bin: file truncated: .* implies 1056540 bytes but the file has 100000/);
    const err2 = await atlas('generate', '--model', BIN, '--max-new-tokens', '600').then(() => null, (e: { code: number; stderr: string }) => e);
    expect(err2?.stderr).toMatch(/--max-new-tokens must be in 1\.\.511/);
  });
});
