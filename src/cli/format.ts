/**
 * Output formatting in the style of Vault's CLI: columns separated by four
 * spaces after the widest cell, a dashed underline under each header word,
 * empty cells shown as `n/a`, values rendered the way Go's fmt prints them.
 */

export type OutputFormat = 'table' | 'json';

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

/** Parses the -format flag / TRESOR_FORMAT value; anything else is a usage mistake. */
export function parseFormat(raw: string | undefined): OutputFormat | undefined {
  if (raw === undefined || raw === '') return undefined;
  const lower = raw.toLowerCase();
  if (lower === 'table' || lower === 'json') return lower;
  return undefined;
}
