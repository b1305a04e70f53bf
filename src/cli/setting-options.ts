// The CLI side of the settings table (src/experiment/settings-spec.ts): each setting's option, its
// usage line and its value, checked against the setting's range, for `atlas experiment` and
// `atlas train` alike.
import { intOption, numberOption } from './args.ts';
import { inRange, rangeText, type SettingSpec } from '../experiment/settings-spec.ts';

/** util.parseArgs options: one string option per setting. */
export function settingOptions(specs: readonly SettingSpec[]): Record<string, { type: 'string' }> {
  return Object.fromEntries(specs.map((s) => [s.cli, { type: 'string' as const }]));
}

/** The usage lines of the settings' options, e.g. "[--steps N] [--lr X] [--time-budget X|none]". */
export function settingsUsage(specs: readonly SettingSpec[], indent = '       ', width = 110): string {
  const lines: string[] = [];
  let line = indent;
  for (const s of specs) {
    const item = `[--${s.cli} ${s.type === 'int' ? 'N' : 'X'}${s.noneWord ? `|${s.noneWord}` : ''}]`;
    if (line.length + item.length + 1 > width && line.trim()) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += item + ' ';
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

/**
 * The value of a setting's option: `fallback` when the option is not given; undefined for an
 * optional setting the option leaves out ("none", or 0 where that means the environment's
 * limit). A value outside the setting's range is refused, naming the option.
 */
export function settingOption(command: string, s: SettingSpec, raw: string | undefined, fallback?: number): number | undefined {
  if (raw === undefined) return fallback;
  if (s.noneWord && raw === s.noneWord) return undefined;
  const n = s.type === 'int' ? intOption(command, raw, s.cli, 0) : numberOption(command, raw, s.cli, 0);
  if (s.cliZeroIsAbsent && n === 0) return undefined;
  if (!inRange(s, n)) throw new Error(`--${s.cli} must be ${rangeText(s)}${s.noneWord ? ` or "${s.noneWord}"` : ''} (got ${raw})`);
  return n;
}
