/**
 * Parsing of request fields. Values arrive as the client sent them: JSON
 * bodies carry numbers and booleans, query parameters carry strings, so each
 * parser accepts both spellings. Every rejection is a 400 naming the field,
 * never echoing the value (it may be secret).
 */
import { badRequest } from '../../core/errors.ts';

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the client left the field out (query parameters send "" for `?x=`). */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A non-negative safe integer: `3` or `"3"`. */
export function parseNonNegativeInt(value: unknown, field: string): number {
  const parsed =
    typeof value === 'number' ? value :
    typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) :
    NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 0) {
    throw badRequest(`"${field}" must be a non-negative integer`);
  }
  return parsed;
}

/** Like parseNonNegativeInt, but undefined when the field is absent. */
export function optionalNonNegativeInt(value: unknown, field: string): number | undefined {
  return isAbsent(value) ? undefined : parseNonNegativeInt(value, field);
}

const TRUE_WORDS = new Set(['1', 't', 'true']);
const FALSE_WORDS = new Set(['0', 'f', 'false']);

/** A boolean: `true`, or the strings Go's strconv.ParseBool accepts ("true", "1", "f", ...). */
export function optionalBool(value: unknown, field: string): boolean | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  throw badRequest(`"${field}" must be a boolean`);
}

const DURATION_UNIT_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000,
};
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y;

/**
 * A duration as Vault accepts it: a number of seconds (`30`, `"30"`) or a Go
 * duration string (`"1h30m"`, `"1.5s"`, `"2d"`). Returns whole milliseconds.
 */
export function optionalDurationMs(value: unknown, field: string): number | undefined {
  if (isAbsent(value)) return undefined;
  const invalid = () => badRequest(`"${field}" must be a non-negative duration such as "30s" or "1h"`);
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw invalid();
    return Math.round(value * 1000);
  }
  if (typeof value !== 'string') throw invalid();
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  let totalMs = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const start = DURATION_PART.lastIndex;
    const match = DURATION_PART.exec(text);
    if (match === null || match.index !== start) throw invalid();
    totalMs += Number(match[1]) * DURATION_UNIT_MS[match[2]];
  }
  if (text.length === 0 || !Number.isSafeInteger(Math.round(totalMs))) throw invalid();
  return Math.round(totalMs);
}

/**
 * Formats milliseconds the way Go's time.Duration prints (Vault's wire form):
 * "0s", "500ms", "1.5s", "1m30s", "1h0m0s".
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  return (hours > 0 ? `${hours}h` : '') + (hours > 0 || minutes > 0 ? `${minutes}m` : '') + `${seconds}s`;
}

/**
 * RFC 3339 UTC with nine fractional digits, like Vault's timestamps
 * ("2018-03-22T02:24:06.945000000Z"); Node's clock has millisecond precision.
 */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * A secret's path inside the mount: not empty, no leading or trailing "/",
 * no empty segments (which would make the storage layout ambiguous).
 */
export function isValidSecretPath(path: string): boolean {
  return path.length > 0 && !path.split('/').includes('');
}

export function requireSecretPath(path: string): void {
  if (!isValidSecretPath(path)) throw badRequest('invalid secret path: it must be non-empty and must not start or end with "/" or contain "//"');
}

/** The folder a list operation names: "" for the root, otherwise ending in "/". */
export function listPrefix(path: string): string {
  if (path === '' || path.endsWith('/')) return path;
  return `${path}/`;
}
