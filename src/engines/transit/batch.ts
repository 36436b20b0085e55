/**
 * Vault's batch convention shared by encrypt, decrypt and rewrap: a request
 * either carries `batch_input: [{...}, ...]` or is itself the single item.
 * Batch answers are `{batch_results: [...]}`, with a failed item reported as
 * `{error}` in its slot (plus its `reference`, echoed like every item's).
 * All items failing is a 400; a partial failure is a 200 unless the caller
 * asks for another code with `partial_failure_response_code`.
 */
import { badRequest, TresorError } from '../../core/errors.ts';
import type { LogicalResponse } from '../types.ts';
import { isAbsent, isPlainObject, optionalNonNegativeInt, type JsonObject } from '../../core/request-fields.ts';

export type ItemResult = Record<string, unknown>;

/**
 * The batch items, or undefined for a single-item request. Also checks
 * `partial_failure_response_code`, so a bad envelope fails before any work.
 */
export function batchInput(data: JsonObject): JsonObject[] | undefined {
  partialFailureStatus(data);
  const raw = data.batch_input;
  if (isAbsent(raw)) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest('"batch_input" must be a non-empty array of objects');
  if (!raw.every(isPlainObject)) throw badRequest('every "batch_input" item must be an object');
  return raw;
}

/** The status for a partly failed batch: 200 unless the caller picked another (0 = default). */
function partialFailureStatus(data: JsonObject): number {
  const code = optionalNonNegativeInt(data.partial_failure_response_code, 'partial_failure_response_code') ?? 0;
  if (code !== 0 && (code < 200 || code > 599)) throw badRequest('"partial_failure_response_code" must be an HTTP status code');
  return code === 0 ? 200 : code;
}

/**
 * Answers a single-item request with `work(data, 0)` (its errors thrown as
 * they are), or a batch with one result per item, `work(item, index)`.
 * Every item carries its own fields (plaintext, ciphertext,
 * associated_data, ...): nothing is taken from the envelope. Client errors
 * (4xx) become the item's `error`; anything else fails the whole request.
 */
export function respond(data: JsonObject, work: (item: JsonObject, index: number) => ItemResult): LogicalResponse {
  const items = batchInput(data);
  if (items === undefined) return { data: work(data, 0) };
  let failures = 0;
  const results = items.map((item, index) => {
    const reference = isAbsent(item.reference) ? {} : { reference: item.reference };
    try {
      return { ...work(item, index), ...reference };
    } catch (err) {
      if (!(err instanceof TresorError) || err.status >= 500) throw err;
      failures += 1;
      return { error: err.message, ...reference };
    }
  });
  const response: LogicalResponse = { data: { batch_results: results } };
  if (failures === items.length) response.status = 400;
  else if (failures > 0) response.status = partialFailureStatus(data);
  return response;
}
