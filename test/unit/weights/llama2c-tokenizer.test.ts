import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Llama2cTokenizer } from '../../../src/data/tokenizer/llama2c.ts';

const DIR = path.resolve('../shared/models/stories260K');
const have = existsSync(path.join(DIR, 'tok512.bin')) && existsSync(path.join(DIR, 'hf/tokenizer.json'));
if (!have) console.warn(`SKIPPED tok512 tokenizer tests: ${DIR} not found (../shared absent)`);

/** A tokenizer .bin from pieces and scores (llama2.c layout). */
function tokBin(pieces: string[], scores: number[], maxLen = 8): Uint8Array {
  const enc = pieces.map((p) => new TextEncoder().encode(p));
  const out = new Uint8Array(4 + enc.reduce((n, b) => n + 8 + b.length, 0));
  const dv = new DataView(out.buffer);
  dv.setInt32(0, maxLen, true);
  let at = 4;
  enc.forEach((b, i) => {
    dv.setFloat32(at, scores[i], true);
    dv.setInt32(at + 4, b.length, true);
    out.set(b, at + 8);
    at += 8 + b.length;
  });
  return out;
}

describe('llama2.c tokenizer on a hand-made vocabulary', () => {
  // ids 0-2 specials, 3..258 bytes, then pieces.
  const bytes = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
  const pieces = ['<unk>', '\n<s>\n', '\n</s>\n', ...bytes, ' ', 'a', 'b', 'ab', ' ab', 'ba'];
  const scores = [0, 0, 0, ...bytes.map(() => 0), -1, -2, -3, -4, -5, -0.5];
  const tok = Llama2cTokenizer.fromBytes(tokBin(pieces, scores), pieces.length);
  const id = (p: string) => pieces.indexOf(p);
  it('merges the highest-scoring pair first and falls back to bytes', () => {
    // " bab": ' ' b a b → 'ba' (-0.5) beats 'ab' (-3), then nothing merges ' ' + 'ba'.
    expect(tok.encode('bab')).toEqual([id(' '), id('ba'), id('b')]);
    expect(tok.encode('ab', { bos: true, eos: true })).toEqual([1, id(' ab'), 2]);
    expect(tok.encode('é')).toEqual([id(' '), 0xc3 + 3, 0xa9 + 3]);
    expect(tok.encode('')).toEqual([]);
  });
  it('decodes bytes, drops the space after BOS, prints nothing for specials', () => {
    expect(tok.decode([id(' ab'), 0xc3 + 3, 0xa9 + 3], 1)).toBe('abé');
    expect(tok.decode([id(' ab'), 2])).toBe(' ab');
    expect(() => tok.decode([999])).toThrow(/token id 999 is outside the vocabulary/);
  });
  it('malformed files give errors with positions', () => {
    const good = tokBin(pieces, scores);
    expect(() => Llama2cTokenizer.fromBytes(good.subarray(0, 100), pieces.length, 't.bin')).toThrow(/t\.bin: (ends after|token \d+ claims)/);
    expect(() => Llama2cTokenizer.fromBytes(good, pieces.length - 1, 't.bin')).toThrow(/bytes left after 264 tokens/);
  });
});

describe.skipIf(!have)('tok512.bin (stories260K)', () => {
  const tok = Llama2cTokenizer.fromBytes(readFileSync(path.join(DIR, 'tok512.bin')), 512);
  const hf = new Tokenizer(JSON.parse(readFileSync(path.join(DIR, 'hf/tokenizer.json'), 'utf8')), JSON.parse(readFileSync(path.join(DIR, 'hf/tokenizer_config.json'), 'utf8')));
  it('encodes like SentencePiece on the README examples', () => {
    expect(tok.encode('Once upon a time', { bos: true })).toEqual([1, 403, 407, 261, 378]);
    expect(tok.encode('\n')).toEqual([tok.pieces.indexOf(' '), 13]);
    expect(tok.pieces[13]).toBe('<0x0A>');
  });
  const samples = ['Once upon a time', 'Hello world!', 'The cat sat.\nIt was happy.', 'naïve café 🙂 ok', 'Lily and Tom played  ball', '1234 + 56 = ?', 'x'];
  for (const s of samples) {
    it(`matches the HF tokenizer.json ids on ${JSON.stringify(s)}`, () => {
      expect(tok.encode(s, { bos: true })).toEqual(hf.encode(s).ids);
    });
    it(`decodes back to ${JSON.stringify(s)}`, () => {
      expect(tok.decode(tok.encode(s, { bos: true }).slice(1), 1)).toBe(s);
    });
  }
});
