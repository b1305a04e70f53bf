// The selection cache: a finished oracle/judge answer is stored under a hash of what
// produced it, so a rerun, a reload or a crash never pays for it twice. The key covers the
// trajectory's content, the prompt version, the model and the budget — never the API key
// or the endpoint's address. Node (file) and browser (IndexedDB) stores live in their own
// modules so neither platform imports the other's APIs.
import type { StepLabel, Trajectory } from '../data/trajectory.ts';

export interface CachedSelection {
  key: string;
  promptVersion: string;
  model: string;
  budget: number;
  plan?: string;
  critical: StepLabel[];
  repairs: string[];
  usage: { prompt: number; completion: number };
  createdAt: string;
}

export interface CacheStore {
  get(key: string): Promise<CachedSelection | undefined>;
  put(entry: CachedSelection): Promise<void>;
  close?(): Promise<void>;
}

/** In-memory store, for tests and for runs that opt out of persistence. */
export class MemoryCacheStore implements CacheStore {
  readonly entries = new Map<string, CachedSelection>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async put(entry: CachedSelection) {
    this.entries.set(entry.key, entry);
  }
}

/** The part of a trajectory a selector sees; ids, selections and provenance do not change the answer. */
function trajectoryContent(t: Trajectory): unknown {
  return { system: t.system ?? '', instruction: t.instruction, steps: t.steps.map((s) => [s.agent, s.observation]) };
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function selectionCacheKey(t: Trajectory, promptVersion: string, model: string, budget: number): Promise<string> {
  return sha256Hex(JSON.stringify([trajectoryContent(t), promptVersion, model, budget]));
}
