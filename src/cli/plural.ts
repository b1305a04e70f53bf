// "1 trajectory", "2 trajectories": counts in CLI messages.

/** `n` and the noun, singular only when n is exactly 1. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
