/**
 * A named transit key and all its versions ("policy" in Vault's vocabulary),
 * its stored form and its public description. Policies are immutable values:
 * every change builds a new one, so a request that already holds a policy
 * never sees it half-updated by a concurrent rotate or config write.
 */
import { badRequest, internalError } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';

export type KeyType = 'aes256-gcm96' | 'chacha20-poly1305';

export const SUPPORTED_KEY_TYPES: readonly KeyType[] = ['aes256-gcm96', 'chacha20-poly1305'];

/** Both supported ciphers take a 256-bit key; every version also gets its own HMAC key. */
const CIPHER_KEY_BYTES = 32;
const HMAC_KEY_BYTES = 32;

export interface KeyVersion {
  readonly key: Buffer;
  readonly hmacKey: Buffer;
  /** Creation time, whole Unix seconds (what Vault shows in `keys`). */
  readonly createdAt: number;
}

export interface KeyPolicy {
  readonly name: string;
  readonly type: KeyType;
  readonly versions: ReadonlyMap<number, KeyVersion>;
  readonly latestVersion: number;
  readonly minDecryptionVersion: number;
  /** 0 means "the latest version". */
  readonly minEncryptionVersion: number;
  readonly deletionAllowed: boolean;
  /** 0 disables automatic rotation. */
  readonly autoRotatePeriodSeconds: number;
}

/** Parses a `type` field; absent means Vault's default, aes256-gcm96. */
export function parseKeyType(value: unknown): KeyType {
  if (value === undefined || value === null || value === '') return 'aes256-gcm96';
  if (typeof value === 'string' && (SUPPORTED_KEY_TYPES as readonly string[]).includes(value)) return value as KeyType;
  throw badRequest(`unsupported key type; supported types are: ${SUPPORTED_KEY_TYPES.join(', ')}`);
}

/**
 * Draws one version's key material. Key material always comes from the
 * request's random source, which is the HSM mixed with the OS when the mount
 * has external_entropy_access.
 */
async function newKeyVersion(random: RandomSource, nowMs: number): Promise<KeyVersion> {
  const material = await random(CIPHER_KEY_BYTES + HMAC_KEY_BYTES);
  if (material.length !== CIPHER_KEY_BYTES + HMAC_KEY_BYTES) throw internalError('entropy source returned too few bytes');
  return {
    key: Buffer.from(material.subarray(0, CIPHER_KEY_BYTES)),
    hmacKey: Buffer.from(material.subarray(CIPHER_KEY_BYTES)),
    createdAt: Math.floor(nowMs / 1000),
  };
}

/** A fresh policy with version 1. */
export async function newKeyPolicy(name: string, type: KeyType, random: RandomSource, nowMs = Date.now()): Promise<KeyPolicy> {
  return {
    name,
    type,
    versions: new Map([[1, await newKeyVersion(random, nowMs)]]),
    latestVersion: 1,
    minDecryptionVersion: 1,
    minEncryptionVersion: 0,
    deletionAllowed: false,
    autoRotatePeriodSeconds: 0,
  };
}

/** The policy with one more version, which becomes the latest. */
export async function rotatedPolicy(policy: KeyPolicy, random: RandomSource, nowMs = Date.now()): Promise<KeyPolicy> {
  const next = policy.latestVersion + 1;
  const versions = new Map(policy.versions);
  versions.set(next, await newKeyVersion(random, nowMs));
  return { ...policy, versions, latestVersion: next };
}

/** True when the key has an auto_rotate_period and its latest version is at least that old. */
export function isDueForRotation(policy: KeyPolicy, nowMs = Date.now()): boolean {
  if (policy.autoRotatePeriodSeconds <= 0) return false;
  const latest = policy.versions.get(policy.latestVersion);
  return latest !== undefined && nowMs / 1000 - latest.createdAt >= policy.autoRotatePeriodSeconds;
}

/**
 * Stored form under `policy/<name>` (JSON, behind the barrier):
 * `{name, type, latest_version, min_decryption_version, min_encryption_version,
 *   deletion_allowed, auto_rotate_period (seconds),
 *   keys: {"<version>": {key: base64, hmac_key: base64, creation_time: unix seconds}}}`
 */
export interface StoredKeyPolicy {
  name: string;
  type: KeyType;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: boolean;
  auto_rotate_period: number;
  keys: Record<string, { key: string; hmac_key: string; creation_time: number }>;
}

export function toStored(policy: KeyPolicy): StoredKeyPolicy {
  const keys: StoredKeyPolicy['keys'] = {};
  for (const [version, entry] of policy.versions) {
    keys[String(version)] = { key: entry.key.toString('base64'), hmac_key: entry.hmacKey.toString('base64'), creation_time: entry.createdAt };
  }
  return {
    name: policy.name,
    type: policy.type,
    latest_version: policy.latestVersion,
    min_decryption_version: policy.minDecryptionVersion,
    min_encryption_version: policy.minEncryptionVersion,
    deletion_allowed: policy.deletionAllowed,
    auto_rotate_period: policy.autoRotatePeriodSeconds,
    keys,
  };
}

export function fromStored(stored: StoredKeyPolicy): KeyPolicy {
  if (!(SUPPORTED_KEY_TYPES as readonly string[]).includes(stored.type)) {
    throw internalError(`stored transit key "${stored.name}" has an unknown type`);
  }
  const versions = new Map<number, KeyVersion>();
  for (const [version, entry] of Object.entries(stored.keys)) {
    versions.set(Number(version), {
      key: Buffer.from(entry.key, 'base64'),
      hmacKey: Buffer.from(entry.hmac_key, 'base64'),
      createdAt: entry.creation_time,
    });
  }
  return {
    name: stored.name,
    type: stored.type,
    versions,
    latestVersion: stored.latest_version,
    minDecryptionVersion: stored.min_decryption_version,
    minEncryptionVersion: stored.min_encryption_version,
    deletionAllowed: stored.deletion_allowed,
    autoRotatePeriodSeconds: stored.auto_rotate_period,
  };
}

/**
 * Vault's key description (the body of `GET keys/<name>`): no key material,
 * `keys` maps each still-decryptable version to its creation Unix time.
 */
export function describeKey(policy: KeyPolicy): Record<string, unknown> {
  const keys: Record<string, number> = {};
  for (const [version, entry] of policy.versions) {
    if (version >= policy.minDecryptionVersion) keys[String(version)] = entry.createdAt;
  }
  return {
    name: policy.name,
    type: policy.type,
    keys,
    latest_version: policy.latestVersion,
    min_available_version: 0,
    min_decryption_version: policy.minDecryptionVersion,
    min_encryption_version: policy.minEncryptionVersion,
    deletion_allowed: policy.deletionAllowed,
    derived: false,
    exportable: false,
    allow_plaintext_backup: false,
    imported_key: false,
    supports_encryption: true,
    supports_decryption: true,
    // What the key type can do, as Vault reports it (AES-GCM and ChaCha20 support derivation; this key is not derived).
    supports_derivation: true,
    supports_signing: false,
    auto_rotate_period: policy.autoRotatePeriodSeconds,
  };
}
