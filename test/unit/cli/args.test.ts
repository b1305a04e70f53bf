// Command-line parsing shared by every `atlas` command.
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../../src/cli/args.ts';
import { printable } from '../../../src/cli/main.ts';

const options = { temperature: { type: 'string' as const }, json: { type: 'boolean' as const } };

describe('parseCommandArgs', () => {
  it('takes a negative number as the value of a string option', () => {
    expect(parseCommandArgs('x', ['--temperature', '-1'], options).values.temperature).toBe('-1');
    expect(parseCommandArgs('x', ['--temperature', '-.5', '--json'], options).values).toEqual({ temperature: '-.5', json: true });
  });
  it('still refuses a flag where a value should be, and names unknown options plainly', () => {
    expect(() => parseCommandArgs('x', ['--temperature', '--json'], options)).toThrow();
    expect(() => parseCommandArgs('gen', ['--temprature', '1'], options)).toThrow('unknown option --temprature (see "atlas gen --help")');
  });
});

describe('printable', () => {
  it('escapes control characters from quoted input, keeps newlines, tabs and Unicode', () => {
    expect(printable('bad \u007fELF\u0002\u0000 here')).toBe('bad \\x7fELF\\x02\\x00 here');
    expect(printable('line 1\n\tline 2 — café')).toBe('line 1\n\tline 2 — café');
  });
});
