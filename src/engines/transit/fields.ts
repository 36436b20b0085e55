/**
 * Transit request fields. Rejections are 400s naming the field, never
 * echoing its value (plaintext and ciphertext are secret).
 */
import { badRequest } from '../../core/errors.ts';
import { isAbsent, optionalBool } from '../../core/request-fields.ts';

// Go's base64.StdEncoding: standard alphabet, padding required.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `text` is standard, padded base64. */
export function isStrictBase64(text: string): boolean {
  return STRICT_BASE64.test(text);
}

/** Decodes a required base64 field; 400 when it is missing or not base64. */
export function requireBase64(value: unknown, field: string, missingMessage: string): Buffer {
  if (value === undefined || value === null) throw badRequest(missingMessage);
  if (typeof value !== 'string' || !isStrictBase64(value)) throw badRequest(`failed to base64-decode ${field}`);
  return Buffer.from(value, 'base64');
}

/**
 * Transit keys here are never derived, so a `context` has nothing to feed
 * into; refusing it tells the caller their ciphertexts would not be bound to it.
 */
export function refuseContext(value: unknown): void {
  if (!isAbsent(value)) throw badRequest('context is only allowed with derived keys, and this key is not derived');
}

/**
 * An item's `associated_data` (base64, as Vault takes it): the bytes, or
 * undefined when absent or empty (no associated data, as in Vault). 400
 * when it is not base64 (naming the field, not echoing the value).
 */
export function optionalAssociatedData(value: unknown): Buffer | undefined {
  if (isAbsent(value) || value === '') return undefined;
  if (typeof value !== 'string' || !isStrictBase64(value)) throw badRequest('failed to base64-decode associated_data');
  return Buffer.from(value, 'base64');
}

/** Options Tresor does not implement are refused when set, rather than silently ignored. */
export function refuseEnabled(value: unknown, field: string, reason: string): void {
  if (optionalBool(value, field) === true) throw badRequest(`"${field}" is not supported: ${reason}`);
}

/** Output encoding for random bytes and hashes: "base64" or "hex", `fallback` when absent. */
export function parseOutputFormat(value: unknown, fallback: 'base64' | 'hex'): 'base64' | 'hex' {
  if (isAbsent(value)) return fallback;
  if (value === 'base64' || value === 'hex') return value;
  throw badRequest('"format" must be "base64" or "hex"');
}
