// The llama2.c tokenizer file (e.g. tok512.bin) and llama2.c's encode/decode algorithm.
// This is a port of an algorithm for a specific legacy format: no library reads
// tokenizer .bin files, so we implement it here (for HF tokenizer.json files use
// @huggingface/tokenizers instead).
//
// File: int32 max_token_length, then for each of the vocab_size tokens: f32 score,
// int32 byte length, the piece's bytes (UTF-8; "▁" already replaced by a space).
// Ids 0, 1, 2 are <unk>, BOS, EOS; pieces "<0x00>".."<0xFF>" are byte fallbacks.

export const BOS_ID = 1;
export const EOS_ID = 2;

export class Llama2cTokenizer {
  readonly vocabSize: number;
  readonly maxTokenLength: number;
  /** Piece text per id. */
  readonly pieces: string[];
  readonly scores: Float32Array;
  private readonly pieceBytes: Uint8Array[];
  private readonly idOf = new Map<string, number>();
  /** id → byte value for byte-fallback pieces. */
  private readonly byteOf = new Map<number, number>();

  constructor(pieceBytes: Uint8Array[], scores: Float32Array, maxTokenLength: number) {
    this.vocabSize = pieceBytes.length;
    this.maxTokenLength = maxTokenLength;
    this.pieceBytes = pieceBytes;
    this.scores = scores;
    const dec = new TextDecoder();
    this.pieces = pieceBytes.map((b) => dec.decode(b));
    this.pieces.forEach((p, id) => {
      if (!this.idOf.has(p)) this.idOf.set(p, id); // first occurrence wins on duplicates
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
      if (m) this.byteOf.set(id, parseInt(m[1], 16));
    });
  }

  /** Parses a tokenizer .bin; `vocabSize` comes from the model (the file does not store it). */
  static fromBytes(bytes: ArrayBuffer | Uint8Array, vocabSize: number, label = 'tokenizer .bin'): Llama2cTokenizer {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    if (u8.byteLength < 4) throw new Error(`${label}: ${u8.byteLength} bytes, too short for the max_token_length header`);
    const maxLen = view.getInt32(0, true);
    const pieces: Uint8Array[] = [];
    const scores = new Float32Array(vocabSize);
    let at = 4;
    for (let i = 0; i < vocabSize; i++) {
      if (at + 8 > u8.byteLength) throw new Error(`${label}: ends after ${i} tokens at byte ${at}; the model's vocabulary has ${vocabSize}`);
      scores[i] = view.getFloat32(at, true);
      const len = view.getInt32(at + 4, true);
      at += 8;
      if (len < 0 || at + len > u8.byteLength) throw new Error(`${label}: token ${i} claims ${len} bytes at byte ${at}, past the end of the file (${u8.byteLength} bytes)`);
      pieces.push(u8.slice(at, at + len));
      at += len;
    }
    if (at !== u8.byteLength) throw new Error(`${label}: ${u8.byteLength - at} bytes left after ${vocabSize} tokens (vocabulary size mismatch?)`);
    return new Llama2cTokenizer(pieces, scores, maxLen);
  }

  /** llama2.c's encode: dummy-prefix space, one piece per code point (bytes as <0xNN>
   *  when the code point is not a piece), then greedily merge the adjacent pair whose
   *  concatenation is the highest-scoring piece (leftmost on ties) until none remains. */
  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const ids: number[] = [];
    if (opts.bos) ids.push(BOS_ID);
    if (text.length > 0) {
      const space = this.idOf.get(' ');
      if (space === undefined) throw new Error('tokenizer has no " " piece for the dummy prefix');
      ids.push(space);
    }
    const enc = new TextEncoder();
    for (const ch of text) {
      const id = this.idOf.get(ch);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const byte of enc.encode(ch)) ids.push(byte + 3); // <0x00> is id 3
    }
    const start = opts.bos ? 1 : 0;
    const merged = ids.slice(start);
    for (;;) {
      let bestScore = -Infinity;
      let bestId = -1;
      let bestAt = -1;
      for (let i = 0; i + 1 < merged.length; i++) {
        const id = this.idOf.get(this.pieces[merged[i]] + this.pieces[merged[i + 1]]);
        if (id !== undefined && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      merged.splice(bestAt, 2, bestId);
    }
    const out = ids.slice(0, start).concat(merged);
    if (opts.eos) out.push(EOS_ID);
    return out;
  }

  /** Bytes of one token as llama2.c prints it: a piece right after BOS loses its leading
   *  space; byte pieces become their byte; BOS/EOS/<unk> print nothing. */
  tokenBytes(id: number, prev?: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    if (id === 0 || id === BOS_ID || id === EOS_ID) return new Uint8Array(0);
    const b = this.byteOf.get(id);
    if (b !== undefined) return Uint8Array.of(b);
    const piece = this.pieceBytes[id];
    return prev === BOS_ID && piece[0] === 0x20 ? piece.subarray(1) : piece;
  }

  /** Decodes ids to text; `prev` is the token before ids[0] (e.g. the prompt's last token). */
  decode(ids: number[], prev?: number): string {
    const parts: Uint8Array[] = [];
    let p = prev;
    for (const id of ids) {
      parts.push(this.tokenBytes(id, p));
      p = id;
    }
    const all = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of parts) {
      all.set(x, at);
      at += x.length;
    }
    return new TextDecoder().decode(all);
  }
}
