// Where the stories260K test model lives, and its README's golden greedy text.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const STORIES_DIR = path.resolve('../shared/models/stories260K');
export const STORIES_BIN = path.join(STORIES_DIR, 'stories260K.bin');
export const haveStories = existsSync(STORIES_BIN) && existsSync(path.join(STORIES_DIR, 'README.md')) && existsSync(path.join(STORIES_DIR, 'tok512.bin'));

/** The golden text: the indented line after "## Golden output" in the README. */
export function storiesGolden(): string {
  const readme = readFileSync(path.join(STORIES_DIR, 'README.md'), 'utf8');
  const line = readme.slice(readme.indexOf('## Golden output')).split('\n').find((l) => l.startsWith('    '));
  if (!line) throw new Error('stories260K README has no indented golden line');
  return line.trim();
}
