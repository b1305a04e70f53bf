// A small YAML writer for the trainer recipes (src/data/recipes/*): block mappings and
// sequences, 2-space indent, comments above keys. Every value it writes reads back as the same
// value under YAML 1.2 and under YAML 1.1 (PyYAML, OmegaConf: what Axolotl, LLaMA-Factory,
// torchtune and TRL scripts load configs with):
// - a string is written plain only when it is a simple word or path that no YAML reads as
//   anything else (not yes/no/on/off/null/true/false, not a number, no ": " or " #");
//   otherwise it is double-quoted with JSON escapes (a subset of YAML's double-quoted escapes);
// - a non-integer number always has a "." before its exponent and a signed exponent
//   (PyYAML reads "1e-5" as a string, "1.0e-05" as a float);
// - NaN and ±Infinity are refused (no trainer setting needs them).

export type YamlValue = string | number | boolean | null | readonly YamlValue[] | { readonly [key: string]: YamlValue };
export type YamlMap = { readonly [key: string]: YamlValue };

export interface YamlOptions {
  /** Comment lines at the top of the file (without "# "). */
  header?: readonly string[];
  /** Comment lines above a key, by dotted path of mapping keys ("datasets", "sft_config.max_length"). */
  comments?: Readonly<Record<string, string | readonly string[]>>;
}

const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;
const PLAIN = /^(?:[A-Za-z_/]|\.\.?\/)[A-Za-z0-9_./+-]*$/;

function scalarString(s: string): string {
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`YAML: cannot write ${n}`);
  if (Object.is(n, -0)) return '0';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const mantissa = s.slice(0, e);
  const exponent = s.slice(e + 1);
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${/^[+-]/.test(exponent) ? exponent : `+${exponent}`}`;
}

function scalar(v: YamlValue): string | undefined {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return yamlNumber(v);
  if (typeof v === 'string') return scalarString(v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  return Object.keys(v).length === 0 ? '{}' : undefined;
}

function commentLines(text: string | readonly string[] | undefined, pad: string): string[] {
  if (text === undefined) return [];
  return (typeof text === 'string' ? [text] : text).flatMap((t) => t.split('\n')).map((t) => (t === '' ? `${pad}#` : `${pad}# ${t}`));
}

function mapping(map: YamlMap, indent: number, path: string, opts: YamlOptions): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    const at = path ? `${path}.${key}` : key;
    out.push(...commentLines(opts.comments?.[at], pad));
    const k = scalarString(key);
    const s = scalar(value);
    if (s !== undefined) out.push(`${pad}${k}: ${s}`);
    else if (Array.isArray(value)) out.push(`${pad}${k}:`, ...sequence(value, indent + 2, opts));
    else out.push(`${pad}${k}:`, ...mapping(value as YamlMap, indent + 2, at, opts));
  }
  return out;
}

/** Items at `indent`: "- scalar", or a nested block whose first line carries the dash. */
function sequence(items: readonly YamlValue[], indent: number, opts: YamlOptions): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const item of items) {
    const s = scalar(item);
    if (s !== undefined) {
      out.push(`${pad}- ${s}`);
      continue;
    }
    // Comments are keyed by mapping paths only; inside list items there are none.
    const inner = Array.isArray(item) ? sequence(item, indent + 2, {}) : mapping(item as YamlMap, indent + 2, '', {});
    out.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
  }
  return out;
}

/** The document for a top-level mapping, ending with a newline. */
export function toYaml(root: YamlMap, opts: YamlOptions = {}): string {
  const lines = [...commentLines(opts.header, ''), ...mapping(root, 0, '', opts)];
  return lines.join('\n') + '\n';
}
