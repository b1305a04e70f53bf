// Small settings: the session a reload restores, and the oracle's API key only when the user
// opted in ("remember on this device").
import { db, plain } from './db.ts';

export type SettingKey = 'session' | 'oracle-key' | 'oracle-settings';

/** What a reload restores (settings key 'session'). */
export interface Session {
  datasetId?: string;
  runId?: string;
  /** The open step. */
  tab?: string;
  /** The hash the page itself last wrote: a reload with this hash is not a new link. */
  hash?: string;
}

/** Merges `patch` into the session in one transaction, so concurrent updates never drop a field. */
export async function updateSession(patch: Session): Promise<void> {
  const tx = (await db()).transaction('settings', 'readwrite');
  const current = ((await tx.store.get('session')) ?? {}) as Session;
  await tx.store.put(plain({ ...current, ...patch }), 'session');
  await tx.done;
}

export async function getSetting<T>(key: SettingKey): Promise<T | undefined> {
  return (await (await db()).get('settings', key)) as T | undefined;
}
export async function setSetting(key: SettingKey, value: unknown): Promise<void> {
  await (await db()).put('settings', plain(value), key);
}
export async function deleteSetting(key: SettingKey): Promise<void> {
  await (await db()).delete('settings', key);
}
