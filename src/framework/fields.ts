/**
 * Field schemas and their decoding, done once for every route by the
 * framework. Values arrive as the client sent them: JSON bodies carry
 * numbers, booleans, arrays and objects; query strings and CLI `k=v` pairs
 * carry strings. Each type accepts what Vault's weak decoding accepts for
 * it. A refusal is a 400 naming the field and never echoing the value.
 */
import { badRequest } from '../core/errors.ts';
import {
  durationSeconds, isPlainObject, optionalBool, optionalStringArray, optionalStringList, optionalStringMap,
} from '../core/request-fields.ts';

/** Vault's field types (framework.FieldType), by their Go names. */
export type FieldType =
  | 'string'
  | 'lowercase-string'
  | 'name-string'
  | 'int'
  | 'float'
  | 'bool'
  | 'duration'
  | 'signed-duration'
  | 'comma-string-slice'
  | 'comma-int-slice'
  | 'string-slice'
  | 'slice'
  | 'map'
  | 'kv-pairs'
  | 'header';

export interface FieldSchema {
  type: FieldType;
  description: string;
  /** Returned by `get` when the client left the field out. */
  default?: unknown;
  /** A missing required field is a 400; a string replaces the default message. */
  required?: boolean | string;
  /** Secret input (keys, tokens, plaintext): hidden from help examples, HMACed by audit. */
  sensitive?: boolean;
  /** For string types: the only values accepted (after lower-casing for lowercase-string). */
  allowedValues?: readonly string[];
}

export type FieldSchemas = Record<string, FieldSchema>;

/** Vault's name rule (framework.GenericNameRegex): word characters, with "-" and "." inside. */
const NAME = /^\w(?:[\w.-]*\w)?$/;

const invalid = (field: string, what: string) => badRequest(`${field} must be ${what}`);

function asString(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  // Weak decoding: numbers and booleans become their text ("1"/"0" for booleans, as Go's mapstructure).
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  throw invalid(field, 'a string');
}

function asInt(value: unknown, field: string): number {
  let n: number = NaN;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^[-+]?\d+$/.test(value.trim())) n = Number(value.trim());
  else if (typeof value === 'boolean') n = value ? 1 : 0;
  if (!Number.isSafeInteger(n)) throw invalid(field, 'an integer');
  return n;
}

function asFloat(value: unknown, field: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw invalid(field, 'a number');
  return n;
}

/** `k=v` strings (an array or one comma-separated string), or an object of strings. */
function asKvPairs(value: unknown, field: string): Record<string, string> {
  if (isPlainObject(value)) return optionalStringMap(value, field, { coerceScalars: true }) ?? {};
  const items = optionalStringList(value, field, '"key=value" strings') ?? [];
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw invalid(field, 'a list of "key=value" strings');
    const key = item.slice(0, eq).trim();
    if (key === '__proto__') continue;
    out[key] = item.slice(eq + 1).trim();
  }
  return out;
}

/** HTTP-style headers: an object of string or string-list values (or that object as JSON text). */
function asHeader(value: unknown, field: string): Record<string, string[]> {
  let obj = value;
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value);
    } catch {
      throw invalid(field, 'an object of header values');
    }
  }
  if (!isPlainObject(obj)) throw invalid(field, 'an object of header values');
  const out: Record<string, string[]> = {};
  for (const [key, item] of Object.entries(obj)) {
    if (key === '__proto__') continue;
    if (typeof item === 'string') out[key] = [item];
    else if (Array.isArray(item) && item.every((v) => typeof v === 'string')) out[key] = item;
    else throw invalid(`${field}.${key}`, 'a string or a list of strings');
  }
  return out;
}

/** Decodes one present (non-absent) value for its schema. */
export function decodeField(schema: FieldSchema, field: string, value: unknown): unknown {
  switch (schema.type) {
    case 'string':
      return checkAllowed(schema, field, asString(value, field));
    case 'lowercase-string':
      return checkAllowed(schema, field, asString(value, field).toLowerCase());
    case 'name-string': {
      const text = asString(value, field);
      if (!NAME.test(text)) throw invalid(field, 'a name of letters, digits, "_", "-" and "."');
      return text;
    }
    case 'int':
      return asInt(value, field);
    case 'float':
      return asFloat(value, field);
    case 'bool':
      // Go's weak decoding also takes numbers: 0 is false, anything else true.
      if (typeof value === 'number') return value !== 0;
      return optionalBool(value, field);
    case 'duration':
      return durationSeconds(value, field);
    case 'signed-duration': {
      const text = typeof value === 'string' ? value.trim() : value;
      const negative = typeof text === 'number' ? text < 0 : typeof text === 'string' && text.startsWith('-');
      const magnitude = typeof text === 'number' ? Math.abs(text) : typeof text === 'string' ? text.replace(/^[-+]/, '') : text;
      const seconds = durationSeconds(magnitude, field);
      return negative ? -seconds : seconds;
    }
    case 'comma-string-slice':
      return optionalStringList(Array.isArray(value) ? value.map((v) => asString(v, field)) : asString(value, field), field);
    case 'comma-int-slice': {
      const items = Array.isArray(value) ? value : asString(value, field).split(',').map((s) => s.trim()).filter((s) => s !== '');
      return items.map((item) => asInt(item, field));
    }
    case 'string-slice':
      // Weak decoding lifts a single value into a one-item list.
      if (!Array.isArray(value)) return [asString(value, field)];
      return optionalStringArray(value.map((v) => asString(v, field)), field);
    case 'slice':
      return Array.isArray(value) ? value : [value];
    case 'map':
      if (typeof value === 'string') {
        // The CLI and query strings can only send a map as JSON text.
        try {
          const parsed: unknown = JSON.parse(value);
          if (isPlainObject(parsed)) return parsed;
        } catch {
          // falls through to the 400
        }
      }
      if (!isPlainObject(value)) throw invalid(field, 'an object');
      return value;
    case 'kv-pairs':
      return asKvPairs(value, field);
    case 'header':
      return asHeader(value, field);
  }
}

function checkAllowed(schema: FieldSchema, field: string, text: string): string {
  if (schema.allowedValues && !schema.allowedValues.includes(text)) {
    throw invalid(field, `one of ${schema.allowedValues.map((v) => `"${v}"`).join(', ')}`);
  }
  return text;
}

/** The value `get` returns for an absent field without a default (Go's zero value). */
function zeroValue(type: FieldType): unknown {
  switch (type) {
    case 'string':
    case 'lowercase-string':
    case 'name-string':
      return '';
    case 'int':
    case 'float':
    case 'duration':
    case 'signed-duration':
      return 0;
    case 'bool':
      return false;
    case 'comma-string-slice':
    case 'comma-int-slice':
    case 'string-slice':
    case 'slice':
      return [];
    case 'map':
    case 'kv-pairs':
    case 'header':
      return {};
  }
}

/**
 * A request's fields, decoded against the path's schema (path captures
 * included). Built by the framework before any handler runs, so every bad
 * field is refused up front and nothing has been changed when it is.
 */
export class FieldData {
  private readonly values = new Map<string, unknown>();

  /**
   * `captures` (the path's named groups) win over `data` (body over query)
   * for the same name, as in Vault.
   */
  constructor(
    readonly schema: FieldSchemas,
    /** The request's data as sent (body over query), before decoding; captures not included. */
    readonly raw: Record<string, unknown>,
    captures?: Record<string, string>,
  ) {
    // Only the fields the request carries are visited (schemas can be long, requests are short).
    if (captures) for (const name in captures) this.take(name, captures[name]);
    for (const name in raw) if (!(captures && Object.hasOwn(captures, name))) this.take(name, raw[name]);
    for (const [name, required] of requiredFields(schema)) {
      if (!this.values.has(name)) throw badRequest(typeof required === 'string' ? required : `missing required field "${name}"`);
    }
  }

  private take(name: string, value: unknown): void {
    if (!Object.hasOwn(this.schema, name)) return;
    const fieldSchema = this.schema[name];
    // Vault takes JSON null as "not given"; an empty query value ("?x=") too, except for strings.
    if (value === undefined || value === null || (value === '' && !isStringType(fieldSchema.type))) return;
    this.values.set(name, decodeField(fieldSchema, name, value));
  }

  /** Whether the client gave the field. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The decoded value, else the schema's default, else the type's zero value. */
  get<T = unknown>(name: string): T {
    if (this.values.has(name)) return this.values.get(name) as T;
    const fieldSchema = this.schema[name];
    if (!fieldSchema) throw new Error(`field "${name}" is not in the path's schema`);
    const fallback = fieldSchema.default !== undefined ? fieldSchema.default : zeroValue(fieldSchema.type);
    // Object defaults are copied so a handler cannot change the schema's.
    return (typeof fallback === 'object' && fallback !== null ? structuredClone(fallback) : fallback) as T;
  }

  /** The decoded value when the client gave the field, else undefined (no default). */
  getOk<T = unknown>(name: string): T | undefined {
    if (!(name in this.schema)) throw new Error(`field "${name}" is not in the path's schema`);
    return this.values.get(name) as T | undefined;
  }

  /** The decoded values of the fields the client gave (for core operations that take a request object). */
  given(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }

  /** The names of the fields the client gave that the schema does not know, sorted. */
  static unknownFields(schema: FieldSchemas, data: Record<string, unknown>): string[] {
    let unknown: string[] | undefined;
    for (const k in data) if (!Object.hasOwn(schema, k)) (unknown ??= []).push(k);
    return unknown ? unknown.sort() : NONE;
  }
}

const NONE: string[] = [];

const REQUIRED = new WeakMap<FieldSchemas, [string, true | string][]>();

/** A schema's required fields (with their custom messages), computed once per schema. */
function requiredFields(schema: FieldSchemas): [string, true | string][] {
  let list = REQUIRED.get(schema);
  if (!list) {
    list = Object.entries(schema).filter(([, f]) => f.required).map(([name, f]) => [name, f.required as true | string]);
    REQUIRED.set(schema, list);
  }
  return list;
}

function isStringType(type: FieldType): boolean {
  return type === 'string' || type === 'lowercase-string';
}
