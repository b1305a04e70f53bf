// Where ONNX Runtime's wasm files come from. transformers.js defaults to a CDN, which the
// app must not depend on: the browser build serves the files itself under ORT_PUBLIC_DIR
// (copied from node_modules/onnxruntime-web/dist by ortWasmPlugin() in ort-vite-plugin.ts, the
// build's only copy),
// and Node's wasm fallback points at node_modules directly (judge-node.ts).

/** The two files transformers.js's WebGPU/wasm build loads (the asyncify variant serves both). */
export const ORT_WASM_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'] as const;

/** Folder, relative to the app's base URL, the files are served from. */
export const ORT_PUBLIC_DIR = 'ort/';

interface OnnxEnvLike {
  backends: { onnx: { wasm?: { wasmPaths?: unknown; numThreads?: number; proxy?: boolean } } };
}

/**
 * Points ONNX Runtime at `prefix` (an absolute URL ending in "/", e.g. `${location.origin}/ort/`
 * or a file:// URL in Node). Must run after importing transformers.js (it sets the CDN
 * default at import) and before loading a model.
 */
export function setOrtWasmPaths(env: OnnxEnvLike, prefix: string): void {
  const wasm = env.backends.onnx.wasm;
  if (!wasm) throw new Error('this ONNX Runtime build has no wasm backend to configure');
  if (!prefix.endsWith('/')) prefix += '/';
  wasm.wasmPaths = { mjs: prefix + ORT_WASM_FILES[0], wasm: prefix + ORT_WASM_FILES[1] };
}

/** The served prefix for a page or worker whose app base URL is `base` (Vite's import.meta.env.BASE_URL). */
export function browserOrtPrefix(origin: string, base = '/'): string {
  return new URL(base.replace(/\/?$/, '/') + ORT_PUBLIC_DIR, origin).href;
}
