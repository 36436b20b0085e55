/**
 * Transit's shared field declarations and the checks their types cannot
 * express. The framework decodes every declared field before a handler
 * runs; what is left here are base64 payloads, ranges and refusals.
 * Rejections are 400s naming the field, never echoing its value
 * (plaintext and ciphertext are secret).
 */
import { badRequest } from '../../core/errors.ts';
import type { FieldData, FieldSchema } from '../../framework/index.ts';

/** How handlers read decoded fields: the request's FieldData, or one batch item's (batch.ts). */
export type Fields = Pick<FieldData, 'get' | 'getOk' | 'has'>;

// Go's base64.StdEncoding: standard alphabet, padding required.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `text` is standard, padded base64. */
export function isStrictBase64(text: string): boolean {
  return STRICT_BASE64.test(text);
}

// ---- field declarations shared by several paths (Vault's names and types) ----

export const keyNameField = (description = 'Name of the key.'): FieldSchema => ({ type: 'string', description });

export const KEY_VERSION_FIELD: FieldSchema = {
  type: 'int',
  description: 'The key version to use: 0 (the default) for the latest, else at least the key\'s minimum encryption version.',
};

export const CONTEXT_FIELD: FieldSchema = {
  type: 'string',
  description: 'Base64 context for key derivation. Tresor keys are never derived, so a non-empty context is refused.',
};

export const NONCE_FIELD: FieldSchema = {
  type: 'string',
  description: 'Base64 nonce, used by Vault only for convergent encryption (version 1). Tresor keys are never convergent.',
};

export const ASSOCIATED_DATA_FIELD: FieldSchema = {
  type: 'string',
  description: 'Base64 associated data bound into the AEAD tag: decryption needs the same bytes again.',
};

export const PARTIAL_FAILURE_FIELD: FieldSchema = {
  type: 'int',
  description: 'The HTTP status for a batch where some items failed and some succeeded (default 200). All items failing is always a 400.',
};

export const batchInputField = (itemFields: string): FieldSchema => ({
  type: 'slice',
  description: `A list of items to process in one request, each an object with ${itemFields} and an optional "reference" echoed in its result. Results keep the order of the items.`,
});

export const urlAlgorithmField = (what: string): FieldSchema => ({
  type: 'string',
  description: `The hash algorithm for the ${what}, given in the path; it wins over the body's.`,
});

export const formatField = (fallback: 'base64' | 'hex'): FieldSchema => ({
  type: 'string',
  default: fallback,
  description: `Encoding of the answer: "hex" or "base64" (default "${fallback}").`,
});

// ---- checks the field types cannot express ----

/** A base64 field's bytes; `missingMessage` when the field was not given. */
export function requireBase64(fields: Fields, field: string, missingMessage: string): Buffer {
  const value = fields.getOk<string>(field);
  if (value === undefined) throw badRequest(missingMessage);
  if (!isStrictBase64(value)) throw badRequest(`failed to base64-decode ${field}`);
  return Buffer.from(value, 'base64');
}

/** An int field that must not be negative; undefined when not given. */
export function optionalNonNegative(fields: Fields, field: string): number | undefined {
  const value = fields.getOk<number>(field);
  if (value !== undefined && value < 0) throw badRequest(`${field} must be a non-negative integer`);
  return value;
}

/**
 * Transit keys here are never derived, so a `context` has nothing to feed
 * into; refusing it tells the caller their ciphertexts would not be bound to it.
 */
export function refuseContext(fields: Fields): void {
  if (fields.get<string>('context') !== '') throw badRequest('context is only allowed with derived keys, and this key is not derived');
}

/**
 * `associated_data` (base64, as Vault takes it): the bytes, or undefined
 * when not given or empty (no associated data, as in Vault). 400 when it is
 * not base64 (naming the field, not echoing the value).
 */
export function optionalAssociatedData(fields: Fields): Buffer | undefined {
  return decodeAssociatedData(fields.getOk<string>('associated_data'));
}

/** The bytes of an `associated_data` value; undefined when absent or empty. */
export function decodeAssociatedData(value: string | undefined): Buffer | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isStrictBase64(value)) throw badRequest('failed to base64-decode associated_data');
  return Buffer.from(value, 'base64');
}

/** Options Tresor does not implement are refused when set, rather than silently ignored. */
export function refuseEnabled(fields: Fields, field: string, reason: string): void {
  if (fields.get<boolean>(field)) throw badRequest(`"${field}" is not supported: ${reason}`);
}

/** Output encoding for random bytes and hashes: "base64" or "hex", `fallback` when not given (or empty). */
export function outputFormat(fields: Fields, fallback: 'base64' | 'hex'): 'base64' | 'hex' {
  const value = fields.getOk<string>('format');
  if (value === undefined || value === '') return fallback;
  if (value === 'base64' || value === 'hex') return value;
  throw badRequest('"format" must be "base64" or "hex"');
}
