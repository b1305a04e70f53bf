// Argument parsing shared by the commands (Node's util.parseArgs, strict), with errors
// that name the command and the offending option.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends OptionSpec>(command: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)} (see "atlas ${command} --help")`);
  }
}

export function requireOption(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new Error(`missing required option --${flag} (see "atlas ${command} --help")`);
  return value;
}

export function numberOption(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number (got "${value}") (atlas ${command})`);
  return n;
}

export function intOption(command: string, value: string | undefined, flag: string, fallback: number): number {
  const n = numberOption(command, value, flag, fallback);
  if (!Number.isInteger(n)) throw new Error(`--${flag} must be an integer (got "${value}") (atlas ${command})`);
  return n;
}
