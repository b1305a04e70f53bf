// Builds .device-kit/: what `scripts/device/run.sh` needs on a lent GPU machine, which has no
// Node.js and reaches no registry — the Node binary running this (xz), the `atlas` CLI bundled
// by esbuild (.device-kit/cli), and Dawn's linux-x64 `webgpu` addon (xz). With the repository it
// stays under the device tool's 64 MiB. Run here: `node scripts/device/kit.mjs`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kit = path.join(root, '.device-kit');
rmSync(kit, { recursive: true, force: true });
mkdirSync(path.join(kit, 'node_modules/webgpu'), { recursive: true });

// The sources find the repository's files (models/, the default tokenizer) relative to
// import.meta.url; in a bundle every file would share the bundle's URL, so each file's own
// URL is rebuilt from its path under the repository root (the bundle sits two folders down).
const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/(src|models)\/.*\.(ts|mts|js|mjs)$/ }, (args) => {
      const rel = path.relative(root, args.path).split(path.sep).join('/');
      const contents = readFileSync(args.path, 'utf8').replaceAll('import.meta.url', `__atlasUrl(${JSON.stringify(rel)})`);
      return { contents, loader: args.path.endsWith('.ts') || args.path.endsWith('.mts') ? 'ts' : 'js' };
    });
  },
};

await build({
  stdin: { contents: "import { main } from './src/cli/main.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n", resolveDir: root, loader: 'ts', sourcefile: 'device-entry.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Commands load lazily; split, the externals a command imports load only with it.
  splitting: true,
  outdir: path.join(kit, 'cli'),
  entryNames: 'atlas',
  outExtension: { '.js': '.mjs' },
  // webgpu is loaded from .device-kit/node_modules; the rest is never reached by bench, pretrain, eval.
  external: ['webgpu', '@huggingface/transformers', 'onnxruntime-web', 'onnxruntime-node', 'playwright-core', 'vite', 'sharp'],
  banner: {
    js: [
      "import { createRequire as __atlasRequire } from 'node:module';",
      'const require = __atlasRequire(import.meta.url);',
      "const __atlasRoot = new URL('../../', import.meta.url);",
      'const __atlasUrl = (p) => new URL(p, __atlasRoot).href;',
    ].join('\n'),
  },
  plugins: [ownUrl],
  logLevel: 'warning',
});

const webgpu = path.join(root, 'node_modules/webgpu');
for (const f of ['index.js', 'package.json']) copyFileSync(path.join(webgpu, f), path.join(kit, 'node_modules/webgpu', f));
const xz = (from, to) => execFileSync('sh', ['-c', `xz -9 -T2 -c "${from}" > "${to}"`]);
xz(path.join(webgpu, 'dist/linux-x64/dawn.node'), path.join(kit, 'dawn.node.xz'));
xz(process.execPath, path.join(kit, "node.xz"));
for (const f of ['cli/atlas.mjs', 'dawn.node.xz', 'node.xz']) console.log(`${f}: ${(statSync(path.join(kit, f)).size / 2 ** 20).toFixed(1)} MiB`);
console.log(`node ${process.version}; carry .device-kit (and .gl) to the device and run scripts/device/run.sh`);
