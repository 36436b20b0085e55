/**
 * Output formatting in the style of Vault's CLI: columns separated by four
 * spaces after the widest cell, a dashed underline under each header word,
 * empty cells shown as `n/a`, values rendered the way Go's fmt prints them.
 */

export type OutputFormat = 'table' | 'json' | 'yaml';

const COLUMN_GAP = '    ';
const EMPTY_CELL = 'n/a';

/** Renders rows as aligned columns; when `header` is given it is underlined with dashes. */
export function formatColumns(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, header.map((h) => '-'.repeat(h.length)), ...rows] : [...rows];
  if (all.length === 0) return '';
  const columns = Math.max(...all.map((r) => r.length));
  const cells = all.map((r) => Array.from({ length: columns }, (_, i) => (r[i] === undefined || r[i] === '' ? EMPTY_CELL : r[i]!)));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) => r.map((cell, i) => (i === columns - 1 ? cell : cell.padEnd(widths[i]! + COLUMN_GAP.length))).join(''))
    .join('\n');
}

/** The Key/Value table Vault prints for secrets and status objects. */
export function formatKeyValue(rows: readonly (readonly [string, unknown])[], withHeader = true): string {
  return formatColumns(
    rows.map(([k, v]) => [k, formatValue(v)]),
    withHeader ? ['Key', 'Value'] : undefined,
  );
}

/**
 * Renders one value as Go's `%v` would: arrays as `[a b]`, objects as
 * `map[k:v]` with sorted keys, null as `<nil>`.
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(formatValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${k}:${formatValue((value as Record<string, unknown>)[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

/** JSON output as Vault prints it: two-space indent, trailing newline added by the caller. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value ?? null, null, 2);
}

/**
 * A section title centred in `=` signs, as Vault sizes it: `width` minus the
 * title and its two spaces, rounded up to even, at least four in total
 * (`====== Data ======`).
 */
export function sectionHeader(title: string, width: number): string {
  let signs = width - (title.length + 2);
  if (signs <= 0) signs = 4;
  if (signs % 2 !== 0) signs += 1;
  const side = '='.repeat(signs / 2);
  return `${side} ${title} ${side}`;
}

/** The width Vault sizes a table's section header to: longest key, the column gap, and "Value". */
export function keyValueHeaderWidth(keys: readonly string[]): number {
  return Math.max(0, ...keys.map((k) => k.length)) + COLUMN_GAP.length + 'Value'.length;
}

/**
 * Seconds as Vault's humanDuration prints them: Go duration syntax with
 * zero minute/second tails dropped (`768h`, `1h30m`, `45s`).
 */
export function humanDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds <= 0) return '0s';
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.floor(totalSeconds % 60);
  let out = '';
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  out += `${seconds}s`;
  out = out.replace(/m0s$/, 'm').replace(/h0m/, 'h');
  return out;
}

/** Parses the -format flag / TRESOR_FORMAT value (`yml` is Vault's alias of `yaml`); anything else is a usage mistake. */
export function parseFormat(raw: string | undefined): OutputFormat | undefined {
  if (raw === undefined || raw === '') return undefined;
  const lower = raw.toLowerCase();
  if (lower === 'table' || lower === 'json' || lower === 'yaml') return lower;
  if (lower === 'yml') return 'yaml';
  return undefined;
}

/**
 * Vault's key names that hold a duration in seconds; its tables show their
 * numeric values as durations (`ttl    59m57s`).
 */
export function looksLikeDuration(key: string): boolean {
  return (
    key === 'period' || key.endsWith('_period') || key === 'ttl' || key.endsWith('_ttl') ||
    key === 'duration' || key.endsWith('_duration') || key === 'lease_max' || key === 'ttl_max'
  );
}

/** A table cell for `key`: whole-second numbers under a duration-like key as Vault shows them. */
export function tableCell(key: string, value: unknown): unknown {
  return looksLikeDuration(key) && typeof value === 'number' && Number.isInteger(value) ? humanDuration(value) : value;
}

/** Plain YAML scalars that would read back as something other than the string. */
const YAML_RESERVED = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)$/;
const YAML_NUMBER = /^[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|\d+(?::[0-5]?\d)+(?:\.\d*)?)$/;

/** A string as a YAML scalar: plain when that reads back as the same string, else double-quoted. */
function yamlString(s: string): string {
  const plainSafe =
    s !== '' &&
    !YAML_RESERVED.test(s) &&
    !YAML_NUMBER.test(s) &&
    !/^[\s\-?:,\[\]{}#&*!|>'"%@`]/.test(s) &&
    !/[\s]$/.test(s) &&
    !/: |:$| #|[\x00-\x1f\x7f\u0085\u2028\u2029\ufeff]/.test(s);
  if (plainSafe) return s;
  // A JSON string is a valid YAML double-quoted scalar.
  return JSON.stringify(s);
}

function yamlScalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return yamlString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '.nan';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (typeof value === 'object' && Object.keys(value as object).length === 0) return '{}';
  return undefined;
}

function yamlLines(value: unknown, indent: string): string[] {
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const scalar = yamlScalar(item);
      if (scalar !== undefined) {
        lines.push(`${indent}- ${scalar}`);
        continue;
      }
      // The first line of a nested block goes after the dash, the rest under it.
      const inner = yamlLines(item, `${indent}  `);
      lines.push(`${indent}- ${inner[0]!.slice(indent.length + 2)}`, ...inner.slice(1));
    }
    return lines;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    const k = yamlString(key);
    const scalar = yamlScalar(v);
    if (scalar !== undefined) lines.push(`${indent}${k}: ${scalar}`);
    // Sequences sit at their key's indentation, mappings one step in, as Go's yaml package writes them.
    else if (Array.isArray(v)) lines.push(`${indent}${k}:`, ...yamlLines(v, indent));
    else lines.push(`${indent}${k}:`, ...yamlLines(v, `${indent}  `));
  }
  return lines;
}

/**
 * YAML as Vault's -format=yaml prints it (JSON turned into YAML, keys
 * sorted, sequences not indented under their key), without a trailing newline.
 */
export function formatYaml(value: unknown): string {
  const normalised: unknown = JSON.parse(JSON.stringify(value ?? null));
  const scalar = yamlScalar(normalised);
  if (scalar !== undefined) return scalar;
  return yamlLines(normalised, '').join('\n');
}
