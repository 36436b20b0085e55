/**
 * Schema-side helpers over the HCL tree: find blocks (in HCL or JSON shape)
 * and read typed attributes. Every failure is an HclDecodeError naming the
 * key and carrying its line; attribute values are never quoted in messages.
 */
import type { HclAttribute, HclBody, HclItem, HclValue } from './ast.ts';
import { HclDecodeError } from './errors.ts';
import { TresorError } from '../../core/errors.ts';
import { DurationError, MAX_DURATION_TEXT, parseDuration, parseDurationMs } from '../duration.ts';

/** A block with its labels, whichever syntax it was written in. */
export interface DecodedBlock {
  type: string;
  labels: string[];
  body: HclBody;
  line: number;
  column: number;
}

/**
 * Collects every `type "label"... { }` with exactly `labelCount` labels.
 * Accepts the equivalent nested-object shapes too, as HCL v1 does:
 * `type = { label = { ... } }`, JSON `"type": {"label": {...}}` and
 * JSON lists `"type": [{"label": {...}}]`.
 */
export function collectBlocks(body: HclBody, type: string, labelCount: number): DecodedBlock[] {
  const found: DecodedBlock[] = [];
  for (const item of body.items) {
    if (itemKey(item) === type) peel(item, type, [], labelCount, found);
  }
  return found;
}

function peel(item: HclItem, type: string, labels: string[], labelCount: number, out: DecodedBlock[]): void {
  if (item.kind === 'block') {
    const all = [...labels, ...item.labels.map((l) => l.value)];
    if (all.length > labelCount) {
      throw new HclDecodeError(`${describeBlock(type, all)} has too many labels (expected ${labelCount})`, item.line, item.column);
    }
    peelBody(item.body, item, type, all, labelCount, out);
    return;
  }
  peelValue(item.value, item, type, labels, labelCount, out);
}

function peelValue(value: HclValue, at: HclItem, type: string, labels: string[], labelCount: number, out: DecodedBlock[]): void {
  if (value.kind === 'object') {
    peelBody(value.body, at, type, labels, labelCount, out);
  } else if (value.kind === 'list' && value.items.length > 0) {
    for (const element of value.items) peelValue(element, at, type, labels, labelCount, out);
  } else {
    throw new HclDecodeError(`${describeBlock(type, labels)} must be a block`, value.line, value.column);
  }
}

function peelBody(body: HclBody, at: HclItem, type: string, labels: string[], labelCount: number, out: DecodedBlock[]): void {
  if (labels.length === labelCount) {
    out.push({ type, labels, body, line: at.line, column: at.column });
    return;
  }
  if (body.items.length === 0) {
    throw new HclDecodeError(`${describeBlock(type, labels)} needs ${labelCount} label(s)`, at.line, at.column);
  }
  for (const child of body.items) peel(child, type, [...labels, itemKey(child)], labelCount, out);
}

/** `listener "tcp"` — how a block is named in messages. */
export function describeBlock(type: string, labels: string[]): string {
  return [type, ...labels.map((l) => JSON.stringify(l))].join(' ');
}

export function itemKey(item: HclItem): string {
  return item.kind === 'block' ? item.type : item.key;
}

const TRUE_WORDS = new Set(['true', 'True', 'TRUE', 't', 'T', '1']);
const FALSE_WORDS = new Set(['false', 'False', 'FALSE', 'f', 'F', '0']);

/** Parses Go-style booleans ("true", "1", "f", ...); undefined when not one. */
export function parseBoolean(text: string): boolean | undefined {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

/**
 * Typed access to one block's attributes. `context` names the block in
 * messages (`listener "tcp"`); it is empty for the top level.
 */
export class BodyReader {
  private readonly attributes = new Map<string, HclAttribute>();

  constructor(
    readonly body: HclBody,
    readonly context: string,
    private readonly at: { line: number; column: number } = body,
  ) {
    for (const item of body.items) {
      if (item.kind !== 'attribute') continue;
      if (this.attributes.has(item.key)) throw this.error(`duplicate key "${item.key}"${this.where()}`, item);
      this.attributes.set(item.key, item);
    }
  }

  private where(): string {
    return this.context ? ` in ${this.context}` : '';
  }

  error(message: string, at: { line: number; column: number } = this.at): HclDecodeError {
    return new HclDecodeError(message, at.line, at.column);
  }

  /** Rejects attributes and blocks not listed in `allowed`. */
  allowOnly(allowed: Iterable<string>, noun = 'key'): void {
    const set = new Set(allowed);
    for (const item of this.body.items) {
      const key = itemKey(item);
      if (!set.has(key)) throw this.error(`unknown ${noun} "${key}"${this.where()}`, item);
    }
  }

  has(key: string): boolean {
    return this.attributes.has(key);
  }

  attribute(key: string): HclAttribute | undefined {
    return this.attributes.get(key);
  }

  /** Throws `<context>: missing required key "<key>"` when absent. */
  require<T>(key: string, value: T | undefined): T {
    if (value === undefined) {
      const prefix = this.context ? `${this.context}: ` : '';
      throw this.error(`${prefix}missing required key "${key}"`);
    }
    return value;
  }

  /** A string; numbers are accepted in their source spelling (`slot = 0`). */
  string(key: string): string | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    if (v.kind === 'string') return v.value;
    if (v.kind === 'number') return v.raw;
    throw this.error(`key "${key}" must be a string`, attr);
  }

  /** Any scalar rendered as a string (storage options are a string map). */
  scalar(key: string): string | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    if (v.kind === 'bool') return String(v.value);
    if (v.kind === 'list' || v.kind === 'object') throw this.error(`key "${key}" must be a single value`, attr);
    return v.kind === 'string' ? v.value : v.raw;
  }

  /** true/false, or a string/number spelling of one ("true", "1", 0). */
  bool(key: string): boolean | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    const parsed = v.kind === 'bool' ? v.value : v.kind === 'string' || v.kind === 'number' ? parseBoolean(v.kind === 'string' ? v.value : v.raw) : undefined;
    if (parsed === undefined) throw this.error(`key "${key}" must be a boolean`, attr);
    return parsed;
  }

  /** A non-negative integer, written as a number or a numeric string. */
  integer(key: string): number | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    const n = v.kind === 'number' ? v.value : v.kind === 'string' && /^\d+$/.test(v.value.trim()) ? Number(v.value) : NaN;
    if (!Number.isSafeInteger(n) || n < 0) throw this.error(`key "${key}" must be a non-negative integer`, attr);
    return n;
  }

  /** Seconds, from a Vault duration ("768h", "90s") or a number of seconds. */
  duration(key: string): number | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    try {
      if (v.kind === 'string' || v.kind === 'number') return parseDuration(v.value);
    } catch (err) {
      if (!(err instanceof TresorError)) throw err;
      if (err instanceof DurationError && err.problem === 'too long') throw this.error(`key "${key}" must be at most ${MAX_DURATION_TEXT}`, attr);
    }
    throw this.error(`key "${key}" must be a duration such as "768h" or a number of seconds`, attr);
  }

  /** Milliseconds, from a Vault duration ("10s", "500ms", "5m") or a number of seconds. */
  durationMs(key: string): number | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    try {
      if (v.kind === 'string' || v.kind === 'number') return parseDurationMs(v.value);
    } catch (err) {
      if (!(err instanceof TresorError)) throw err;
    }
    throw this.error(`key "${key}" must be a duration such as "10s" or a number of seconds`, attr);
  }

  /** A list of strings (a single string is accepted as a one-item list). */
  stringList(key: string): string[] | undefined {
    const attr = this.attributes.get(key);
    if (!attr) return undefined;
    const v = attr.value;
    if (v.kind === 'string') return [v.value];
    if (v.kind === 'list' && v.items.every((i) => i.kind === 'string')) return v.items.map((i) => (i as { value: string }).value);
    throw this.error(`key "${key}" must be a list of strings`, attr);
  }
}
