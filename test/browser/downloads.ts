// Files the page hands to the browser's download: their suggested name and bytes, and a
// zipped folder unpacked to disk (the Export step's weights and adapters).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { unzipSync } from 'fflate';
import { expect } from 'vitest';

/** Clicks and returns the download it starts. */
export async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) };
}

/** Unzips into `into` and returns the path of the one top-level folder and its file names. */
export function unzipToFolder(bytes: Buffer, into: string): { dir: string; files: string[] } {
  const entries = unzipSync(new Uint8Array(bytes));
  const tops = new Set(Object.keys(entries).map((n) => n.split('/')[0]));
  expect(tops.size).toBe(1);
  for (const [name, data] of Object.entries(entries)) {
    mkdirSync(dirname(join(into, name)), { recursive: true });
    writeFileSync(join(into, name), data);
  }
  return { dir: join(into, [...tops][0]), files: Object.keys(entries).map((n) => n.split('/').slice(1).join('/')).sort() };
}
