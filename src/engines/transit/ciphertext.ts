/**
 * Encryption and decryption with a transit key, and Vault's ciphertext
 * envelope: `vault:v<version>:<base64(nonce || ciphertext || tag)>`.
 *
 * Nonces come from node's crypto.randomBytes, not the request's (possibly
 * HSM-backed) source: a nonce only has to be unique, not secret, and an HSM
 * round trip per item would cap batch throughput. Key material, which must
 * be unpredictable, always comes from the request's source (key-policy.ts).
 */
import { badRequest } from '../../core/errors.ts';
import { aeadOpen, aeadSeal, AUTHENTICATION_FAILED, NONCE_BYTES } from './aead.ts';
import { isStrictBase64 } from './fields.ts';
import type { KeyPolicy } from './key-policy.ts';

const PREFIX = 'vault:';
const VERSION_FIELD = /^v([1-9]\d{0,8})$/;

/**
 * The version to encrypt with: the requested one (0/undefined = latest), which
 * must lie between the key's minimum encryption (and decryption) version and
 * its latest version.
 */
export function encryptionVersion(policy: KeyPolicy, requested: number | undefined): number {
  const version = requested === undefined || requested === 0 ? policy.latestVersion : requested;
  const floor = Math.max(policy.minEncryptionVersion, policy.minDecryptionVersion);
  if (version < floor) throw badRequest('requested key version is below the minimum encryption version of the key');
  if (version > policy.latestVersion) throw badRequest('requested key version is higher than the latest version of the key');
  return version;
}

/**
 * Encrypts under `version` (already checked by encryptionVersion) with a
 * fresh 12-byte nonce, binding `associatedData` (checked by the caller
 * against the key type) when given.
 */
export function encryptToEnvelope(policy: KeyPolicy, version: number, plaintext: Buffer, nonce: Buffer, associatedData?: Buffer): string {
  const entry = policy.versions.get(version);
  if (entry === undefined) throw badRequest('requested key version does not exist');
  return `${PREFIX}v${version}:${aeadSeal(policy.type, entry.key, nonce, plaintext, associatedData).toString('base64')}`;
}

/**
 * Decrypts an envelope with the associated data it was encrypted with
 * (none and empty are the same). Every failure is a 400; a wrong key,
 * tampered bytes and other (or missing) associated data all give Vault's
 * one authentication-failure message, so the answer tells them apart for
 * no one.
 */
export function decryptEnvelope(policy: KeyPolicy, ciphertext: unknown, associatedData?: Buffer): { plaintext: Buffer; version: number } {
  const { version, sealed } = parseEnvelope(ciphertext);
  if (version < policy.minDecryptionVersion) throw badRequest('ciphertext or signature version is disallowed by policy (too old)');
  const entry = policy.versions.get(version);
  if (entry === undefined || version > policy.latestVersion) throw badRequest('invalid ciphertext: unknown key version');
  if (sealed.length < NONCE_BYTES) throw badRequest('invalid ciphertext length');
  const plaintext = aeadOpen(policy.type, entry.key, sealed, associatedData);
  if (plaintext === undefined) throw badRequest(AUTHENTICATION_FAILED[policy.type]);
  return { plaintext, version };
}

/**
 * Splits `vault:v<N>:<base64>` into its version and bytes; `what` names the
 * value in error messages ("ciphertext", or "hmac" for HMAC envelopes).
 */
export function parseEnvelope(envelope: unknown, what: 'ciphertext' | 'hmac' = 'ciphertext'): { version: number; sealed: Buffer } {
  if (envelope === undefined || envelope === null || envelope === '') throw badRequest(`missing ${what}`);
  if (typeof envelope !== 'string' || !envelope.startsWith(PREFIX)) throw badRequest(`invalid ${what}: no "vault:" prefix`);
  const rest = envelope.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon === -1) throw badRequest(`invalid ${what}: wrong number of fields`);
  const match = VERSION_FIELD.exec(rest.slice(0, colon));
  if (match === null) throw badRequest(`invalid ${what}: version number could not be decoded`);
  const body = rest.slice(colon + 1);
  if (!isStrictBase64(body)) throw badRequest(`invalid ${what}: could not decode base64`);
  return { version: Number(match[1]), sealed: Buffer.from(body, 'base64') };
}
