// The shipped base agent in the page's worker: a run from preset:base measures the untuned
// base on the rollout episodes of models/base/eval-check.json (seeds 900001–900002, 20-turn
// cap) before its first step, and the base row shows exactly the success recorded in Node.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { runToEnd } from './harness.ts';
import { sharedPage } from './shared-page.ts';

interface CheckRow {
  env: string;
  split: string;
  taskType: string;
  episodes: number;
  successRate: number;
}

const check = JSON.parse(readFileSync('models/base/eval-check.json', 'utf8')) as { episodes: number; seed: number; maxSteps: number; rows: CheckRow[] };
// The runner's rollout seeds are data seed + 900000 + i: data seed 1 gives the check's 900001….
const LINK = `#preset=quick-demo&arms=critical&model=preset:base&data=builtin:household+grid:1/1:s${check.seed - 900_000}:m0.15&labels=heuristic&steps=1&batch=1&warmup=0&evalEvery=1&rolloutEvery=1&rolloutEpisodes=${check.episodes}&rolloutMaxSteps=${check.maxSteps}&nextAction=0&time=none`;

/** The recorded success of household + grid in a split, as the page's percentage. */
function recorded(split: string): string {
  const rows = check.rows.filter((r) => r.taskType === 'all' && r.split === split && (r.env === 'household' || r.env === 'grid'));
  const wins = rows.reduce((n, r) => n + Math.round(r.successRate * r.episodes), 0);
  const total = rows.reduce((n, r) => n + r.episodes, 0);
  return ((100 * wins) / total).toFixed(1);
}

describe('preset:base in the page', () => {
  const shared = sharedPage();

  it('loads in the experiment worker and reproduces the success recorded in Node on the same episodes', async () => {
    const { h, page } = shared;
    expect(await runToEnd(page, h.baseUrl + '/' + LINK, 280_000)).toMatch(/done/);
    expect(await page.textContent('[data-testid="runner-log"]')).toMatch(/model: preset base: the base agent/);
    const cells = await page.locator('[data-testid="base-row"] td').allTextContents();
    // arm, held-in success, held-out success, …
    expect([cells[1].trim(), cells[2].trim()]).toEqual([recorded('held-in'), recorded('held-out')]);
    await h.screenshot(page, 'base-agent-row');
  }, 300_000);
});
