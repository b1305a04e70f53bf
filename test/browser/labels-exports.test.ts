// Labels, arms and exports mean what they say (issue 11, the page's part): a file's own labels
// train the critical arm and the Train step says so from the runner's own data preparation; a
// baseline selector run in Select never takes over the critical arm and the token view names
// it; the export offers the split and says what it left out; an arm's weights download as one
// zipped folder that loads, also after a reload (from the stored checkpoint); the run controls
// stay in view on the Train step; the import report counts records and failed runs.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pressStart, runToEnd, waitForRunEnd } from './harness.ts';
import { sharedPage } from './shared-page.ts';
import { download, unzipToFolder } from './downloads.ts';
import { dirSource } from '../../src/engine/weights/file-source-node.ts';
import { modelFromFiles } from '../../src/experiment/model-source.ts';

// 8 training + 2 held-out demonstrations; 4 steps of the tiny model, one evaluation (and checkpoint) at step 4.
const TINY = '#preset=quick-demo&arms=critical,full&model=preset:tiny&data=builtin:household+grid:4/1:s1:m0.15&labels=heuristic&steps=4&batch=1&seq=512&lr=0.005&warmup=1&evalEvery=4&rolloutEvery=0&rolloutEpisodes=0&nextAction=0&turnTokens=16&time=none';

/** AgentGym records of 10 steps with `loss: true` on 4 of them: more than the heuristic's 30 % budget allows. */
function labelledFile(n: number): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      item_id: `labelled_${i}`,
      conversations: [
        { from: 'human', value: `Your task is to: put mug ${i} in cabinet 1.` },
        ...Array.from({ length: 10 }, (_, k) => [
          { from: 'gpt', loss: k % 3 === 0, value: `Thought: check place ${k}.\nAction: go to shelf ${k}` },
          { from: 'human', value: `On shelf ${k}, you see a mug ${k === 9 ? i : 99}.` },
        ]).flat(),
      ],
    }),
  ).join('\n');
}


const within = (box: { y: number; height: number } | null, height: number) => box !== null && box.y >= 0 && box.y + box.height <= height;

describe('labels, arms and exports', () => {
  const shared = sharedPage();
  const dir = mkdtempSync(join(tmpdir(), 'labels-exports-'));

  /** Opens TINY under `query` (each test's page state its own) once its 10 built-in trajectories are in. */
  async function openTiny(query: string): Promise<void> {
    const { h, page } = shared;
    await page.goto(h.baseUrl + '/?' + query + TINY);
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('10 trajectories');
  }

  it('a file with its own loss flags trains the critical arm on them, and the Train step says so', async () => {
    const { h, page } = shared;
    const file = join(dir, 'labelled.jsonl');
    writeFileSync(file, labelledFile(5));
    await openTiny('import');
    await page.setInputFiles('[data-testid="file-input"]', file);
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('5 trajectories');
    await expect.poll(() => page.url(), { timeout: 10_000 }).toMatch(/labels=import(:|%3A)loss/);
    expect(await page.textContent('[data-testid="imported-selections"]')).toMatch(/import:loss on 5 .*the critical arm trains on import:loss/);
    await page.click('#tab-train');
    const sentence = (await page.textContent('[data-testid="critical-selection"]'))!;
    expect(sentence).toMatch(/trains on the selection import:loss \(the file’s own “loss” flags\), present on 5 of 5 trajectories; in the 4 training trajectories it supervises 16 of 40 steps \(40 %\)/);
    await h.screenshot(page, 'labels-imported-train');
    await page.fill('[data-testid="hyper-steps"]', '1');
    await page.fill('input[placeholder="32"]', '0');
    await pressStart(page);
    // The runner's own account of what the critical arm trains on: 4 flagged turns in each of the 4 training trajectories.
    await expect.poll(() => page.locator('[data-testid="runner-log"]').textContent({ timeout: 500 }).catch(() => ''), { timeout: 90_000, interval: 500 }).toMatch(/critical: \d+ examples, 16 supervised turns/);
    // That is all this test needs from the run: stop it (sized by steps or by a time budget, it would go on).
    await page.click('[data-testid="stop"]').catch(() => undefined);
    expect(await waitForRunEnd(page, 120_000)).not.toMatch(/error/);
  }, 240_000);

  it('a random baseline run in Select does not change the critical arm; the token view names it', async () => {
    const { h, page } = shared;
    await openTiny('random');
    await page.click('#tab-select');
    await page.check('input[name="selector"][value="random"]');
    await page.click('[data-testid="run-selector"]');
    await expect.poll(() => page.textContent('[data-testid="selection-summary"]'), { timeout: 30_000 }).toMatch(/random: 10 labelled, 0 failed/);
    await expect.poll(() => page.textContent('[data-testid="selection-notice"]'), { timeout: 10_000 }).toContain('the critical arm still trains on "heuristic"');
    expect(await page.inputValue('[data-testid="active-selection"]')).toBe('heuristic');
    expect(page.url()).toMatch(/labels=heuristic/);
    expect(await page.textContent('[data-testid="detail-selection"]')).toMatch(/Selection heuristic: .*The critical arm trains on it/s);
    // The token view shows the baseline it ran, by name — never as ATLaS.
    await expect.poll(() => page.textContent('[data-testid="mask-summary"]'), { timeout: 30_000 }).toMatch(/selection “random”: \d+ of \d+ agent turns carry loss/);
    const caption = (await page.textContent('[data-testid="mask-caption"]'))!;
    expect(caption).toContain('“random”');
    expect(caption).toContain('not ATLaS');
    expect(caption).toContain('the critical arm trains on (“heuristic”)');
    await h.screenshot(page, 'labels-random-inspected');
    await page.selectOption('[data-testid="mask-selection-pick"]', '');
    await expect.poll(() => page.textContent('[data-testid="mask-summary"]'), { timeout: 30_000 }).toMatch(/selection “heuristic”/);
    expect(await page.textContent('[data-testid="mask-caption"]')).toMatch(/“heuristic”.*: ATLaS\./);
    await page.click('#tab-train');
    expect(await page.textContent('[data-testid="critical-selection"]')).toMatch(/trains on the selection heuristic \(the heuristic, computed by the runner/);
  }, 90_000);

  it('the export leaves the held-out split out by default, says so, and offers it marked', async () => {
    const { h, page } = shared;
    await openTiny('split');
    await page.click('#tab-export');
    expect(await page.isChecked('[data-testid="split-held-in"]')).toBe(true);
    await page.check('[data-testid="format-agentgym"]');
    const def = await download(page, () => page.click('[data-testid="export-data"]'));
    const rows = def.bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { split?: string });
    expect(rows.length).toBe(8);
    expect(rows.some((r) => r.split)).toBe(false);
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/Saved 8 records of 8 trajectories .*2 trajectories of the held-out split \(built-in evaluation data\) left out/);
    await page.check('[data-testid="split-held-out"]');
    expect(await page.textContent('[data-testid="export-data"]')).toContain('(2 trajectories)');
    const held = await download(page, () => page.click('[data-testid="export-data"]'));
    expect(held.name).toMatch(/\.held-out\.jsonl$/);
    const heldRows = held.bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { split?: string });
    expect(heldRows.map((r) => r.split)).toEqual(['held-out', 'held-out']);
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/Only the held-out split: 8 trajectories outside it left out; each is marked "split": "held-out"/);
    await h.screenshot(page, 'labels-export-split');
  }, 60_000);

  it('an arm’s weights download as one zipped folder that loads — from the runner, and after a reload from the checkpoint', async () => {
    const { h, page } = shared;
    expect(await runToEnd(page, h.baseUrl + '/?weights' + TINY, 150_000)).toMatch(/done/);
    await page.click('#tab-export');
    const live = await download(page, () => page.click('[data-testid="export-weights-critical"]'));
    expect(live.name).toBe('quick-demo-critical-vs-full.critical.zip');
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/one folder, quick-demo-critical-vs-full\.critical\/, with config\.json, model\.safetensors, tokenizer\.json, tokenizer_config\.json .*from the weights the runner holds now/);
    const liveDir = unzipToFolder(live.bytes, join(dir, 'live')).dir;
    const fromLive = await modelFromFiles(dirSource(liveDir));
    expect(fromLive.model.config.dModel).toBe(32);
    expect(fromLive.tokenizer.vocabSize).toBe(1024);
    // The folder `npx atlas generate --model test-results/exported-critical-zip/<folder>` opens.
    unzipToFolder(live.bytes, resolve('test-results/exported-critical-zip'));

    await page.reload();
    await page.click('#tab-export');
    const stored = await download(page, () => page.click('[data-testid="export-weights-critical"]'));
    expect(stored.name).toBe('quick-demo-critical-vs-full.critical.zip');
    expect(await page.textContent('[data-testid="export-message"]')).toMatch(/from the checkpoint saved at step 4/);
    const fromCheckpoint = await modelFromFiles(dirSource(unzipToFolder(stored.bytes, join(dir, 'stored')).dir));
    // The last checkpoint is the end of the run: the same weights, bit for bit.
    for (const [name, data] of fromLive.model.tensors!) expect(fromCheckpoint.model.tensors!.get(name), name).toEqual(data);
    await h.screenshot(page, 'labels-weights-after-reload');
  }, 240_000);

  it('Start / Pause / Stop stay in view on the Train step at projector and laptop sizes', async () => {
    const { h, page } = shared;
    await page.goto(h.baseUrl + '/?sticky' + TINY);
    await page.click('#tab-train');
    for (const size of [{ width: 1024, height: 768 }, { width: 1366, height: 768 }]) {
      await page.setViewportSize(size);
      for (const y of [0, 900, 100_000]) {
        await page.evaluate((top) => window.scrollTo(0, top), y);
        await page.waitForTimeout(100);
        for (const id of ['start', 'pause', 'stop']) expect(within(await page.locator(`[data-testid="run-bar"] [data-testid="${id}"]`).boundingBox(), size.height), `${id} at ${size.width}×${size.height}, scrolled to ${y}`).toBe(true);
      }
      await page.evaluate(() => window.scrollTo(0, 900));
      await page.screenshot({ path: join(resolve('test-results/screenshots'), `labels-sticky-${size.width}.png`) });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
  }, 60_000);

  it('the import report counts records, says which failed runs were left out, and keeps them on request', async () => {
    const { h, page } = shared;
    await openTiny('failed');
    await page.setInputFiles('[data-testid="file-input"]', resolve('test/fixtures/data/search-trace.json'));
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('1 trajectories');
    expect(await page.textContent('[data-testid="failed-runs"]')).toMatch(/1 failed run left out \(env_1\)/);
    await page.click('[data-testid="keep-failed-runs"]');
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toBe('2 trajectories');
    expect(await page.textContent('[data-testid="failed-runs"]')).toMatch(/1 failed run kept/);
    expect(await page.isChecked('[data-testid="keep-failed"]')).toBe(true);
    await h.screenshot(page, 'labels-import-failed-runs');
  }, 60_000);
});
