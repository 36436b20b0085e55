/**
 * Vault's batch convention shared by encrypt, decrypt, rewrap, hmac and
 * verify: a request either carries `batch_input: [{...}, ...]` or is itself
 * the single item. Batch answers are `{batch_results: [...]}`, with a failed
 * item reported as `{error}` in its slot (plus its `reference`, echoed like
 * every item's). All items failing is a 400; a partial failure is a 200
 * unless the caller asks for another code with `partial_failure_response_code`.
 *
 * Each item's fields are decoded with the same field schemas as the
 * request's own (FieldData), so a wrongly typed item field is that item's
 * error, and the item's work reads typed values just as a single request does.
 */
import { badRequest, TresorError } from '../../core/errors.ts';
import { isPlainObject, type JsonObject } from '../../core/request-fields.ts';
import { decodeField, FieldData, type FieldSchema, type FieldSchemas } from '../../framework/index.ts';
import type { LogicalResponse } from '../types.ts';

export type ItemResult = Record<string, unknown>;

const REFERENCE_FIELD: FieldSchema = {
  type: 'string',
  description: 'A caller-chosen value echoed in the item\'s result, to match results to inputs.',
};

/** The schemas of a batch item: the named fields of the path's own declarations. */
export function itemFields(fields: FieldSchemas, names: readonly string[]): FieldSchemas {
  return Object.fromEntries(names.map((name) => [name, fields[name]]));
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
 * as they are), or a batch with one result per item, `work(itemFields, index)`
 * where each item is decoded against `itemSchema`. Every item carries its
 * own fields (plaintext, ciphertext, associated_data, ...): nothing is taken
 * from the envelope. Client errors (4xx) become the item's `error`;
 * anything else fails the whole request.
 */
export function respond(
  fields: FieldData,
  items: JsonObject[] | undefined,
  itemSchema: FieldSchemas,
  work: (item: FieldData, index: number) => ItemResult,
): LogicalResponse {
  if (items === undefined) return { data: work(fields, 0) };
  let failures = 0;
  const results = items.map((item, index) => {
    let reference: { reference?: string } = {};
    try {
      reference = referenceOf(item);
      return { ...work(new FieldData(itemSchema, item), index), ...reference };
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
