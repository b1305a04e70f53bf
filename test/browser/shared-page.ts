// The hooks of a describe block whose tests share one page: a harness (harness.ts) started
// before its first test and closed after its last. Apart from harness.ts, which `atlas bench`
// imports outside vitest.
import { afterAll, beforeAll } from 'vitest';
import type { Page } from 'playwright-core';
import { startHarness, type BrowserHarness } from './harness.ts';

export interface SharedPage {
  readonly h: BrowserHarness;
  readonly page: Page;
}

/** Call in a describe block; read `h` and `page` inside its tests (they exist from beforeAll on). */
export function sharedPage(): SharedPage {
  let h: BrowserHarness | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    h = await startHarness();
    page = await h.newPage();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the shared page starts in beforeAll: read it inside a test');
    return v;
  };
  return {
    get h() {
      return started(h);
    },
    get page() {
      return started(page);
    },
  };
}
