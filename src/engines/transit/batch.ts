/**
 * Vault's batch convention shared by encrypt, decrypt, rewrap, hmac and
 * verify: a request either carries `batch_input: [{...}, ...]` or is itself
 * the single item. Batch answers are `{batch_results: [...]}`, with a failed
 * item reported as `{error}` in its slot (plus its `reference`, echoed like
 * every item's). All items failing is a 400; a partial failure is a 200
 * unless the caller asks for another code with `partial_failure_response_code`.
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

/**
 * The raw batch items, or undefined for a single-item request. Also checks
 * `partial_failure_response_code` when the path takes it, so a bad envelope
 * fails before any work.
 */
export function batchItems(fields: FieldData): JsonObject[] | undefined {
  partialFailureStatus(fields);
  if (!fields.has('batch_input')) return undefined;
  // The slice type lifts a lone value into a list; Vault's batch decoding wants a real list.
  const raw = fields.raw.batch_input;
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest('"batch_input" must be a non-empty array of objects');
  if (!raw.every(isPlainObject)) throw badRequest('every "batch_input" item must be an object');
  return raw;
}

/**
 * The status for a partly failed batch: 200 unless the caller picked another
 * (0 = default) on a path that takes `partial_failure_response_code`.
 */
function partialFailureStatus(fields: FieldData): number {
  if (!Object.hasOwn(fields.schema, 'partial_failure_response_code')) return 200;
  const code = fields.getOk<number>('partial_failure_response_code') ?? 0;
  if (code !== 0 && (code < 200 || code > 599)) throw badRequest('"partial_failure_response_code" must be an HTTP status code');
  return code === 0 ? 200 : code;
}

/** An item's reference as a result field: empty when the item has none. */
function referenceOf(item: JsonObject): { reference?: string } {
  const raw = item.reference;
  if (raw === undefined || raw === null || raw === '') return {};
  return { reference: decodeField(REFERENCE_FIELD, 'reference', raw) as string };
}

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
  work: (item: Fields, index: number) => ItemResult,
): LogicalResponse {
  if (items === undefined) return { data: work(fields, 0) };
  let failures = 0;
  const results = items.map((item, index) => {
    let reference: { reference?: string } = {};
    try {
      reference = referenceOf(item);
      return { ...work(itemSchema.decode(item), index), ...reference };
    } catch (err) {
      if (!(err instanceof TresorError) || err.status >= 500) throw err;
      failures += 1;
      return { error: err.message, ...reference };
    }
  });
  const response: LogicalResponse = { data: { batch_results: results } };
  if (failures === items.length) response.status = 400;
  else if (failures > 0) response.status = partialFailureStatus(fields);
  return response;
}
