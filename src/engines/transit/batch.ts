/**
 * Vault's batch convention shared by encrypt, decrypt, rewrap, hmac, sign
 * and verify: a request either carries `batch_input: [{...}, ...]` or is
 * itself the single item. Batch answers are `{batch_results: [...]}` in
 * Vault's shapes: every result carries its `reference` (empty when the item
 * had none), a failed item its `error` beside the fields Vault always
 * writes (decrypt's empty `plaintext`, verify's `valid: false`, sign's
 * `key_version: 0`).
 *
 * Status: for encrypt and decrypt, all items failing is Vault's 400 (the
 * body still holds the results); a partial failure is a 200 unless the
 * caller picks another code with `partial_failure_response_code`. Rewrap,
 * hmac, sign and verify answer 200 whatever their items did, as Vault does.
 *
 * Each item's fields are decoded with the same field schemas as the
 * request's own (decodeField, FieldData's rules), so a wrongly typed item
 * field is that item's error, and the item's work reads typed values through
 * the same `Fields` interface as a single request.
 */
import { badRequest, TresorError } from '../../core/errors.ts';
import { isPlainObject, type JsonObject } from '../../core/request-fields.ts';
import { decodeField, FieldData, type FieldSchema, type FieldSchemas } from '../../framework/index.ts';
import type { LogicalResponse } from '../types.ts';
import type { Fields } from './fields.ts';

export type ItemResult = Record<string, unknown>;

const REFERENCE_FIELD: FieldSchema = {
  type: 'string',
  description: 'A caller-chosen value echoed in the item\'s result, to match results to inputs.',
};

/**
 * The fields of a batch item: some of the path's own declarations, decoded
 * by FieldData's rules. Built once per path; decoding an item looks only at
 * the keys the item has (usually one or two), not at every declared field.
 */
export class ItemSchema {
  /** What `get` answers for a field the item leaves out: its default, else its type's zero value. */
  readonly absent: Readonly<Record<string, unknown>>;

  constructor(readonly schema: FieldSchemas) {
    const none = new FieldData(schema, {});
    this.absent = Object.fromEntries(Object.keys(schema).map((name) => [name, none.get(name)]));
  }

  decode(raw: JsonObject): Fields {
    const values = new Map<string, unknown>();
    for (const key of Object.keys(raw)) {
      if (!Object.hasOwn(this.schema, key)) continue;
      const fieldSchema = this.schema[key];
      const value = raw[key];
      // FieldData's rule: null is "not given", and so is "" for every type but the string ones.
      if (value === undefined || value === null || (value === '' && fieldSchema.type !== 'string' && fieldSchema.type !== 'lowercase-string')) continue;
      values.set(key, decodeField(fieldSchema, key, value));
    }
    return new ItemFields(this, values);
  }
}

/** One decoded batch item, read like FieldData (an undeclared name is a programming error). */
class ItemFields implements Fields {
  constructor(private readonly itemSchema: ItemSchema, private readonly values: Map<string, unknown>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  getOk<T = unknown>(name: string): T | undefined {
    this.declared(name);
    return this.values.get(name) as T | undefined;
  }

  get<T = unknown>(name: string): T {
    this.declared(name);
    return (this.values.has(name) ? this.values.get(name) : this.itemSchema.absent[name]) as T;
  }

  private declared(name: string): void {
    if (!Object.hasOwn(this.itemSchema.schema, name)) throw new Error(`field "${name}" is not in the batch item's schema`);
  }
}

/** A batch item's schema: the named fields of the path's own declarations (their defaults must be primitives). */
export function itemFields(fields: FieldSchemas, names: readonly string[]): ItemSchema {
  return new ItemSchema(Object.fromEntries(names.map((name) => [name, fields[name]])));
}

/** Go's name for a JSON value's type, as Vault's batch decoding errors print it. */
function goType(value: unknown): string {
  if (Array.isArray(value)) return '[]interface {}';
  if (value === null) return '<nil>';
  switch (typeof value) {
    case 'string': return 'string';
    case 'number': return 'json.Number';
    case 'boolean': return 'bool';
    default: return 'map[string]interface {}';
  }
}

/**
 * The raw batch items, or undefined for a single-item request. A bad list is
 * refused with Vault's texts before any work.
 */
export function batchItems(fields: FieldData): JsonObject[] | undefined {
  if (!fields.has('batch_input')) return undefined;
  // The slice type lifts a lone value into a list; Vault's batch decoding wants a real list.
  const raw = fields.raw.batch_input;
  if (!Array.isArray(raw)) throw badRequest(`failed to parse batch input: source data must be an array or slice, got ${goType(raw)}`);
  if (raw.length === 0) throw badRequest('missing batch input to process');
  raw.forEach((item, i) => {
    if (!isPlainObject(item)) throw badRequest(`failed to parse batch input: [${i}] expected a map, got '${goType(item)}'`);
  });
  return raw as JsonObject[];
}

/** An item's reference ('' when it has none). */
function referenceOf(item: JsonObject): string {
  const raw = item.reference;
  if (raw === undefined || raw === null || raw === '') return '';
  return decodeField(REFERENCE_FIELD, 'reference', raw) as string;
}

export interface BatchShape {
  /** Fields Vault writes into a failed item's result besides `error`. */
  failed: ItemResult;
  /** encrypt/decrypt: all items failing is a 400, partial failure 200 or partial_failure_response_code. */
  statusFromFailures: boolean;
}

export const ENCRYPT_SHAPE: BatchShape = { failed: {}, statusFromFailures: true };
export const DECRYPT_SHAPE: BatchShape = { failed: { plaintext: '' }, statusFromFailures: true };
export const REWRAP_SHAPE: BatchShape = { failed: {}, statusFromFailures: false };
export const HMAC_SHAPE: BatchShape = { failed: {}, statusFromFailures: false };
export const VERIFY_SHAPE: BatchShape = { failed: { valid: false }, statusFromFailures: false };
export const SIGN_SHAPE: BatchShape = { failed: { key_version: 0 }, statusFromFailures: false };

/**
 * Answers a single-item request with `work(fields, 0)` (its errors thrown
 * as they are), or a batch with one result per item, `work(item, index)`
 * where each item is decoded against `itemSchema`. Every item carries its
 * own fields (plaintext, ciphertext, associated_data, ...): nothing is taken
 * from the envelope. Client errors (4xx) become the item's `error`;
 * anything else fails the whole request.
 */
export function respond(
  fields: FieldData,
  items: JsonObject[] | undefined,
  itemSchema: ItemSchema,
  shape: BatchShape,
  work: (item: Fields, index: number) => ItemResult,
): LogicalResponse {
  if (items === undefined) return { data: work(fields, 0) };
  let failures = 0;
  const results = new Array<ItemResult>(items.length);
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    let reference = '';
    try {
      reference = referenceOf(item);
      const result = work(itemSchema.decode(item), index);
      result.reference = reference;
      results[index] = result;
    } catch (err) {
      if (!(err instanceof TresorError) || err.status >= 500) throw err;
      failures += 1;
      results[index] = { ...shape.failed, error: err.message, reference };
    }
  }
  const response: LogicalResponse = { data: { batch_results: results } };
  if (!shape.statusFromFailures || failures === 0) return response;
  if (failures === items.length) {
    response.status = 400;
    return response;
  }
  const code = Object.hasOwn(fields.schema, 'partial_failure_response_code') ? fields.getOk<number>('partial_failure_response_code') : undefined;
  if (code !== undefined && code !== 0) {
    if (code < 200 || code > 599) {
      response.warnings = ['invalid HTTP response code override from partial_failure_response_code, reverting to 200'];
    } else {
      response.status = code;
    }
  }
  return response;
}
