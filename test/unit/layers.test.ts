// Layers import downward only: ui → workers → experiment → engine / envs / select → data.
// Workers never import the UI; the UI never imports a worker module (it starts workers through
// src/ui/state/workers.ts's `?worker` constructors and takes their API types from the protocol
// modules under src/); the pure logic under src/ imports neither. Reads every import specifier:
// static imports and re-exports, dynamic import(), and import.meta.glob.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve('.');
const UI = path.join(ROOT, 'src/ui');
const WORKERS = path.join(ROOT, 'workers');
/** The one file that may name worker modules: as `?worker` constructors, by glob. */
const WORKER_CONSTRUCTORS = path.join(UI, 'state/workers.ts');

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|svelte)$/.test(f))
    .map((f) => path.join(dir, f));
}

interface Import {
  file: string;
  specifier: string;
  /** The path it names, resolved against the importing file (relative specifiers only). */
  target?: string;
  kind: 'import' | 'glob';
}

const PATTERNS: { re: RegExp; kind: Import['kind'] }[] = [
  { re: /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, kind: 'import' },
  { re: /\bimport\s*['"]([^'"]+)['"]/g, kind: 'import' },
  { re: /\bimport\(\s*['"`]([^'"`]+)['"`]\s*\)/g, kind: 'import' },
  { re: /\bimport\.meta\.glob(?:<[^>]*>)?\(\s*['"`]([^'"`]+)['"`]/g, kind: 'glob' },
];

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const { re, kind } of PATTERNS) {
    for (const m of text.matchAll(re)) {
      const specifier = m[1];
      const target = specifier.startsWith('.') ? path.resolve(path.dirname(file), specifier.split('?')[0]) : undefined;
      out.push({ file: path.relative(ROOT, file), specifier, target, kind });
    }
  }
  return out;
}

const inside = (target: string | undefined, dir: string) => target !== undefined && (target === dir || target.startsWith(dir + path.sep));

describe('layers import downward only', () => {
  it('reads the imports it checks (the scanner finds the known ones)', () => {
    const worker = importsOf(path.join(WORKERS, 'experiment.worker.ts'));
    expect(worker.some((i) => i.specifier === '../src/experiment/session.ts')).toBe(true);
    const constructors = importsOf(WORKER_CONSTRUCTORS);
    expect(constructors).toContainEqual(expect.objectContaining({ kind: 'glob', specifier: '../../../workers/*.worker.ts' }));
  });

  it('no file under workers/ imports from src/ui/', () => {
    const bad = sources(WORKERS).flatMap(importsOf).filter((i) => inside(i.target, UI));
    expect(bad.map((i) => `${i.file} → ${i.specifier}`)).toEqual([]);
  });

  it('no file under src/ui/ imports from workers/, except the ?worker constructors in src/ui/state/workers.ts', () => {
    const bad = sources(UI)
      .flatMap(importsOf)
      .filter((i) => inside(i.target, WORKERS) || (i.kind === 'glob' && i.specifier.includes('workers/')))
      .filter((i) => !(path.resolve(ROOT, i.file) === WORKER_CONSTRUCTORS && i.kind === 'glob'));
    expect(bad.map((i) => `${i.file} → ${i.specifier}`)).toEqual([]);
    // The constructors' glob loads the workers as `?worker` modules, never their code.
    expect(readFileSync(WORKER_CONSTRUCTORS, 'utf8')).toMatch(/import\.meta\.glob<WorkerCtor>\('\.\.\/\.\.\/\.\.\/workers\/\*\.worker\.ts', \{ query: '\?worker', import: 'default' \}\)/);
  });

  it('the pure logic under src/ imports neither the UI nor a worker (src/main.ts, the page entry, aside)', () => {
    const SRC = path.join(ROOT, 'src');
    const bad = sources(SRC)
      .filter((f) => !inside(f, UI) && f !== path.join(SRC, 'main.ts'))
      .flatMap(importsOf)
      .filter((i) => inside(i.target, UI) || inside(i.target, WORKERS));
    expect(bad.map((i) => `${i.file} → ${i.specifier}`)).toEqual([]);
  });
});
