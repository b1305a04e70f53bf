// Vite plugin (build tooling, Node only): serves ONNX Runtime's wasm files at /ort/ in dev
// and emits them into the build, so transformers.js never fetches them from a CDN.
// Usage in vite.config.ts:  plugins: [svelte(), ortWasmPlugin()]
//
// One copy: onnxruntime-web's default browser build embeds its wasm glue and names the .wasm
// with `new URL(file, import.meta.url)`, which Vite follows and emits a second, hashed copy
// (27 MB) under assets/. The plugin resolves onnxruntime-web with its
// `onnxruntime-web-use-extern-wasm` export condition instead: that build loads both files
// from env.backends.onnx.wasm.wasmPaths (set to /ort/ by the app) and references neither.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultClientConditions } from 'vite';
import { ORT_PUBLIC_DIR, ORT_WASM_FILES } from './ort-paths.ts';

/** onnxruntime-web's package.json export condition for its build without embedded wasm. */
export const ORT_EXTERN_WASM_CONDITION = 'onnxruntime-web-use-extern-wasm';

interface MinimalPlugin {
  name: string;
  config?(config: { resolve?: { conditions?: string[] } }): { resolve: { conditions: string[] } };
  configureServer?(server: { middlewares: { use(fn: (req: any, res: any, next: () => void) => void): void }; config: { base: string } }): void;
  generateBundle?(this: { emitFile(file: { type: 'asset'; fileName: string; source: Uint8Array }): void }): void;
}

export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('onnxruntime-web'));
}

export function ortWasmPlugin(): MinimalPlugin {
  const dir = ortDistDir();
  return {
    name: 'atlas-ort-wasm',
    config(config) {
      // The client's (and its workers') conditions: Vite's defaults, or the config's own, plus ours.
      const conditions = config.resolve?.conditions ?? [...defaultClientConditions];
      return { resolve: { conditions: [ORT_EXTERN_WASM_CONDITION, ...conditions.filter((c) => c !== ORT_EXTERN_WASM_CONDITION)] } };
    },
    configureServer(server) {
      const prefix = server.config.base.replace(/\/?$/, '/') + ORT_PUBLIC_DIR;
      server.middlewares.use((req, res, next) => {
        const url: string = (req.url ?? '').split('?')[0];
        const file = url.startsWith(prefix) ? url.slice(prefix.length) : '';
        if (!(ORT_WASM_FILES as readonly string[]).includes(file)) return next();
        res.setHeader('content-type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.end(readFileSync(path.join(dir, file)));
      });
    },
    generateBundle() {
      for (const file of ORT_WASM_FILES) {
        this.emitFile({ type: 'asset', fileName: ORT_PUBLIC_DIR + file, source: readFileSync(path.join(dir, file)) });
      }
    },
  };
}
