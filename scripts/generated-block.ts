// A generated block of a Markdown file: the text between `<!-- generated: NAME … -->` and
// `<!-- end generated: NAME -->` (the markers' lines stay).

function markers(text: string, name: string): { start: number; end: number } {
  const open = text.indexOf(`<!-- generated: ${name}`);
  const close = text.indexOf(`<!-- end generated: ${name} -->`);
  if (open < 0 || close < open) throw new Error(`no generated block "${name}" (<!-- generated: ${name} … --> … <!-- end generated: ${name} -->)`);
  return { start: text.indexOf('\n', open) + 1, end: close };
}

/** The block's text, without its markers. */
export function generatedBlock(text: string, name: string): string {
  const { start, end } = markers(text, name);
  return text.slice(start, end);
}

/** `text` with the block's content replaced by `content`. */
export function replaceGeneratedBlock(text: string, name: string, content: string): string {
  const { start, end } = markers(text, name);
  return text.slice(0, start) + content.replace(/\n?$/, '\n') + text.slice(end);
}
