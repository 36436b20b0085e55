/**
 * `encrypt/<name>`, `decrypt/<name>` and `rewrap/<name>`, each taking one
 * item or a `batch_input` (see batch.ts). The key is looked up once per
 * request from the in-memory cache, never once per batch item.
 *
 *   encrypt  {plaintext: base64, key_version?, associated_data?} → {ciphertext: "vault:v<N>:...", key_version}
 *   decrypt  {ciphertext, associated_data?}                      → {plaintext: base64}
 *   rewrap   {ciphertext, key_version?}                          → {ciphertext, key_version}
 *
 * `associated_data` (base64) is bound into the AEAD tag as in Vault: a
 * ciphertext decrypts only with the same associated data it was encrypted
 * with. In a batch each item has its own. Rewrap does not take it (as in
 * Vault, whose rewrap has no such field), and says so rather than ignore it.
 */
import { randomBytes } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import type { LogicalResponse } from '../types.ts';
import { optionalNonNegativeInt, type JsonObject } from '../../core/request-fields.ts';
import { batchInput, respond, type ItemResult } from './batch.ts';
import { decryptEnvelope, encryptionVersion, encryptToEnvelope } from './ciphertext.ts';
import { ASSOCIATED_DATA_SUPPORTED, NONCE_BYTES } from './aead.ts';
import { optionalAssociatedData, refuseContext, requireBase64 } from './fields.ts';
import { isDueForRotation, newKeyPolicy, parseKeyType, rotatedPolicy, type KeyPolicy, type KeyType } from './key-policy.ts';
import type { KeyStore } from './key-store.ts';
import { refuseUnsupportedKeyOptions } from './keys.ts';

const KEY_NOT_FOUND = 'encryption key not found';

/**
 * The key to encrypt with, rotated first when its auto_rotate_period has
 * passed. With `createAs`, a missing key is created with that type (Vault's
 * upsert on encrypt); without it, a missing key is a 400.
 */
export async function keyForEncryption(store: KeyStore, name: string, random: RandomSource, createAs?: KeyType): Promise<KeyPolicy> {
  const cached = await store.get(name);
  if (cached !== undefined && !isDueForRotation(cached)) return cached;
  if (cached === undefined && createAs === undefined) throw badRequest(KEY_NOT_FOUND);
  return store.update(name, async (current) => {
    if (current === undefined) {
      if (createAs === undefined) throw badRequest(KEY_NOT_FOUND);
      return newKeyPolicy(name, createAs, random);
    }
    return isDueForRotation(current) ? rotatedPolicy(current, random) : current;
  });
}

/** The key to decrypt with; 400 when it does not exist. */
async function keyForDecryption(store: KeyStore, name: string): Promise<KeyPolicy> {
  const policy = await store.get(name);
  if (policy === undefined) throw badRequest(KEY_NOT_FOUND);
  return policy;
}

/**
 * An item's associated data for `policy`; refused with Vault's message
 * (`field` names it, e.g. "[0].associated_data") when the key type's cipher
 * cannot bind it, so it is never silently dropped.
 */
export function associatedDataFor(policy: KeyPolicy, value: unknown, field: string): Buffer | undefined {
  const aad = optionalAssociatedData(value);
  if (aad !== undefined && !ASSOCIATED_DATA_SUPPORTED[policy.type]) {
    throw badRequest(`'${field}' provided for non-AEAD cipher suite ${policy.type}`);
  }
  return aad;
}

/** Encrypts one item's plaintext under the requested (or latest) version, binding `aad` when given. */
function encryptItem(policy: KeyPolicy, item: JsonObject, plaintext: Buffer, aad?: Buffer): ItemResult {
  refuseContext(item.context);
  const version = encryptionVersion(policy, optionalNonNegativeInt(item.key_version, 'key_version'));
  return { ciphertext: encryptToEnvelope(policy, version, plaintext, randomBytes(NONCE_BYTES), aad), key_version: version };
}

function plaintextOf(item: JsonObject): Buffer {
  return requireBase64(item.plaintext, 'plaintext', 'missing plaintext to encrypt');
}

/** Checks a single-item request fully before any key is created, so bad input changes nothing. */
function validateSingleEncrypt(data: JsonObject): void {
  if (batchInput(data) !== undefined) return;
  plaintextOf(data);
  refuseContext(data.context);
  optionalNonNegativeInt(data.key_version, 'key_version');
  optionalAssociatedData(data.associated_data);
}

/** Encrypts one item or a batch, creating the key first when it does not exist. */
export async function encrypt(store: KeyStore, name: string, data: JsonObject, random: RandomSource): Promise<LogicalResponse> {
  validateSingleEncrypt(data);
  refuseUnsupportedKeyOptions(data);
  const policy = await keyForEncryption(store, name, random, parseKeyType(data.type));
  return respond(data, (item, i) => encryptItem(policy, item, plaintextOf(item), associatedDataFor(policy, item.associated_data, `[${i}].associated_data`)));
}

/** Decrypts one item or a batch; a missing key is a 400. */
export async function decrypt(store: KeyStore, name: string, data: JsonObject): Promise<LogicalResponse> {
  batchInput(data); // a malformed batch is reported before the key lookup, as in Vault
  const policy = await keyForDecryption(store, name);
  return respond(data, (item, i) => {
    refuseContext(item.context);
    const aad = associatedDataFor(policy, item.associated_data, `[${i}].associated_data`);
    return { plaintext: decryptEnvelope(policy, item.ciphertext, aad).plaintext.toString('base64') };
  });
}

/** Re-encrypts ciphertexts under the requested (default: latest) version without revealing the plaintext. */
export async function rewrap(store: KeyStore, name: string, data: JsonObject, random: RandomSource): Promise<LogicalResponse> {
  batchInput(data); // a malformed batch is reported before the key lookup, as in Vault
  const policy = await keyForEncryption(store, name, random);
  return respond(data, (item) => {
    refuseRewrapAssociatedData(item.associated_data);
    return encryptItem(policy, item, decryptEnvelope(policy, item.ciphertext).plaintext);
  });
}

/** Rewrap has no associated_data (as in Vault): refused when given, never ignored. */
function refuseRewrapAssociatedData(value: unknown): void {
  if (optionalAssociatedData(value) !== undefined) {
    throw badRequest('associated_data is not supported by rewrap: decrypt and encrypt again with it instead');
  }
}
