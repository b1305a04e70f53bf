// Argument parsing shared by the commands (Node's util.parseArgs, strict), with errors
// that name the command and the offending option.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends OptionSpec>(command: string, argv: string[], options: O, allowPositionals = false) {
  // "--temperature -1": util.parseArgs would read "-1" as an option; join it to its flag.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : undefined;
    if (name && options[name]?.type === 'string' && i + 1 < argv.length && /^-(\d|\.\d)/.test(argv[i + 1])) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new Error(`${unknown ? `unknown option ${unknown[1]}` : message} (see "atlas ${command} --help")`);
  }
}

/** util.parseArgs options: one option taking a value per name (`--out <file>`). */
export function stringOptions<N extends string>(...names: N[]): Record<N, { type: 'string' }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) as Record<N, { type: 'string' }>;
}

/** util.parseArgs options: one flag per name (`--json`). */
export function booleanOptions<N extends string>(...names: N[]): Record<N, { type: 'boolean' }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'boolean' as const }])) as Record<N, { type: 'boolean' }>;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** parseCommandArgs for a command with a usage text: -h / --help is an option of every
 *  command, and asking for it prints `usage` (stdout) and returns null, for exit code 0. */
export function parseCommandArgsOrHelp<O extends OptionSpec>(command: string, argv: string[], usage: string, options: O, allowPositionals = false) {
  const parsed = parseCommandArgs(command, argv, { ...options, ...HELP_OPTION }, allowPositionals);
  if (!(parsed.values as { help?: boolean }).help) return parsed;
  console.log(usage);
  return null;
}

export function requireOption(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new Error(`missing required option --${flag} (see "atlas ${command} --help")`);
  return value;
}

/** The number an option holds. Errors name the option only: main.ts prefixes "atlas <command>: ".
 *  (`command` is kept in the signature for callers.) */
export function numberOption(command: string, value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number (got "${value}")`);
  return n;
}

export function intOption(command: string, value: string | undefined, flag: string, fallback: number): number {
  const n = numberOption(command, value, flag, fallback);
  if (!Number.isInteger(n)) throw new Error(`--${flag} must be an integer (got "${value}")`);
  return n;
}
