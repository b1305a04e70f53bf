// Vite plugin (build tooling, Node only): serves ONNX Runtime's wasm files at /ort/ in dev
// and emits them into the build, so transformers.js never fetches them from a CDN.
// Usage in vite.config.ts:  plugins: [svelte(), ortWasmPlugin()]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ORT_PUBLIC_DIR, ORT_WASM_FILES } from './ort-paths.ts';

interface MinimalPlugin {
  name: string;
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
