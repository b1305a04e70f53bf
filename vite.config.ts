import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import { ortWasmPlugin } from './src/select/ort-vite-plugin.ts';

// The playground: a Svelte 5 single page plus module workers. ONNX Runtime's wasm files
// (local judge) are served at /ort/ in dev and emitted once into the build by ortWasmPlugin,
// which also picks onnxruntime-web's build that references no wasm of its own (else Vite
// emits a second 27 MB copy), so nothing is ever fetched from a CDN.
//
// The build is a static site that runs from any folder of any static host: `base: './'` makes
// every URL in it relative to the page (the dev server still serves at /). A service worker
// (vite-plugin-pwa, Workbox's generateSW; build only, never in dev) precaches the whole app
// on the first visit, so it then opens and trains offline; a new version is announced in the
// page and taken only when the user reloads for it (registerType 'prompt').
export default defineConfig({
  base: './',
  plugins: [
    svelte(),
    ortWasmPlugin(),
    VitePWA({
      registerType: 'prompt',
      // The page registers it itself (src/ui/state/app-update.svelte.ts, production only).
      injectRegister: false,
      // No web app manifest: the site works offline as a page; installing it is not a goal.
      manifest: false,
      devOptions: { enabled: false },
      workbox: {
        // The app's code and styles (workers included), ONNX Runtime's glue and wasm (ort/),
        // the shipped base model's files (config, tokenizer, safetensors) and the favicon. The
        // default tokenizer is bundled into the scripts. Source maps are not precached.
        globPatterns: ['**/*.{html,js,mjs,css,wasm,json,safetensors,svg}'],
        // ONNX Runtime's wasm is 26.9 MB (Workbox's default limit is 2 MiB and would drop it
        // with a warning): allow files up to 32 MiB, deliberately, so the local judge's
        // runtime is there offline too. Everything precached is about 28 MB.
        maximumFileSizeToCacheInBytes: 32 * 2 ** 20,
        // A first visit is controlled at once (no reload needed before it works offline);
        // a later version still waits for the user (no skipWaiting).
        clientsClaim: true,
        cleanupOutdatedCaches: true,
      },
    }),
  ],
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
