// `atlas pretrain` (run in-process on the tiny preset, a few steps of short windows): the same
// seed gives the same losses and bytes; a run stopped at a checkpoint and resumed gives the
// same losses and weights as one that never stopped; the corpus is a pure function of its seed.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as pretrain } from '../../../src/cli/commands/pretrain.ts';
import { corpusChunk, corpusEpisodes, firstTurnsOf, PRETRAIN_SEED_BASE, taskNames } from '../../../src/experiment/pretrain-corpus.ts';
import { defaultTokenizer } from '../../../src/data/defaultTokenizer.ts';
import { dirSource } from '../../../src/engine/weights/file-source-node.ts';
import { modelFromFiles } from '../../../src/experiment/model-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'atlas-pretrain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = ['--model', 'preset:tiny', '--tokens', '6000', '--batch', '2', '--seq', '512', '--lr', '0.01', '--warmup', '2', '--log-every', '1', '--checkpoint-every', '3', '--validation-episodes', '2'];

async function run(out: string, extra: string[] = []): Promise<{ code: number; lines: Record<string, number>[] }> {
  const lines: Record<string, number>[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(JSON.parse(s)));
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const code = await pretrain.run(['--out', out, ...ARGS, ...extra]);
    return { code, lines };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

describe('atlas pretrain', () => {
  it('is deterministic for a seed and resumes from its checkpoint to the same losses and weights', async () => {
    const a = join(dir, 'a');
    const c = join(dir, 'c');
    const first = await run(a);
    expect(first.code).toBe(0);
    // 6000 tokens / (2 × 512) → 6 steps, one JSON line each.
    expect(first.lines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(first.lines.every((l) => Number.isFinite(l.loss) && l.tokens === l.step * 1024 && l.etaS >= 0)).toBe(true);
    expect(first.lines[5].loss).toBeLessThan(first.lines[0].loss);
    expect(first.lines[2].validationLoss).toBeGreaterThan(0);
    // A second process with the same seed, stopped at step 3: the same losses so far (deterministic).
    const stopped = await run(c, ['--stop-after', '3']);
    expect(stopped.code).toBe(0);
    expect(stopped.lines.map((l) => l.loss)).toEqual(first.lines.slice(0, 3).map((l) => l.loss));
    expect(existsSync(join(c, 'checkpoint', 'state.json'))).toBe(true);
    expect(existsSync(join(c, 'model.safetensors'))).toBe(false);
    // Mid-run weights load as a model folder.
    expect((await modelFromFiles(dirSource(join(c, 'checkpoint', 'model')))).model.config.dModel).toBe(32);
    // A second start without --resume is refused (it would overwrite the unfinished run).
    await expect(run(c)).rejects.toThrow(/--resume/);
    // Resuming with other options is refused, naming the option.
    await expect(run(c, ['--resume', '--lr', '0.02'])).rejects.toThrow(/lr: checkpoint 0\.01, now 0\.02/);
    const resumed = await run(c, ['--resume']);
    expect([...stopped.lines, ...resumed.lines].map((l) => l.loss)).toEqual(first.lines.map((l) => l.loss));
    expect(readFileSync(join(c, 'model.safetensors')).equals(readFileSync(join(a, 'model.safetensors')))).toBe(true);
    expect(existsSync(join(c, 'checkpoint'))).toBe(false);
    const provenance = JSON.parse(readFileSync(join(c, 'provenance.json'), 'utf8'));
    expect(provenance.command).toHaveLength(2);
    expect(provenance.command[1]).toMatch(/^npx atlas pretrain --out .* --resume$/);
    expect(provenance.tokens).toBe(6 * 1024);
    expect(provenance.adapter).toBeTruthy();
    // The folder loads on its own, tokenizer included.
    const loaded = await modelFromFiles(dirSource(c));
    expect(loaded.tokenizer.vocabSize).toBe(1024);

    // A further stage from the finished folder: starts from its weights (its episode losses are
    // the trained model's, far below a fresh start), reads the corpus on from the next chunk, and
    // keeps the first stage's provenance.
    const stage2 = join(dir, 'stage2');
    const cont = await run(stage2, ['--init', a, '--tokens', '2048', '--observation-weight', '1', '--plan-weight', '2', '--name-weight', '3', '--first-turns', '3', '--shuffle-objects', '--copy-mix', '0.5', '--copy-warmup', '1']);
    expect(cont.code).toBe(0);
    expect(cont.lines.map((l) => l.step)).toEqual([1, 2]);
    // Step 1 is the copying warm-up's row (random tokens: near chance either way); step 2 is
    // the stream's first episode batch, which the trained weights predict far better.
    expect(cont.lines[1].loss).toBeLessThan(first.lines[1].loss - 0.5);
    const p2 = JSON.parse(readFileSync(join(stage2, 'provenance.json'), 'utf8'));
    const p1 = JSON.parse(readFileSync(join(a, 'provenance.json'), 'utf8'));
    expect(p2.corpus.firstChunk).toBe(p1.corpus.chunks);
    expect(p2.previousStages).toHaveLength(1);
    expect(p2.previousStages[0].command).toEqual(p1.command);
    expect(p2.settings.init).toBe(a);
    expect(p2.settings.observationWeight).toBe(1);
    expect(p1.settings.observationWeight).toBe(0);
    expect(p2.settings.planWeight).toBe(2);
    expect(p2.settings.firstTurns).toBe(3);
    expect(p2.settings.nameWeight).toBe(3);
    expect(p1.settings.firstTurns).toBe(0);
    expect([p1.settings.shuffleObjects, p2.settings.shuffleObjects]).toEqual([false, true]);
    expect([p1.settings.copyMix, p2.settings.copyMix]).toEqual([0, 0.5]);
    expect([p1.settings.copyWarmup, p2.settings.copyWarmup]).toEqual([0, 1]);
    expect(p2.what).toMatch(/weight 1 on the observations, weight 2 on the plan, weight 3 on the task's names, episodes cut after their first 3 agent turns, household object classes renamed by a random permutation per episode, the first 1 batch synthetic copying rows only, 0.5 of the batches synthetic copying rows/);
    await expect(run(join(dir, 'z'), ['--observation-weight', '-1'])).rejects.toThrow(/--observation-weight must be 0 or more/);
    await expect(run(join(dir, 'z'), ['--name-weight', '0'])).rejects.toThrow(/--name-weight must be positive/);
    await expect(run(join(dir, 'z'), ['--copy-mix', '1'])).rejects.toThrow(/--copy-mix must be at least 0 and below 1 \(got 1\)/);
    await expect(run(join(dir, 'z'), ['--copy-warmup', '-1'])).rejects.toThrow(/--copy-warmup must be 0 or more batches \(got -1\)/);
    await expect(run(join(dir, 'z'), ['--first-turns', '-2'])).rejects.toThrow(/--first-turns must be 0 \(whole episodes\) or more/);
    // A folder without provenance, or of another shape, is refused.
    await expect(run(join(dir, 'x'), ['--init', join(c, 'nope')])).rejects.toThrow(/no provenance\.json/);
    await expect(run(join(dir, 'y'), ['--init', a, '--model', 'preset:small'])).rejects.toThrow(/its config \(preset:tiny\) differs from --model preset:small in dModel/);
  });
});

describe('the pretraining corpus', () => {
  it('is a pure function of (seed, chunk), with episode seeds far from the experiments\'', () => {
    const tok = defaultTokenizer();
    const opts = { seed: 5, tokenizer: tok, batchSize: 2, seqLen: 256 };
    const x = corpusChunk(opts, 1);
    const y = corpusChunk(opts, 1);
    expect(x.length).toBeGreaterThan(0);
    expect(x.map((b) => Array.from(b.inputIds).join()).join('|')).toBe(y.map((b) => Array.from(b.inputIds).join()).join('|'));
    expect(corpusChunk({ ...opts, seed: 6 }, 1).map((b) => Array.from(b.inputIds).join()).join('|')).not.toBe(x.map((b) => Array.from(b.inputIds).join()).join('|'));
    const eps = corpusEpisodes(5, 0);
    expect(eps.every((t) => (t.provenance?.seed ?? 0) >= PRETRAIN_SEED_BASE)).toBe(true);
    // --observation-weight adds weight on the environment's replies to the same batches.
    // (At 512 tokens: a window of 256 after a 220–340-token instruction holds one turn, whose
    // reply is never in it.)
    const plain = corpusChunk({ ...opts, seqLen: 512 }, 1);
    const lm = corpusChunk({ ...opts, seqLen: 512, observationWeight: 1 }, 1);
    expect(lm.map((b) => Array.from(b.inputIds).join()).join('|')).toBe(plain.map((b) => Array.from(b.inputIds).join()).join('|'));
    const weighted = (bs: typeof x) => bs.reduce((n, b) => n + b.weights.reduce((k, w) => k + w, 0), 0);
    expect(weighted(lm)).toBeGreaterThan(1.5 * weighted(plain));
    // --plan-weight multiplies the weight of each episode's first agent turn, and only that.
    const planned = corpusChunk({ ...opts, seqLen: 512, planWeight: 3 }, 1);
    let raised = 0;
    planned.forEach((b, i) => b.weights.forEach((w, p) => {
      const before = plain[i].weights[p];
      if (w !== before) {
        expect([before, w]).toEqual([1, 3]);
        raised++;
      }
    }));
    // One plan per episode of the chunk (32), each tens of tokens long.
    expect(raised).toBeGreaterThan(32 * 20);
    // --name-weight multiplies the weight of agent-turn tokens that spell the task's names
    // (and of nothing else): the object and place, the goal, the item to craft.
    expect(taskNames('…\nYour task is to: put a cool egg in cabinet.')).toEqual(['egg', 'cabinet']);
    expect(taskNames('…\nYour task is to: look at pencil under the desklamp.')).toEqual(['pencil', 'desklamp']);
    expect(taskNames('Your goal: pick up the green key\nIn front of you …')).toEqual(['green', 'key']);
    expect(taskNames('…\nGoal: craft fishing rod.')).toEqual(['fishing', 'rod']);
    expect(taskNames('no task line here')).toEqual([]);
    const named = corpusChunk({ ...opts, seqLen: 512, nameWeight: 4 }, 1);
    const names = new Set(corpusEpisodes(5, 1).flatMap((t) => taskNames(t.instruction)));
    // Every run of raised positions spells whole names of the chunk's tasks (" to|m|ato", never
    // the " to" of "need to" nor the " pen" of " pencil").
    const runs: string[] = [];
    named.forEach((b, i) => {
      let run: number[] = [];
      b.weights.forEach((w, p) => {
        const before = plain[i].weights[p];
        if (w !== before) {
          expect([before, w]).toEqual([1, 4]);
          run.push(b.labels[p]);
        }
        if ((w === before || p % b.seqLen === b.seqLen - 1) && run.length) {
          runs.push(tok.decode(run));
          run = [];
        }
      });
    });
    expect(runs.length).toBeGreaterThan(32 * 2);
    for (const text of runs) expect(text.trim().split(' ').every((w) => names.has(w)), text).toBe(true);
    // --first-turns K: every example is one episode's instruction and its first K agent turns
    // (short enough for one window each), so a chunk of 32 episodes gives 32 examples, each
    // with its own plan.
    const cut = corpusChunk({ ...opts, seqLen: 512, firstTurns: 2 }, 1);
    const rows = cut.flatMap((b) => Array.from({ length: b.batch }, (_, r) => b.weights.subarray(r * b.seqLen, (r + 1) * b.seqLen))).filter((w) => w.some((x) => x > 0));
    expect(rows).toHaveLength(32);
    expect(corpusEpisodes(5, 1).map((t) => firstTurnsOf(t, 2).steps.length)).toEqual(corpusEpisodes(5, 1).map((t) => Math.min(2, t.steps.length)));
    const full = corpusEpisodes(5, 1)[0];
    expect(firstTurnsOf(full, 2).steps).toEqual(full.steps.slice(0, 2));
    expect(firstTurnsOf(full, 2).groundTruth).toEqual(full.groundTruth?.slice(0, 2));
    // Every environment appears, crafting included (held out from the arms' training only).
    expect(new Set(eps.map((t) => t.env))).toEqual(new Set(['household', 'grid', 'crafting']));
  });
});
