// Web Worker running the training engine; the UI talks to it through comlink:
//   const engine = wrap<EngineHost>(new Worker(new URL('../workers/engine.worker.ts', import.meta.url), { type: 'module' }));
//   await engine.init(); await engine.createArm('a', config, { seed: 1 }); await engine.step('a', [batch]);
import { expose } from 'comlink';
import { EngineHost } from '../src/engine/engine-host.ts';

expose(new EngineHost());
