// Plain-text prompting with the data layer's TextTokenizer: a prompt's ids (BOS first) and the
// text of a generated continuation. Used by `atlas generate`; trained models are prompted with
// the chat layout instead
// (src/experiment/prompt-ids.ts).
import type { TextTokenizer } from './tokenize.ts';

/** The parts of a TextTokenizer prompting needs (tests may fake just these). */
export type PromptTokenizer = Pick<TextTokenizer, 'bosId' | 'encode' | 'decode'>;

/** Ids of a prompt: BOS then the text's tokens. `bosId` defaults to the tokenizer's (no BOS
 *  when neither is set); `atlas generate` passes the model's bos_token_id from config.json. */
export function encodePrompt(tok: PromptTokenizer, text: string, bosId: number | undefined = tok.bosId): number[] {
  const ids = tok.encode(text);
  return bosId === undefined ? ids : [bosId, ...ids];
}

/** Text of `newIds` as it continues `prompt`, without repeating the prompt's text and with
 *  special tokens (BOS, EOS, …) left out. Prompt and continuation are decoded together and the
 *  prompt's text is cut off, so decoders that treat the start specially see the real context:
 *  right after BOS the first piece loses its leading space (llama2.c's rule, and the Strip
 *  decoder of SentencePiece-style tokenizer.json files), so stories260K's greedy text from
 *  BOS reads "Once upon a time", not " Once upon a time". */
export function decodeContinuation(tok: PromptTokenizer, prompt: readonly number[], newIds: readonly number[]): string {
  const opts = { skipSpecialTokens: true };
  const before = tok.decode([...prompt], opts);
  const all = tok.decode([...prompt, ...newIds], opts);
  // Not a prefix when the prompt ends inside a multi-byte character the continuation completes.
  return all.startsWith(before) ? all.slice(before.length) : tok.decode([...newIds], opts);
}
