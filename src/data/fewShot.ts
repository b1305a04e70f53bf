// Few-shot prompts: the instructions, then worked examples, then the real task (and, in
// step-level datasets, the real episode's history so far). This finds where the examples end
// so that only the real episode becomes a trajectory:
//   1. an end-of-examples marker — "(END OF EXAMPLES)", "Here is the task.", "Now it's your
//      turn", "Here is your task:" — the last one wins and the episode is what follows it;
//   2. otherwise the task header ("Your task is to:", "Question:", "Task:", "Goal:") repeated:
//      the last occurrence is the real task, and its paragraph (from the blank line before it)
//      starts the episode.
// The text before the first example (after dropping an "Here are two examples." line) is the
// general instructions, kept as the trajectory's system text. Pure text work, no judgement
// beyond these markers; what was found is returned so the caller can say it in a note.

export interface FewShotSplit {
  /** Instructions before the examples (undefined when the prompt has no examples). */
  system?: string;
  /** How many worked examples were found (and are to be dropped). */
  demos: number;
  /** The real task and, when present, its history. */
  episode: string;
  /** What told the examples apart, for notes: the marker's text or the repeated header. */
  by?: string;
}

const END_MARKERS: RegExp[] = [
  /^[ \t]*\(?[ \t]*end of (?:the )?examples?[ \t]*\)?[ \t]*[.:]?[ \t]*$/gim,
  /^[ \t]*here is (?:the|your) (?:new |real |actual )?(?:task|question|problem)[ \t]*[.:]?[ \t]*/gim,
  /^[ \t]*(?:now,?[ \t]+)?(?:it'?s|it is)[ \t]+your turn[ \t]*[.:!]?[ \t]*/gim,
  /^[ \t]*your turn[ \t]*[.:!][ \t]*/gim,
];
const DEMO_INTRO = /^[^\n]*\bhere (?:are|is) (?:some|two|three|four|five|a few|several|\d+|an?)\b[^\n]*\bexamples?\b[^\n]*$/im;
const HEADER = /^[ \t]*(?:[^\n]*?\byour task is to:|question(?:[ \t]+\d+)?:|task:|goal:)/gim;

function lastMatch(re: RegExp, text: string): RegExpExecArray | null {
  re.lastIndex = 0;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    last = m;
    if (m[0] === '') re.lastIndex++;
  }
  return last;
}

function countHeaders(text: string): number[] {
  HEADER.lastIndex = 0;
  const at: number[] = [];
  for (let m = HEADER.exec(text); m; m = HEADER.exec(text)) at.push(m.index);
  return at;
}

/** Start of the paragraph holding `index`: just after the last blank line before it. */
function paragraphStart(text: string, index: number, floor: number): number {
  const before = text.slice(floor, index);
  const m = lastMatch(/\n[ \t]*\n/g, before);
  return m ? floor + m.index + m[0].length : floor;
}

function instructionsBefore(text: string): string | undefined {
  const intro = DEMO_INTRO.exec(text);
  const cut = intro ? text.slice(0, intro.index) : text;
  const trimmed = cut.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function splitFewShot(prompt: string): FewShotSplit {
  const text = prompt.replace(/\r\n?/g, '\n');
  let end: RegExpExecArray | null = null;
  for (const re of END_MARKERS) {
    const m = lastMatch(re, text);
    if (m && (!end || m.index > end.index)) end = m;
  }
  const headers = countHeaders(text);
  if (end) {
    const before = text.slice(0, end.index);
    const demoHeaders = headers.filter((h) => h < end!.index);
    const intro = DEMO_INTRO.exec(before);
    const firstDemo = intro ? intro.index : demoHeaders.length ? paragraphStart(before, demoHeaders[0], 0) : before.length;
    return {
      system: instructionsBefore(before.slice(0, firstDemo)),
      demos: demoHeaders.length || (intro ? 1 : 0),
      episode: text.slice(end.index + end[0].length).replace(/^[ \t]*\n/, ''),
      by: JSON.stringify(end[0].trim()),
    };
  }
  if (headers.length >= 2) {
    const real = headers[headers.length - 1];
    const previous = headers[headers.length - 2];
    // The real task's paragraph starts after the last blank line since the previous example's
    // header; with no blank line in between, at the header's own line.
    const blank = lastMatch(/\n[ \t]*\n/g, text.slice(previous, real));
    const start = blank ? previous + blank.index + blank[0].length : text.lastIndexOf('\n', real) + 1;
    const header = text.slice(real, text.indexOf(':', real) + 1).trim();
    return {
      system: instructionsBefore(text.slice(0, paragraphStart(text, headers[0], 0))),
      demos: headers.length - 1,
      episode: text.slice(start),
      by: `the repeated header ${JSON.stringify(header)}`,
    };
  }
  return { demos: 0, episode: text };
}
