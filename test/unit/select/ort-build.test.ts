// ONNX Runtime's wasm in the app: the production build holds exactly one copy of each file
// ortWasmPlugin serves (under ort/, where the app's wasmPaths point), and the dev server
// serves the same files at /ort/ and resolves onnxruntime-web to its build that does not
// reference a wasm of its own (which Vite would emit as a second, hashed 27 MB copy).
// The build runs the real vite.config.ts through Vite's build() API into a temporary folder
// (about 10 s on two cores).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, createServer, type ViteDevServer } from 'vite';
import { ORT_PUBLIC_DIR, ORT_WASM_FILES } from '../../../src/select/ort-paths.ts';
import { ortDistDir } from '../../../src/select/ort-vite-plugin.ts';

const CONFIG = path.resolve('vite.config.ts');

/** Every file under `dir`, as a path relative to it with "/" separators. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/** "ort-wasm-simd-threaded.asyncify.wasm" matches itself and Vite's hashed "…asyncify-CxOG5pUO.wasm". */
function copiesOf(file: string, files: string[]): string[] {
  const ext = path.extname(file);
  const stem = path.basename(file, ext).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(^|/)${stem}(-[\\w-]+)?\\${ext}$`);
  return files.filter((f) => pattern.test(f));
}

describe('ONNX Runtime wasm in the production build', () => {
  let outDir = '';
  let files: string[] = [];
  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'atlas-ort-build-'));
    await build({ configFile: CONFIG, logLevel: 'silent', build: { outDir, emptyOutDir: true, sourcemap: false } });
    files = listFiles(outDir);
  }, 120_000);
  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('holds exactly one copy of each ORT file, under ort/, byte-identical to onnxruntime-web’s', () => {
    expect(files).toContain('index.html');
    for (const file of ORT_WASM_FILES) {
      expect(copiesOf(file, files), `copies of ${file} in the build`).toEqual([ORT_PUBLIC_DIR + file]);
      const built = readFileSync(path.join(outDir, ORT_PUBLIC_DIR, file));
      expect(built.equals(readFileSync(path.join(ortDistDir(), file))), file).toBe(true);
    }
  });

  it('bundles no Node-only module (the engine reaches Dawn and node:fs only in Node)', () => {
    // Vite stubs a Node built-in it meets as __vite-browser-external; the `webgpu` package
    // would become a chunk of its own.
    expect(files.filter((f) => /__vite-browser-external|(^|\/)webgpu-[\w-]+\.js$/.test(f))).toEqual([]);
  });

  it('ships no other wasm, and nothing else as large', () => {
    expect(files.filter((f) => f.endsWith('.wasm'))).toEqual([ORT_PUBLIC_DIR + ORT_WASM_FILES[1]]);
    // A copy under another name (not ending in .wasm) would still be this big.
    const big = files.filter((f) => statSync(path.join(outDir, f)).size > 5 * 2 ** 20);
    expect(big).toEqual([ORT_PUBLIC_DIR + ORT_WASM_FILES[1]]);
  });
});

describe('ONNX Runtime wasm in the dev server', () => {
  let server: ViteDevServer;
  let baseUrl = '';
  beforeAll(async () => {
    server = await createServer({ configFile: CONFIG, logLevel: 'silent', server: { port: 0, host: '127.0.0.1', watch: null }, optimizeDeps: { noDiscovery: true, include: [] } });
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('the Vite dev server did not report a port');
    baseUrl = `http://127.0.0.1:${address.port}`;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('serves each file at /ort/ with its content type and bytes', async () => {
    for (const file of ORT_WASM_FILES) {
      const res = await fetch(`${baseUrl}/${ORT_PUBLIC_DIR}${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toBe(file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
      expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(path.join(ortDistDir(), file))), file).toBe(true);
    }
  });

  it('resolves onnxruntime-web/webgpu (what transformers.js imports) to the build without its own wasm reference', async () => {
    const importer = path.resolve('node_modules/@huggingface/transformers/dist/transformers.web.js');
    const resolved = await server.environments.client.pluginContainer.resolveId('onnxruntime-web/webgpu', importer);
    const file = (resolved?.id ?? '').split('?')[0]; // without Vite's ?v= version query
    expect(path.basename(file)).toBe('ort.webgpu.min.mjs');
    // That build names no wasm file next to itself: ONNX Runtime takes both from wasmPaths.
    expect(readFileSync(file, 'utf8')).not.toMatch(/new URL\(\s*["'`][^"'`]*\.wasm["'`]\s*,\s*import\.meta\.url/);
  });
});
