// Streaming split of big JSON documents — top-level arrays or objects, one or several in a row
// (as `jq .` prints them) — into their elements/members, so a JSON-list file of any size is
// parsed one record at a time.
// The scanner only tracks strings, escapes and bracket depth; each element's text is then
// parsed by JSON.parse, so a malformed element is rejected alone and its neighbours are kept.

export interface JsonPart {
  /** Element index (array) or member index (object). */
  index: number;
  /** 1-based line on which the element starts. */
  line: number;
  /** Array element text, or an object member as `"key": value`. */
  text: string;
  /** Set instead of `text` when the element exceeded maxElementChars (its length in characters). */
  tooLong?: number;
}

export type JsonPartEvent =
  | { kind: 'open'; container: 'array' | 'object'; line: number }
  | { kind: 'close' }
  | ({ kind: 'part' } & JsonPart)
  | { kind: 'truncated'; index: number; line: number; /** the cut element's first characters */ head: string }
  | { kind: 'trailing'; line: number };

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

/** Scans text chunks of JSON documents (each starting with '[' or '{'); any other top-level
 *  character ends the scan with a 'trailing' event. */
export async function* splitJsonContainer(chunks: AsyncIterable<string>, maxElementChars = 64 * 1024 * 1024): AsyncGenerator<JsonPartEvent> {
  let phase: 'before' | 'inside' = 'before';
  // Open brackets of the current element; a closer that does not match the top is ignored so a
  // malformed element still ends at the next top-level comma (and is then rejected alone).
  let stack = '';
  let inString = false;
  let escape = false;
  let line = 1;
  let index = 0;
  let acc = '';
  let accLen = 0;
  let started = false; // current element has a non-space character
  let startLine = 1;
  let tooLong = false;

  for await (const chunk of chunks) {
    let segStart = 0;
    const take = (end: number) => {
      if (!tooLong) {
        acc += chunk.slice(segStart, end);
        if (acc.length > maxElementChars) {
          tooLong = true;
          accLen = acc.length;
          acc = '';
        }
      } else accLen += end - segStart;
    };
    const flush = function* (i: number): Generator<JsonPartEvent> {
      take(i);
      if (started) {
        yield tooLong ? { kind: 'part', index, line: startLine, text: '', tooLong: accLen } : { kind: 'part', index, line: startLine, text: acc.trim() };
        index++;
      }
      acc = '';
      accLen = 0;
      tooLong = false;
      started = false;
      segStart = i + 1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 0x0a) line++;
      if (phase === 'before') {
        if (WS.has(c)) continue;
        if (c === 0x5b || c === 0x7b) {
          phase = 'inside';
          segStart = i + 1;
          index = 0;
          yield { kind: 'open', container: c === 0x5b ? 'array' : 'object', line };
          continue;
        }
        yield { kind: 'trailing', line };
        return;
      }
      if (inString) {
        if (escape) escape = false;
        else if (c === 0x5c) escape = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (stack === '' && (c === 0x2c || c === 0x5d || c === 0x7d)) {
        // A separator or the container's end closes the current element.
        yield* flush(i);
        if (c !== 0x2c) {
          phase = 'before'; // another top-level value may follow
          yield { kind: 'close' };
        }
        continue;
      }
      if (!started && !WS.has(c)) {
        started = true;
        startLine = line;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x5b) stack += ']';
      else if (c === 0x7b) stack += '}';
      else if ((c === 0x5d || c === 0x7d) && stack.charCodeAt(stack.length - 1) === c) stack = stack.slice(0, -1);
    }
    if (phase === 'inside') take(chunk.length);
  }
  if (phase === 'inside') yield { kind: 'truncated', index, line: started ? startLine : line, head: acc.trimStart().slice(0, 200) };
}
