// Plain-text prompting over the data layer's TextTokenizer: BOS-first prompts and the text of
// a continuation, checked on real vocabularies (stories260K from ../shared, GPT-2, the default).
import { describe, expect, it } from 'vitest';
import { decodeContinuation, encodePrompt } from '../../../src/data/prompt-text.ts';
import { defaultTok, gpt2, sharedPresent, storiesHf, storiesLlama2c } from './tokenizers.ts';

describe.skipIf(!sharedPresent)('stories260K: llama2.c tok512.bin and the HF tokenizer.json', () => {
  const both = () => [storiesLlama2c()!, storiesHf()!];
  it('a prompt starts with BOS: "Once upon a time" → the README ids; "" → [BOS]', () => {
    for (const tok of both()) {
      expect(encodePrompt(tok, 'Once upon a time'), tok.name).toEqual([1, 403, 407, 261, 378]);
      expect(encodePrompt(tok, ''), tok.name).toEqual([1]);
      expect(encodePrompt(tok, 'Once', 7), tok.name).toEqual([7, 403]);
    }
  });
  it('the first piece after BOS loses its leading space (README decoding rule); later ones keep it; EOS writes nothing', () => {
    for (const tok of both()) {
      expect(tok.decode([403, 407]), tok.name).toMatch(/^ ?Once upon$/); // alone, the kinds differ
      expect(decodeContinuation(tok, [1], [403, 407, 261, 378, 2]), tok.name).toBe('Once upon a time');
      expect(decodeContinuation(tok, [1, 403], [407, 261, 378]), tok.name).toBe(' upon a time');
      expect(decodeContinuation(tok, [1, 403, 407], []), tok.name).toBe('');
    }
  });
  it('a prompt ending inside a multi-byte character: the continuation is decoded on its own', () => {
    const tok = storiesLlama2c()!;
    const ids = encodePrompt(tok, 'a ☕'); // ☕ is three byte-fallback pieces
    expect(ids.slice(-3)).toEqual([0xe2 + 3, 0x98 + 3, 0x95 + 3]);
    expect(decodeContinuation(tok, ids.slice(0, -1), ids.slice(-1))).toBe('\uFFFD');
    expect(decodeContinuation(tok, ids.slice(0, -3), ids.slice(-3))).toBe('☕');
  });
});

describe('tokenizers whose decoders keep a leading space', { timeout: 30_000 }, () => {
  it('GPT-2 (BOS = <|endoftext|>): the space stays, the stop token is not written', () => {
    const tok = gpt2();
    const prompt = encodePrompt(tok, 'Hi');
    expect(prompt).toEqual([50256, ...tok.encode('Hi')]);
    expect(decodeContinuation(tok, [50256], [...tok.encode(' Hello world'), 50256])).toBe(' Hello world');
    expect(decodeContinuation(tok, prompt, tok.encode(' there'))).toBe(' there');
  });
  it('the default tokenizer: role and end-of-turn tokens in a continuation are left out', () => {
    const tok = defaultTok();
    const prompt = encodePrompt(tok, 'go to cabinet 12');
    expect(prompt[0]).toBe(tok.bosId);
    expect(decodeContinuation(tok, prompt, [...tok.encode(' and take mug 1'), tok.chat.eotId])).toBe(' and take mug 1');
  });
});
