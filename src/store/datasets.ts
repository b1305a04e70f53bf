// Stored datasets: trajectories with their selections and the import report. A dataset is a
// small record plus its trajectories in chunks, so saving (a structured clone on the main
// thread) happens in short tasks and an edit rewrites one chunk, not the whole dataset.
import type { Trajectory } from '../data/trajectory.ts';
import type { ImportSummary } from '../data/importer.ts';
import { db } from './db.ts';

/** Where a dataset came from (never holds secrets). */
export type DatasetOrigin =
  | { kind: 'builtin'; envs: string[]; trainEpisodes: number; heldOutEpisodes: number; seed: number; mistakeRate: number }
  | { kind: 'file'; name: string; size: number }
  | { kind: 'url'; url: string };

export interface StoredDataset {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  origin: DatasetOrigin;
  trajectories: Trajectory[];
  report?: ImportSummary;
}

/** How a dataset is laid out in IndexedDB: this record, and its trajectories in chunks. */
export interface DatasetRecord extends Omit<StoredDataset, 'trajectories'> {
  count: number;
  chunks: number;
}
export interface ChunkRecord {
  datasetId: string;
  index: number;
  trajectories: Trajectory[];
}
export const CHUNK_SIZE = 100;

// Datasets are built from $state.raw / $state.snapshot values, so they are plain already:
// storing them directly avoids a JSON round trip of megabytes on the main thread.
/** Saves a dataset; with `changed` (trajectory indices) only the chunks holding them are rewritten. */
export async function saveDataset(d: StoredDataset, changed?: Iterable<number>): Promise<void> {
  const x = await db();
  const { trajectories, ...meta } = d;
  const chunks = Math.ceil(trajectories.length / CHUNK_SIZE);
  const old = await x.get('datasets', d.id);
  const only = changed && old && old.count === trajectories.length ? new Set([...changed].map((i) => Math.floor(i / CHUNK_SIZE))) : undefined;
  for (let c = 0; c < chunks; c++) {
    if (only && !only.has(c)) continue;
    // One put per task: each structured clone stays short.
    await x.put('chunks', { datasetId: d.id, index: c, trajectories: trajectories.slice(c * CHUNK_SIZE, (c + 1) * CHUNK_SIZE) });
  }
  for (let c = chunks; old && c < old.chunks; c++) await x.delete('chunks', [d.id, c]);
  await x.put('datasets', { ...meta, count: trajectories.length, chunks });
}

export async function loadDataset(id: string): Promise<StoredDataset | undefined> {
  const x = await db();
  const meta = await x.get('datasets', id);
  if (!meta) return undefined;
  const trajectories: Trajectory[] = [];
  for (let c = 0; c < meta.chunks; c++) {
    const chunk = await x.get('chunks', [id, c]);
    if (!chunk) throw new Error(`stored dataset "${meta.name}" is missing part ${c + 1} of ${meta.chunks}; delete it in "Stored data" and import it again`);
    trajectories.push(...chunk.trajectories);
  }
  const { count: _count, chunks: _chunks, ...rest } = meta;
  return { ...rest, trajectories };
}

export async function deleteDataset(id: string): Promise<void> {
  const x = await db();
  const meta = await x.get('datasets', id);
  for (let c = 0; c < (meta?.chunks ?? 0); c++) await x.delete('chunks', [id, c]);
  await x.delete('datasets', id);
}
