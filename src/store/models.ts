// Model files the user picked (an HF folder, or a llama2.c .bin with tok512.bin), stored for
// ModelSource { kind: 'stored', key }: the experiment and weights workers load them from here.
import { db } from './db.ts';

export interface StoredModel {
  key: string;
  label: string;
  createdAt: string;
  /** Path inside the picked folder (or the file name) and its bytes. */
  files: { path: string; blob: Blob }[];
}

export async function saveModelFiles(m: StoredModel): Promise<void> {
  // Blobs are stored as they are (IndexedDB keeps them natively).
  await (await db()).put('models', m);
}
export async function loadModelFiles(key: string): Promise<StoredModel | undefined> {
  return (await db()).get('models', key);
}
export async function deleteModelFiles(key: string): Promise<void> {
  await (await db()).delete('models', key);
}
