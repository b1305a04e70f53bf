// Command-line parsing shared by every `atlas` command.
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { booleanOptions, parseCommandArgs, parseCommandArgsOrHelp, stringOptions } from '../../../src/cli/args.ts';
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

describe('parseCommandArgsOrHelp', () => {
  const spec = { ...stringOptions('in', 'out'), ...booleanOptions('json') };
  it('declares options by name and parses them as parseCommandArgs does', () => {
    expect(spec).toEqual({ in: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } });
    expect(parseCommandArgsOrHelp('x', ['--in', 'a.jsonl', '--json'], 'usage: x', spec)?.values).toEqual({ in: 'a.jsonl', json: true });
    expect(() => parseCommandArgsOrHelp('x', ['--bogus'], 'usage: x', spec)).toThrow('unknown option --bogus (see "atlas x --help")');
  });
  it('prints the usage on stdout and returns null for -h and --help', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    onTestFinished(() => log.mockRestore());
    for (const flag of ['-h', '--help']) expect(parseCommandArgsOrHelp('x', ['--in', 'a', flag], 'usage: x', spec)).toBeNull();
    expect(log.mock.calls).toEqual([['usage: x'], ['usage: x']]);
  });
});

describe('printable', () => {
  it('escapes control characters from quoted input, keeps newlines, tabs and Unicode', () => {
    expect(printable('bad \u007fELF\u0002\u0000 here')).toBe('bad \\x7fELF\\x02\\x00 here');
    expect(printable('line 1\n\tline 2 — café')).toBe('line 1\n\tline 2 — café');
  });
});
