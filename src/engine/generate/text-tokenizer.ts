// The text side of generation: one small interface over the two tokenizer kinds a model
// may come with (llama2.c tokenizer .bin, or a Hugging Face tokenizer.json read with
// @huggingface/tokenizers). Browser-safe: callers pass bytes / parsed JSON.
import { Tokenizer } from '@huggingface/tokenizers';
import { Llama2cTokenizer, BOS_ID } from '../../data/tokenizer/llama2c.ts';

export interface TextTokenizer {
  readonly kind: 'llama2c' | 'hf';
  bosId: number | undefined;
  /** Prompt ids, starting with BOS when the tokenizer has one. */
  encodePrompt(text: string): number[];
  /** Text of `newIds` as it continues `prompt` (the prompt's own text is not repeated). */
  decodeContinuation(prompt: number[], newIds: number[]): string;
}

export function llama2cTextTokenizer(tok: Llama2cTokenizer): TextTokenizer {
  return {
    kind: 'llama2c',
    bosId: BOS_ID,
    encodePrompt: (text) => tok.encode(text, { bos: true }),
    decodeContinuation: (prompt, ids) => tok.decode(ids, prompt[prompt.length - 1]),
  };
}

export function hfTextTokenizer(tokenizerJson: object, tokenizerConfig: object = {}, bosId?: number): TextTokenizer {
  const tok = new Tokenizer(tokenizerJson, tokenizerConfig);
  return {
    kind: 'hf',
    bosId,
    encodePrompt(text) {
      const ids = tok.encode(text, { add_special_tokens: true }).ids;
      // Templates that add no BOS (or tokenizers without one) still need a first token.
      return bosId !== undefined && ids[0] !== bosId ? [bosId, ...ids] : ids;
    },
    decodeContinuation(prompt, ids) {
      // Decode prompt+continuation and cut the prompt's text off, so decoders that treat
      // the first token specially (e.g. strip a leading space) see the real context.
      const opts = { skip_special_tokens: true };
      const before = tok.decode(prompt, opts);
      const all = tok.decode([...prompt, ...ids], opts);
      return all.startsWith(before) ? all.slice(before.length) : tok.decode(ids, opts);
    },
  };
}
