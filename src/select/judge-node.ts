// Node-only switch for the local judge: run transformers.js on onnxruntime-web (wasm)
// instead of onnxruntime-node. transformers.js 4 in Node uses onnxruntime-node (its CPU
// binding ships inside the npm package; only the CUDA download is skipped by
// ONNXRUNTIME_NODE_INSTALL=skip). Where that native binding cannot load, call
// useOnnxruntimeWebInNode() BEFORE anything imports @huggingface/transformers: it installs
// onnxruntime-web as the runtime (transformers.js honours globalThis[Symbol.for('onnxruntime')])
// and points its wasm files at node_modules. Then load the judge with runtime 'wasm'.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ORT_SYMBOL = Symbol.for('onnxruntime');

export async function useOnnxruntimeWebInNode(): Promise<void> {
  const g = globalThis as Record<symbol, unknown>;
  if (!g[ORT_SYMBOL]) g[ORT_SYMBOL] = await import('onnxruntime-web');
  const { env } = await import('@huggingface/transformers');
  const require = createRequire(import.meta.url);
  const wasm = (env.backends.onnx as { wasm?: { numThreads?: number; wasmPaths?: unknown } }).wasm;
  if (!wasm) throw new Error('onnxruntime-web exposes no wasm backend');
  // A prefix string, not the {mjs, wasm} object the browser uses: with the object form
  // transformers.js pre-fetches the files with fetch(), which cannot read file:// URLs.
  wasm.wasmPaths = pathToFileURL(path.dirname(require.resolve('onnxruntime-web')) + '/').href;
  wasm.numThreads = 1; // no worker threads needed for a judge run from the CLI
}

/** True when transformers.js runs on onnxruntime-web in this process. */
export function usingOnnxruntimeWeb(): boolean {
  return Boolean((globalThis as Record<symbol, unknown>)[ORT_SYMBOL]);
}
