// Stored experiment runs: the configuration and every event the runner sent, so a reload
// redraws the charts and a stopped run can resume from its checkpoint.
import type { ExperimentConfig, ExperimentEvent } from '../experiment/protocol.ts';
import { db } from './db.ts';

export interface StoredRun {
  id: string;
  createdAt: string;
  updatedAt: string;
  config: ExperimentConfig;
  events: ExperimentEvent[];
  /** Last status the runner reported. */
  state: string;
  /** Checkpoint key the runner reported (resume from it after a reload or a lost device). */
  checkpoint?: string;
}

// Runs are built from $state.raw / $state.snapshot values, so they are stored as they are.
export async function saveRun(r: StoredRun): Promise<void> {
  await (await db()).put('runs', r);
}
export async function loadRun(id: string): Promise<StoredRun | undefined> {
  return (await db()).get('runs', id);
}
/** Every stored run without its events (newest first): the Export step offers each one's weights. */
export async function listRuns(): Promise<Omit<StoredRun, 'events'>[]> {
  const runs = await (await db()).getAll('runs');
  return runs.map(({ events: _e, ...r }) => r).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
export async function deleteRun(id: string): Promise<void> {
  await (await db()).delete('runs', id);
}
