// Generates the built-in default tokenizer (tokenizer.json + tokenizer_config.json here):
// a byte-level BPE with 1,024 ids, learned from the built-in environments' expert demos.
//   ids 0–6     special tokens: <pad> <s> </s> <|system|> <|user|> <|assistant|> <|end|>
//   ids 7–262   the 256 bytes (GPT-2's byte→character map), so ANY text encodes, no [UNK]
//   ids 263–1023 761 merges learned here (most frequent adjacent pair first, ties by text)
// Pre-tokenizer: digits one by one, then GPT-2's split into words / numbers / punctuation /
// spaces (a word keeps its leading space). The chat template lays turns out as
// <|role|>content<|end|>.
// The environments' text is snapshotted as piece counts in corpus-pieces.tsv (one JSON-quoted
// pre-tokenized piece and its count per line) so the tokenizer stays fixed when the
// environments change; refresh the snapshot deliberately (it changes every id):
//   npx tsx models/default-tokenizer/make.ts                    # tokenizer from the snapshot
//   npx tsx models/default-tokenizer/make.ts --refresh-corpus   # re-snapshot the demos first
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const VOCAB_SIZE = 1024;
export const SPECIAL_TOKENS = ['<pad>', '<s>', '</s>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>'];
const DEMOS_PER_SPLIT = 40;

export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

/** GPT-2's reversible byte → printable character map. */
export function byteToChar(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = keep.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  return out;
}

const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

// ALFWorld-style and everyday words beyond the built-in environments' own text, so imported
// ALFWorld/ReAct data also tokenizes into words (each line is counted EXTRA_WEIGHT times).
const EXTRA_TEXT = [
  'You are in the middle of a room. Looking quickly around you, you see a cabinet 1, a countertop 1, a drawer 1, a fridge 1, a microwave 1, a sinkbasin 1, a stoveburner 1, a toilet 1, a shelf 1, a sidetable 1, a diningtable 1, a desk 1, a bed 1, a sofa 1, a armchair 1, a garbagecan 1, a coffeemachine 1, a toaster 1, a safe 1, a dresser 1, a bathtubbasin 1, a towelholder 1, a handtowelholder 1, a toiletpaperhanger 1.',
  'Your task is to: put some spraybottle on toilet. clean some apple and put it in fridge. heat some egg and put it in microwave. cool some pan and put it in stoveburner. put two cellphone in sofa. look at bowl under the desklamp. examine the book with the desklamp.',
  'apple bread butterknife cellphone creditcard dishsponge egg fork knife lettuce mug pan plate pot potato soapbar soapbottle spatula spoon tomato cloth candle book bowl pen pencil laptop keychain alarmclock desklamp floorlamp pillow remotecontrol statue vase watch cd box newspaper houseplant kettle peppershaker saltshaker winebottle glassbottle cup ladle',
  'go to open close take from put in/on use toggle examine inventory look think: OK. Nothing happens. You pick up the You put the You open the You close the You heat the You cool the You clean the using is open is closed In it, you see On the, you see nothing',
  'I need to find and take a first then next now it is more likely to appear in can check one by one starting with the and of to on for with this that there here which what when where will should must have has was were be been not no yes',
];
const EXTRA_WEIGHT = 5;

/** The corpus: instructions, agent turns and observations of the environments' expert demos.
 *  (The environments are imported only here, so building from the snapshot does not need them.) */
export async function corpus(): Promise<string[]> {
  const { ENVIRONMENTS } = await import('../../src/envs/registry.ts');
  const { generateDemos } = await import('../../src/envs/demo.ts');
  const { SPLITS } = await import('../../src/envs/types.ts');
  const texts: string[] = ['System User Assistant Thought: Action: Observation: OK. Your task is to:'];
  for (const line of EXTRA_TEXT) for (let i = 0; i < EXTRA_WEIGHT; i++) texts.push(line);
  for (const def of ENVIRONMENTS) {
    for (const split of SPLITS) {
      let demos;
      try {
        demos = generateDemos(def, DEMOS_PER_SPLIT, 1, split);
      } catch {
        continue; // an environment without tasks in this split
      }
      for (const t of demos) {
        texts.push(t.instruction);
        for (const s of t.steps) texts.push(s.agent, s.observation);
      }
    }
  }
  return texts;
}

/** Pre-tokenized pieces with their counts — the same split as the tokenizer's pre-tokenizer:
 *  digits isolated one by one, then GPT-2's pattern. */
export function pieceCounts(texts: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of text.split(/(\p{N})/u).flatMap((part) => part.match(SPLIT) ?? [])) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  return counts;
}

const here = () => path.dirname(fileURLToPath(import.meta.url));
export const CORPUS_FILE = 'corpus-pieces.tsv';

export function writeCorpus(counts: Map<string, number>): string {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([p, n]) => `${JSON.stringify(p)}\t${n}`).join('\n') + '\n';
}

export function readCorpus(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const tab = line.lastIndexOf('\t');
    counts.set(JSON.parse(line.slice(0, tab)), Number(line.slice(tab + 1)));
  }
  return counts;
}

/** Learns `nMerges` byte-level BPE merges from piece counts. Deterministic. */
export function learnMerges(pieces: Map<string, number>, nMerges: number): [string, string][] {
  const map = byteToChar();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const [piece, n] of pieces) {
    const word = Array.from(enc.encode(piece), (b) => map[b]).join('\u0000');
    counts.set(word, (counts.get(word) ?? 0) + n);
  }
  const words = [...counts].map(([w, n]) => ({ syms: w.split('\u0000'), n }));
  const merges: [string, string][] = [];
  while (merges.length < nMerges) {
    const pairs = new Map<string, number>();
    for (const { syms, n } of words) for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i] + '\u0000' + syms[i + 1];
      pairs.set(key, (pairs.get(key) ?? 0) + n);
    }
    let best = '';
    let bestN = 0;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && k < best)) [best, bestN] = [k, n];
    if (bestN < 2) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.syms[i]);
      }
      w.syms = out;
    }
  }
  return merges;
}

export function buildDefaultTokenizer(pieces = readCorpus(readFileSync(path.join(here(), CORPUS_FILE), 'utf8'))): { tokenizer: object; config: object } {
  const merges = learnMerges(pieces, VOCAB_SIZE - SPECIAL_TOKENS.length - 256);
  if (merges.length !== VOCAB_SIZE - SPECIAL_TOKENS.length - 256) throw new Error(`the corpus gave only ${merges.length} merges`);
  const vocab: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((t, i) => (vocab[t] = i));
  for (const c of byteToChar()) vocab[c] = Object.keys(vocab).length;
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel] },
    post_processor: null,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    model_max_length: 2048,
    clean_up_tokenization_spaces: false,
    chat_template: CHAT_TEMPLATE,
  };
  return { tokenizer, config };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = here();
  if (process.argv.includes('--refresh-corpus')) {
    writeFileSync(path.join(dir, CORPUS_FILE), writeCorpus(pieceCounts(await corpus())));
    console.log(`wrote ${dir}/${CORPUS_FILE} from the environments' demos`);
  }
  const { tokenizer, config } = buildDefaultTokenizer();
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer, null, 1) + '\n');
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
  console.log(`wrote ${dir}/tokenizer.json (${Object.keys((tokenizer as { model: { vocab: object } }).model.vocab).length} ids) and tokenizer_config.json`);
}
