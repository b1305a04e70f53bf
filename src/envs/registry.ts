// All built-in environments by name (`atlas env list`).
import { crafting } from './crafting/index.ts';
import { grid } from './grid/index.ts';
import { household } from './household/index.ts';
import type { EnvDefinition } from './types.ts';

export const ENVIRONMENTS: readonly EnvDefinition[] = [household, grid, crafting];

export function getEnv(name: string): EnvDefinition {
  const def = ENVIRONMENTS.find((e) => e.name === name);
  if (!def) throw new Error(`unknown environment "${name}" (known: ${ENVIRONMENTS.map((e) => e.name).join(', ')})`);
  return def;
}

/** "all" → every environment; otherwise the named one. */
export function resolveEnvs(name: string): EnvDefinition[] {
  return name === 'all' ? ENVIRONMENTS.slice() : [getEnv(name)];
}
