// Runs the shared fixed training scenario through the engine worker and publishes the
// losses on window.__engineResult for test/browser/engine-worker.test.ts.
import { wrap } from 'comlink';
import type { EngineHost } from '../../../src/engine/engine-host.ts';
import { runFixedScenario } from './engine-scenario.ts';

const w = window as unknown as { __engineResult?: unknown; __engineError?: string };
const engine = wrap<EngineHost>(new Worker(new URL('../../../workers/engine.worker.ts', import.meta.url), { type: 'module' }));
runFixedScenario(engine)
  .then((r) => {
    w.__engineResult = r;
    document.getElementById('out')!.textContent = JSON.stringify(r);
  })
  .catch((err) => {
    w.__engineError = err instanceof Error ? err.message : String(err);
    document.getElementById('out')!.textContent = `error: ${w.__engineError}`;
  });
