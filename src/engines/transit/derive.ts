/**
 * Key derivation for derived keys (Vault's GetKey/DeriveKey): every
 * operation derives its own key from the version's key and the request's
 * `context`. New keys use HKDF-SHA256 (no salt, the context as info);
 * keys restored from old Vault backups may use Vault's first scheme, one
 * round of an HMAC-SHA256 counter-mode KDF. Derived Ed25519 keys take the
 * HKDF output as the seed of a new key pair.
 */
import { createHmac, hkdfSync, type KeyObject } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import { ed25519FromSeed } from './key-material.ts';
import { KDF_HKDF_SHA256, KDF_HMAC_SHA256_COUNTER, liveVersion, type KeyPolicy, type KeyVersion } from './key-policy.ts';
import { supportsDerivation } from './key-types.ts';

export const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

/** The version's entry, or Vault's "no such key version" (trimmed, or below min_decryption_version). */
export function entryOf(policy: KeyPolicy, version: number): KeyVersion {
  const entry = liveVersion(policy, version);
  if (entry === undefined) throw badRequest('no such key version');
  return entry;
}

/** Vault's DeriveKey: `numBytes` of key for `context` (which must not be empty). */
export function deriveKey(policy: KeyPolicy, context: Buffer | undefined, version: number, numBytes: number): Buffer {
  if (!supportsDerivation(policy.type)) throw badRequest(`derivation not supported for key type ${policy.type}`);
  if (version <= 0 || version > policy.latestVersion) throw badRequest('invalid key version');
  if (!context || context.length === 0) throw badRequest(MISSING_CONTEXT);
  const entry = entryOf(policy, version);
  const key = entry.key ?? Buffer.alloc(0);
  if (policy.kdf === KDF_HMAC_SHA256_COUNTER) {
    // CounterMode with one 256-bit round: HMAC(key, be32(0) || context || be32(256)).
    const counter = Buffer.alloc(4);
    const bits = Buffer.alloc(4);
    bits.writeUInt32BE(256);
    return createHmac('sha256', key).update(counter).update(context).update(bits).digest();
  }
  if (policy.kdf !== KDF_HKDF_SHA256) throw badRequest('unsupported key derivation mode');
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), context, numBytes));
}

/** The symmetric key of an operation: the version's own, or derived for `context` on derived keys. */
export function symmetricKey(policy: KeyPolicy, version: number, context: Buffer | undefined, numBytes: number): Buffer | KeyObject {
  if (!policy.derived) {
    const entry = entryOf(policy, version);
    if (entry.secret === undefined) throw badRequest('no such key version');
    return entry.secret;
  }
  return deriveKey(policy, context, version, numBytes);
}

/** The Ed25519 key pair of a derived Ed25519 key for `context`. */
export function derivedEd25519(policy: KeyPolicy, version: number, context: Buffer | undefined) {
  return ed25519FromSeed(deriveKey(policy, context, version, 32));
}
