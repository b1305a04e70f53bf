// Regenerates the generated docs: `npm run docs`. A generated block sits between
// `<!-- generated: NAME … -->` and `<!-- end generated: NAME -->` in a Markdown file; a
// generated file (docs/kernels/*.wgsl) is written whole. The tests
// (test/unit/experiment/settings.test.ts, test/unit/engine/kernel-listings.test.ts) fail when
// one differs from what its source generates.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DOCS } from './generated-docs.ts';
import { replaceGeneratedBlock } from './generated-block.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
for (const doc of GENERATED_DOCS) {
  const file = path.join(root, doc.file);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const after = doc.block ? replaceGeneratedBlock(before, doc.block, doc.content()) : doc.content().replace(/\n?$/, '\n');
  mkdirSync(path.dirname(file), { recursive: true });
  if (after !== before) writeFileSync(file, after);
  console.log(`${doc.file}${doc.block ? ` (${doc.block})` : ''}: ${after === before ? 'up to date' : 'regenerated'}`);
}
