/**
 * Readers for request fields, shared by sys routes, the token store, the
 * quorum operations and the engines. Values arrive as the client sent them:
 * JSON bodies carry numbers, booleans and arrays, query parameters and CLI
 * `key=value` pairs carry strings, so each reader accepts both spellings
 * (as Vault's framework does). Every rejection is a 400 naming the field,
 * never echoing the value (it may be secret).
 */
import {
  DurationError, MAX_DURATION_SECONDS, MAX_DURATION_TEXT, parseDuration, sumDurationTerms, type DurationProblem, type DurationUnit,
} from '../config/duration.ts';
import { badRequest, TresorError } from './errors.ts';

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the client left the field out (query parameters send "" for `?x=`). */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A string, or undefined when absent (undefined or null; "" is kept). */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  return value;
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
  throw badRequest(`${field} must be a boolean`);
}

/** A non-negative safe integer: `3` or `"3"`. */
export function parseNonNegativeInt(value: unknown, field: string): number {
  const parsed =
    typeof value === 'number' ? value :
    typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) :
    NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw badRequest(`${field} must be a non-negative integer`);
  return parsed;
}

/** Like parseNonNegativeInt, but undefined when the field is absent. */
export function optionalNonNegativeInt(value: unknown, field: string): number | undefined {
  return isAbsent(value) ? undefined : parseNonNegativeInt(value, field);
}

/**
 * A JSON array of strings, taken as given (no splitting or trimming);
 * undefined when absent. `itemsAre` names the items in the 400.
 */
export function optionalStringArray(value: unknown, field: string, itemsAre = 'strings'): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw badRequest(`${field} must be a list of ${itemsAre}`);
  }
  return value;
}

/**
 * A list given as a JSON array of strings or one comma-separated string (as
 * CLIs send it); items are trimmed and empty ones dropped.
 */
export function optionalStringList(value: unknown, field: string, itemsAre = 'strings'): string[] | undefined {
  const items = optionalStringArray(typeof value === 'string' ? value.split(',') : value, field, itemsAre);
  return items?.map((item) => item.trim()).filter((item) => item !== '');
}

/**
 * A flat object of string values (token metadata, mount options). With
 * `coerceScalars`, number and boolean values are taken as their text.
 */
export function optionalStringMap(
  value: unknown,
  field: string,
  { coerceScalars = false } = {},
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw badRequest(`${field} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    const scalar = coerceScalars && (typeof item === 'number' || typeof item === 'boolean');
    if (typeof item !== 'string' && !scalar) throw badRequest(`${field}.${key} must be a string`);
    out[key] = String(item);
  }
  return out;
}

/**
 * A duration field in whole seconds, in the config file's Vault syntax
 * (integer seconds, or "90s", "30m", "1h30m", "1.5h", "7d"); 0 when absent.
 * Negative, non-finite and over-long values (past MAX_DURATION_SECONDS,
 * 100 years) are a 400 naming the field.
 */
export function durationSeconds(value: unknown, field: string): number {
  if (isAbsent(value)) return 0;
  if (typeof value !== 'string' && typeof value !== 'number') throw badDuration(field, 'invalid');
  try {
    return parseDuration(value);
  } catch (err) {
    if (err instanceof DurationError) throw badDuration(field, err.problem);
    throw err;
  }
}

const UNIT_MS: Record<DurationUnit, number> = {
  ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000,
};

/**
 * A duration in whole milliseconds, for fields that keep sub-second
 * precision: a number of seconds (`30`, `"30"`) or a Go duration string
 * (`"1h30m"`, `"1.5s"`, `"2d"`); undefined when absent. Bounded like
 * durationSeconds.
 */
export function optionalDurationMs(value: unknown, field: string): number | undefined {
  if (isAbsent(value)) return undefined;
  let totalMs: number | undefined;
  if (typeof value === 'number') totalMs = Number.isFinite(value) ? value * 1000 : undefined;
  else if (typeof value === 'string') {
    const text = value.trim();
    totalMs = /^\d+$/.test(text) ? Number(text) * 1000 : sumDurationTerms(text, UNIT_MS);
  }
  if (totalMs === undefined || Number.isNaN(totalMs) || totalMs < 0) throw badDuration(field, 'invalid');
  if (totalMs > MAX_DURATION_SECONDS * 1000) throw badDuration(field, 'too long');
  return Math.round(totalMs);
}

/** The 400 for a refused duration field; it names the field, never the value. */
function badDuration(field: string, problem: DurationProblem): TresorError {
  return problem === 'too long'
    ? badRequest(`${field} must be at most ${MAX_DURATION_TEXT}`)
    : badRequest(`${field} must be a non-negative duration such as "30s" or "1h"`);
}
