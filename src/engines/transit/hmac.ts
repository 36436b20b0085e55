/**
 * `hmac/<name>[/<algorithm>]` `{input: base64, key_version?, algorithm?}` →
 * `{hmac: "vault:v<N>:<base64 mac>"}`, and `verify/<name>[/<algorithm>]`
 * `{input, hmac}` → `{valid}`; both take `batch_input` too. Each key version
 * has its own HMAC key, separate from its encryption key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import type { LogicalResponse } from '../types.ts';
import { isAbsent, optionalNonNegativeInt, type JsonObject } from '../../core/request-fields.ts';
import { batchInput, respond } from './batch.ts';
import { encryptionVersion, parseEnvelope } from './ciphertext.ts';
import { requireBase64 } from './fields.ts';
import { nodeHashName } from './hash.ts';
import type { KeyPolicy } from './key-policy.ts';
import type { KeyStore } from './key-store.ts';

function mac(policy: KeyPolicy, version: number, hashName: string, input: Buffer): Buffer {
  const entry = policy.versions.get(version);
  if (entry === undefined) throw badRequest('invalid hmac: unknown key version');
  return createHmac(hashName, entry.hmacKey).update(input).digest();
}

function inputOf(item: JsonObject): Buffer {
  return requireBase64(item.input, 'input', 'missing input to hmac');
}

async function existingKey(store: KeyStore, name: string): Promise<KeyPolicy> {
  const policy = await store.get(name);
  if (policy === undefined) throw badRequest('encryption key not found');
  return policy;
}

/** The algorithm from the path, else the body (checked before any item is processed). */
function hashNameFor(data: JsonObject, algorithmFromPath: string | undefined): string {
  // verify names it hash_algorithm (algorithm is its older name); hmac takes algorithm.
  return nodeHashName(algorithmFromPath ?? data.hash_algorithm ?? data.algorithm);
}

export async function generateHmac(store: KeyStore, name: string, data: JsonObject, algorithmFromPath?: string): Promise<LogicalResponse> {
  batchInput(data);
  const hashName = hashNameFor(data, algorithmFromPath);
  const policy = await existingKey(store, name);
  return respond(data, (item) => {
    const version = encryptionVersion(policy, optionalNonNegativeInt(item.key_version, 'key_version'));
    return { hmac: `vault:v${version}:${mac(policy, version, hashName, inputOf(item)).toString('base64')}` };
  });
}

/** Compares in constant time; a version below min_decryption_version is a 400, not merely invalid. */
export async function verifyHmac(store: KeyStore, name: string, data: JsonObject, algorithmFromPath?: string): Promise<LogicalResponse> {
  batchInput(data);
  const hashName = hashNameFor(data, algorithmFromPath);
  const policy = await existingKey(store, name);
  return respond(data, (item) => {
    if (isAbsent(item.hmac)) throw badRequest('missing hmac to verify (signature verification is not supported)');
    const { version, sealed: claimed } = parseEnvelope(item.hmac, 'hmac');
    if (version < policy.minDecryptionVersion) throw badRequest('hmac version is disallowed by policy (too old)');
    const expected = mac(policy, version, hashName, inputOf(item));
    return { valid: claimed.length === expected.length && timingSafeEqual(claimed, expected) };
  });
}
