// Typed comlink handles on the app's module workers. Workers are found with import.meta.glob
// so the app still builds while a worker another engineer owns has not landed: a missing
// worker is reported to the user ("not available in this build"), never imitated. The only
// place under src/ui that names workers/, and only as `?worker` constructors: each worker's
// API type comes from its protocol module under src/ (test/unit/layers.test.ts).
import * as Comlink from 'comlink';

type WorkerCtor = new (options?: { name?: string }) => Worker;

const ctors = import.meta.glob<WorkerCtor>('../../../workers/*.worker.ts', { query: '?worker', import: 'default' });

export type WorkerName = 'import' | 'select' | 'experiment' | 'weights' | 'restart' | 'hub';

export function workerAvailable(name: WorkerName): boolean {
  return `../../../workers/${name}.worker.ts` in ctors;
}

export interface WorkerHandle<T> {
  api: Comlink.Remote<T>;
  worker: Worker;
  terminate(): void;
}

/** Starts a fresh worker. Errors that escape the worker (load failures) go to `onError`. */
export async function spawnWorker<T>(name: WorkerName, onError?: (message: string) => void): Promise<WorkerHandle<T>> {
  const load = ctors[`../../../workers/${name}.worker.ts`];
  if (!load) throw new Error(`the ${name} worker (workers/${name}.worker.ts) is not part of this build yet`);
  const Ctor = await load();
  const worker = new Ctor({ name });
  worker.addEventListener('error', (e) => onError?.(e.message || `the ${name} worker failed to load`));
  const api = Comlink.wrap<T>(worker);
  return {
    api,
    worker,
    terminate() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export { Comlink };
