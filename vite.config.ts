import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { ortWasmPlugin } from './src/select/ort-vite-plugin.ts';

// The playground: a Svelte 5 single page plus module workers. ONNX Runtime's wasm files
// (local judge) are served at /ort/ in dev and emitted once into the build by ortWasmPlugin,
// which also picks onnxruntime-web's build that references no wasm of its own (else Vite
// emits a second 27 MB copy), so nothing is ever fetched from a CDN.
export default defineConfig({
  plugins: [svelte(), ortWasmPlugin()],
  worker: { format: 'es' },
  server: { port: 5173, strictPort: false },
  build: { target: 'es2022', sourcemap: true },
  optimizeDeps: {
    // Scan the workers too: a dependency first met inside a worker would otherwise make the
    // dev server re-optimize and reload the page in the middle of a session.
    entries: ['index.html', 'workers/*.worker.ts'],
    exclude: ['onnxruntime-web', '@huggingface/transformers'],
  },
});
