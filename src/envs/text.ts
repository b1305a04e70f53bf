// Small text helpers shared by the environments.

/** ALFWorld's listing: "a cloth 1", "a candle 1, and a spraybottle 2", "a x, a y, and a z";
 *  "nothing" for an empty list. ALFWorld always writes "a", even before vowels. */
export function aList(names: readonly string[]): string {
  if (names.length === 0) return 'nothing';
  const items = names.map((n) => `a ${n}`);
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`;
}

/** "an apple" / "a mug" for the expert's own prose (not the environment's replies). */
export function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

/** Collapses whitespace and lower-cases an action so "Go to  Cabinet 1 " matches. */
export function normalizeAction(action: string): string {
  return action.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** "1-3" or "1" for the expert's "cabinet (1-13)" style. */
export function rangeText(n: number): string {
  return n <= 1 ? '1' : `1-${n}`;
}
