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
  const run = await (await db()).get('runs', id);
  return run && { ...run, events: run.events.map(upgradeStoredEvent) };
}

/** The one sentence the experiment worker sent for a lost device before failures had kinds. */
const LEGACY_DEVICE_LOST = /^The GPU device was lost \((\w+): (.*)\)\. Resume/s;

/**
 * An event as stored, in today's protocol. Runs stored before failures had kinds hold a lost
 * device as an error event with this sentence: it becomes the device-lost failure it reported,
 * so such a run still offers its resume after a reload. Every other event is kept as it is.
 */
export function upgradeStoredEvent(e: ExperimentEvent): ExperimentEvent {
  if (e.kind !== 'error') return e;
  const lost = LEGACY_DEVICE_LOST.exec(e.message);
  return lost ? { kind: 'device-lost', reason: lost[1], message: lost[2] } : e;
}
/** Every stored run without its events (newest first): the Export step offers each one's weights. */
export async function listRuns(): Promise<Omit<StoredRun, 'events'>[]> {
  const runs = await (await db()).getAll('runs');
  return runs.map(({ events: _e, ...r }) => r).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
export async function deleteRun(id: string): Promise<void> {
  await (await db()).delete('runs', id);
}
