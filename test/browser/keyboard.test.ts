// The trajectory list is a WAI-ARIA listbox with a roving tabindex: one Tab stop, arrows /
// Home / End move focus and select, Enter / Space select the focused option, aria-selected
// marks exactly the current trajectory, whose detail is shown beside the list.
import { describe, it, expect } from 'vitest';
import type { Locator } from 'playwright-core';
import { sharedPage } from './shared-page.ts';

describe('trajectory list keyboard', () => {
  const shared = sharedPage();

  /** Index of the focused option in `options`, -1 when focus is elsewhere. */
  const focusedIndex = (options: Locator) => options.evaluateAll((els) => els.indexOf(document.activeElement as HTMLElement));
  const selectedIndexes = (options: Locator) => options.evaluateAll((els) => els.flatMap((e, i) => (e.getAttribute('aria-selected') === 'true' ? [i] : [])));
  const tabStops = (options: Locator) => options.evaluateAll((els) => els.flatMap((e, i) => ((e as HTMLElement).tabIndex === 0 ? [i] : [])));

  it('one Tab stop; arrows, Home, End move and select; Enter and Space select', async () => {
    const { h, page } = shared;
    await page.goto(h.baseUrl + '/');
    await expect.poll(() => page.textContent('[data-testid="dataset-size"]'), { timeout: 30_000 }).toMatch(/^\d+ trajectories$/);
    const panel = page.locator('[role="tabpanel"]:not([hidden])');
    const list = panel.locator('[role="listbox"][aria-label="Trajectories"]');
    const options = list.locator('[role="option"]');
    const count = await options.count();
    expect(count).toBeGreaterThan(10);
    const detailId = () => panel.locator('[data-testid="trajectory-detail"] h3').textContent();
    const optionId = (i: number) => options.nth(i).locator('.id').textContent();

    // One option is selected and it is the list's only Tab stop.
    expect(await selectedIndexes(options)).toEqual([0]);
    expect(await tabStops(options)).toEqual([0]);

    // Tab from the search box lands on the selected option; the next Tab leaves the list.
    await panel.locator('input[type="search"]').focus();
    await page.keyboard.press('Tab');
    expect(await focusedIndex(options)).toBe(0);
    await page.keyboard.press('Tab');
    expect(await focusedIndex(options)).toBe(-1);
    await page.keyboard.press('Shift+Tab');
    expect(await focusedIndex(options)).toBe(0);

    const expectAt = async (i: number) => {
      expect(await focusedIndex(options)).toBe(i);
      expect(await selectedIndexes(options)).toEqual([i]);
      expect(await tabStops(options)).toEqual([i]);
      expect(await detailId()).toBe(await optionId(i));
    };
    await page.keyboard.press('ArrowDown');
    await expectAt(1);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expectAt(3);
    await page.keyboard.press('ArrowUp');
    await expectAt(2);
    await page.keyboard.press('End');
    await expectAt(count - 1);
    await page.keyboard.press('ArrowDown'); // stays on the last one
    await expectAt(count - 1);
    await page.keyboard.press('Home');
    await expectAt(0);
    await page.keyboard.press('ArrowUp'); // stays on the first one
    await expectAt(0);

    // Focus without selection (as a screen reader's virtual cursor may do), then Space / Enter select.
    await options.nth(5).focus();
    expect(await selectedIndexes(options)).toEqual([0]);
    // Record whether the page's default action (Space scrolls the page) was prevented.
    await page.evaluate(() => {
      (window as unknown as { keysPrevented: string[] }).keysPrevented = [];
      window.addEventListener('keydown', (e) => e.defaultPrevented && (window as unknown as { keysPrevented: string[] }).keysPrevented.push(e.key));
    });
    await page.keyboard.press(' ');
    await expectAt(5);
    await options.nth(7).focus();
    await page.keyboard.press('Enter');
    await expectAt(7);
    expect(await page.evaluate(() => (window as unknown as { keysPrevented: string[] }).keysPrevented)).toEqual([' ', 'Enter']);

    // The roving Tab stop follows the selection: leaving and re-entering returns to option 7.
    await panel.locator('input[type="search"]').focus();
    await page.keyboard.press('Tab');
    expect(await focusedIndex(options)).toBe(7);
    await h.screenshot(page, 'keyboard-trajectory-list');
  }, 120_000);
});
