/**
 * Transit's shared field declarations and the checks their types cannot
 * express. The framework decodes every declared field before a handler
 * runs; what is left here are base64 payloads (decoded as Go decodes them,
 * with Go's error text: an offset, never the value), ranges and
 * cross-field rules. Rejections are 400s naming the problem, never echoing
 * the value (plaintext and ciphertext are secret).
 */
import { badRequest } from '../../core/errors.ts';
import type { FieldData, FieldSchema } from '../../framework/index.ts';
import { goBase64Decode, illegalBase64 } from './go-base64.ts';

/** How handlers read decoded fields: the request's FieldData, or one batch item's (batch.ts). */
export type Fields = Pick<FieldData, 'get' | 'getOk' | 'has'>;

// ---- field declarations shared by several paths (Vault's names and types) ----

export const keyNameField = (description = 'Name of the key.'): FieldSchema => ({ type: 'string', description });

export const KEY_VERSION_FIELD: FieldSchema = {
  type: 'int',
  description: 'The key version to use: 0 (the default) for the latest, else at least the key\'s min_encryption_version.',
};

export const CONTEXT_FIELD: FieldSchema = {
  type: 'string',
  description: 'Base64 context for key derivation; required by derived keys (and ignored by the others).',
};

export const NONCE_FIELD: FieldSchema = {
  type: 'string',
  description: 'Base64 nonce, only for version-1 convergent keys (made by Vault before 0.6.2); every other key refuses one.',
};

export const ASSOCIATED_DATA_FIELD: FieldSchema = {
  type: 'string',
  description: 'Base64 associated data bound into the AEAD tag (AES-GCM and ChaCha20 keys): decryption needs the same bytes again.',
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

// ---- base64 as Vault (Go) decodes it ----

/** The bytes of `value`, or a 400 whose text is Go's (prefixed by `prefix`). */
export function base64Bytes(value: string, prefix = ''): Buffer {
  const result = goBase64Decode(value);
  if ('bytes' in result) return result.bytes;
  throw badRequest(`${prefix}${illegalBase64(result.errorAt)}`);
}

/** A base64 field's bytes; `missingMessage` when the field was not given. */
export function requireBase64(fields: Fields, field: string, missingMessage: string, prefix = ''): Buffer {
  const value = fields.getOk<string>(field);
  if (value === undefined) throw badRequest(missingMessage);
  return base64Bytes(value, prefix);
}

/** An optional base64 field: undefined when absent or empty. */
export function optionalBase64(fields: Fields, field: string, prefix = ''): Buffer | undefined {
  const value = fields.getOk<string>(field);
  if (value === undefined || value === '') return undefined;
  return base64Bytes(value, prefix);
}

/**
 * `associated_data` (base64): undefined when absent or empty (no
 * associated data, as in Vault). Vault's text for a bad value names its
 * factory; the offset, never the value.
 */
export function optionalAssociatedData(fields: Fields): Buffer | undefined {
  return decodeAssociatedData(fields.getOk<string>('associated_data'));
}

export function decodeAssociatedData(value: string | undefined): Buffer | undefined {
  if (value === undefined || value === '') return undefined;
  return base64Bytes(value, 'unable to get associated_data/additional_data from factory[0]: ');
}

/** Output encoding for random bytes and hashes: "base64" or "hex"; Vault's texts name the bad value (a format, not a secret). */
export function outputFormat(fields: Fields, fallback: 'base64' | 'hex', message: (format: string) => string): 'base64' | 'hex' {
  const value = fields.getOk<string>('format');
  if (value === undefined || value === '') return fallback;
  if (value === 'base64' || value === 'hex') return value;
  throw badRequest(message(value));
}
