// Which files beside a model make up its tokenizer. Its own module, with nothing but file
// names, so the page can save a run's tokenizer beside exported weights without loading the
// tokenizer libraries.
import type { FileSource } from '../engine/weights/file-source.ts';

/** The files that make up the tokenizer beside a model (what tokenizerFromFiles reads; the
 *  playground saves the same files beside exported weights): for a Hugging Face folder its
 *  tokenizer.json (+ tokenizer_config.json), else the llama2.c tokenizer (`atlas convert` copies
 *  one into the folder when the checkpoint had no tokenizer.json); for the llama2.c checkpoint
 *  `binName`, tok<vocab>.bin or tokenizer.bin. */
export async function tokenizerFileNames(src: FileSource, vocabSize: number, binName?: string): Promise<string[]> {
  if (!binName && (await src.exists('tokenizer.json'))) return ['tokenizer.json', ...((await src.exists('tokenizer_config.json')) ? ['tokenizer_config.json'] : [])];
  const tokName = [`tok${vocabSize}.bin`, 'tokenizer.bin'];
  for (const n of tokName) if (await src.exists(n)) return [n];
  throw new Error(binName
    ? `${src.label}: the llama2.c checkpoint ${binName} needs its tokenizer (${tokName.join(' or ')}) beside it`
    : `${src.label}: no tokenizer beside config.json (looked for tokenizer.json, ${tokName.join(' and ')})`);
}
