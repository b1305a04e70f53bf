// Kernels a reader can read: the attention and matmul generators nest template helpers deeply,
// so the WGSL they generate for one configuration is kept in docs/kernels/*.wgsl (`npm run
// docs`), and this test fails when a generator changes without its listing. Every training
// kernel's generator carries a shape comment and its maths in one line above it (llm.c style).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { GENERATED_DOCS, generatorComment } from '../../../scripts/generated-docs.ts';

const read = (file: string) => readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');

/** The generators of the training step's kernels, by file. */
const TRAINING_KERNELS: Record<string, string[]> = {
  'attention.ts': ['attentionForward', 'attentionBackwardQuery', 'attentionBackwardKeyValue'],
  'attention-recompute.ts': ['attentionForwardLse', 'attentionBackwardQueryLse', 'attentionBackwardKeyValueLse'],
  'matmul.ts': ['matmulKernel'],
  'crossentropy.ts': ['crossEntropyForwardBackward', 'lossReduce'],
  'embedding.ts': ['embeddingForward', 'embeddingBackward'],
  'rmsnorm.ts': ['rmsnormForward', 'rmsnormBackwardInput', 'rmsnormBackwardWeight'],
  'swiglu.ts': ['swigluForward', 'swigluBackward'],
  'rope.ts': ['ropeKernel'],
  'optimizer.ts': ['gradNormPartial', 'gradNormFinish', 'adamw'],
};

describe('kernel listings', () => {
  it.each(GENERATED_DOCS.filter((d) => d.file.endsWith('.wgsl')).map((d) => [d.file, d] as const))('%s is what the generators write now (npm run docs)', (file, doc) => {
    expect(read(file)).toBe(doc.content().replace(/\n?$/, '\n'));
  });

  it('lists every attention and matmul kernel with its shape and maths', () => {
    const attention = read('docs/kernels/attention.wgsl');
    for (const name of ['attention_forward', 'attention_backward_query', 'attention_backward_key_value', 'attention_forward_lse', 'attention_backward_query_lse', 'attention_backward_key_value_lse']) {
      expect(attention).toContain(`// ${name}\n`);
    }
    const matmul = read('docs/kernels/matmul.wgsl');
    for (const name of ['matmul_nt_store_register', 'matmul_nn_store_register', 'matmul_tn_accumulate_register', 'matmul_nt_residual_shared']) expect(matmul).toContain(`// ${name}\n`);
    expect(matmul).toContain('//   C = A·B');
  });

  it.each(Object.entries(TRAINING_KERNELS).flatMap(([file, names]) => names.map((n) => [file, n] as const)))('%s %s: a shape comment (inputs -> outputs) and the maths in one line above it', (file, name) => {
    const comment = generatorComment(file, name);
    expect(comment.some((l) => l.includes('->')), comment.join('\n')).toBe(true);
    // The maths: a line of its own, indented under the shape ("//   y = …").
    expect(comment.some((l) => /^\/\/ {3}\S.*(=|←)/.test(l)), comment.join('\n')).toBe(true);
  });
});
