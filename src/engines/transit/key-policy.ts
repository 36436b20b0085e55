/**
 * A named transit key and all its versions ("policy" in Vault's vocabulary),
 * its stored form and its public description. Policies are immutable values:
 * every change builds a new one, so a request that already holds a policy
 * never sees it half-updated by a concurrent rotate or config write.
 *
 * The stored form is Vault's own policy JSON (keysutil.Policy: the same
 * field names, type numbers, big-integer key numbers and nanosecond
 * durations), which is also what a backup carries, so backups move between
 * Vault and Tresor. Unlike Vault, Tresor keeps every available version in
 * the one entry instead of moving the ones below min_decryption_version to
 * a separate archive; a backup is split the way Vault splits it.
 */
import { badRequest, internalError } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { rfc3339NanoNow } from '../../core/wrapping.ts';
import { generateKeyVersion, isPrivateKeyMissing, publicKeyPem, withKeyObjects, type KeyVersion, type RsaNumbers } from './key-material.ts';
import {
  CURVES, isEcdsa, isKeyType, isRsa, isSymmetricCipher, keyTypeOfNumber, supportsDecryption, supportsDerivation, supportsEncryption,
  supportsSigning, TYPE_NUMBER, type KeyType,
} from './key-types.ts';

export type { KeyType } from './key-types.ts';
export type { KeyVersion } from './key-material.ts';

/** Vault's KDF modes: 0 is the legacy HMAC-SHA256 counter mode, 1 HKDF-SHA256 (every new derived key). */
export const KDF_HMAC_SHA256_COUNTER = 0;
export const KDF_HKDF_SHA256 = 1;
/** The convergent scheme new versions of convergent keys use (nonce = HMAC of the plaintext under a derived key). */
export const CURRENT_CONVERGENT_VERSION = 3;
const DEFAULT_VERSION_TEMPLATE = 'vault:v{{version}}:';

export interface OperationInfo {
  /** RFC 3339 time of the backup or restore. */
  readonly time: string;
  readonly version: number;
}

export interface KeyPolicy {
  readonly name: string;
  readonly type: KeyType;
  /** Every version still available (from max(1, min_available_version) to latest_version). */
  readonly versions: ReadonlyMap<number, KeyVersion>;
  readonly latestVersion: number;
  readonly minDecryptionVersion: number;
  /** 0 means "the latest version". */
  readonly minEncryptionVersion: number;
  /** Versions below this were trimmed (0: never trimmed). */
  readonly minAvailableVersion: number;
  readonly deletionAllowed: boolean;
  /** 0 disables automatic rotation. */
  readonly autoRotatePeriodSeconds: number;
  readonly derived: boolean;
  readonly kdf: number;
  readonly convergentEncryption: boolean;
  /** The policy-wide convergent scheme (-1: recorded per version). */
  readonly convergentVersion: number;
  readonly exportable: boolean;
  readonly allowPlaintextBackup: boolean;
  /** HMAC key size in bytes (hmac keys; 0 otherwise). */
  readonly keySize: number;
  readonly imported: boolean;
  readonly allowImportedKeyRotation: boolean;
  readonly backupInfo?: OperationInfo;
  readonly restoreInfo?: OperationInfo;
  readonly versionTemplate: string;
}

export interface NewPolicyOptions {
  derived?: boolean;
  convergent?: boolean;
  exportable?: boolean;
  allowPlaintextBackup?: boolean;
  autoRotatePeriodSeconds?: number;
  keySize?: number;
}

/** A policy with no versions yet (a key being imported). */
export function emptyPolicy(name: string, type: KeyType, opts: NewPolicyOptions & { imported?: boolean; allowImportedKeyRotation?: boolean } = {}): KeyPolicy {
  const convergent = opts.convergent === true && opts.derived === true;
  return {
    name,
    type,
    versions: new Map(),
    latestVersion: 0,
    minDecryptionVersion: 1,
    minEncryptionVersion: 0,
    minAvailableVersion: 0,
    deletionAllowed: false,
    autoRotatePeriodSeconds: opts.autoRotatePeriodSeconds ?? 0,
    derived: opts.derived === true,
    kdf: opts.derived ? KDF_HKDF_SHA256 : KDF_HMAC_SHA256_COUNTER,
    convergentEncryption: convergent,
    convergentVersion: convergent ? -1 : 0,
    exportable: opts.exportable === true,
    allowPlaintextBackup: opts.allowPlaintextBackup === true,
    keySize: type === 'hmac' ? (opts.keySize || 32) : 0,
    imported: opts.imported === true,
    allowImportedKeyRotation: opts.allowImportedKeyRotation === true,
    versionTemplate: '',
  };
}

/** A fresh policy with version 1. */
export async function newKeyPolicy(name: string, type: KeyType, random: RandomSource, opts: NewPolicyOptions = {}, nowMs = Date.now()): Promise<KeyPolicy> {
  return rotatedPolicy(emptyPolicy(name, type, opts), random, nowMs);
}

/** The convergent scheme of a version (Vault's convergentVersion): 0 for non-convergent keys. */
export function convergentVersionOf(policy: KeyPolicy, version: number): number {
  if (!policy.convergentEncryption) return 0;
  const own = policy.versions.get(version)?.convergentVersion ?? 0;
  if (own !== 0) return own;
  return policy.convergentVersion === 0 ? 1 : policy.convergentVersion;
}

/** The policy with one more version, which becomes the latest (Vault's Rotate). */
export async function rotatedPolicy(policy: KeyPolicy, random: RandomSource, nowMs = Date.now()): Promise<KeyPolicy> {
  if (policy.imported && !policy.allowImportedKeyRotation && policy.latestVersion > 0) {
    throw badRequest(`imported key ${policy.name} does not allow rotation within Vault`);
  }
  const convergentVersion = policy.convergentEncryption && (policy.convergentVersion === -1 || policy.convergentVersion > 1) ? CURRENT_CONVERGENT_VERSION : 0;
  const entry = await generateKeyVersion(policy.type, random, { keySize: policy.keySize, convergentVersion, nowMs });
  return withNewVersion(policy.latestVersion > 0 ? { ...policy, imported: false } : policy, entry);
}

/** The policy with `entry` added as the new latest version. */
export function withNewVersion(policy: KeyPolicy, entry: KeyVersion): KeyPolicy {
  const next = policy.latestVersion + 1;
  const versions = new Map(policy.versions);
  versions.set(next, entry);
  return { ...policy, versions, latestVersion: next, minDecryptionVersion: policy.minDecryptionVersion || 1 };
}

/** The policy without the versions below `minAvailable` (Vault's trim). */
export function trimmedPolicy(policy: KeyPolicy, minAvailable: number): KeyPolicy {
  const versions = new Map([...policy.versions].filter(([version]) => version >= minAvailable));
  return { ...policy, versions, minAvailableVersion: minAvailable };
}

/** True when the key has an auto_rotate_period and its latest version is at least that old. */
export function isDueForRotation(policy: KeyPolicy, nowMs = Date.now()): boolean {
  if (policy.autoRotatePeriodSeconds <= 0 || (policy.imported && !policy.allowImportedKeyRotation)) return false;
  const latest = policy.versions.get(policy.latestVersion);
  if (latest === undefined) return false;
  const created = Date.parse(latest.creationTime);
  const createdMs = Number.isFinite(created) && created > 0 ? created : latest.createdAt * 1000;
  return nowMs > createdMs + policy.autoRotatePeriodSeconds * 1000;
}

/** A version usable for operations: present, and not below min_decryption_version (Vault keeps those archived). */
export function liveVersion(policy: KeyPolicy, version: number): KeyVersion | undefined {
  if (version < policy.minDecryptionVersion) return undefined;
  return policy.versions.get(version);
}

// ---- version prefix ("vault:v3:") ----

const prefixCache = new WeakMap<KeyPolicy, Map<number, string>>();

/** The ciphertext/signature prefix of a version. */
export function versionPrefix(policy: KeyPolicy, version: number): string {
  if (!policy.versionTemplate) return `vault:v${version}:`;
  let cache = prefixCache.get(policy);
  if (!cache) prefixCache.set(policy, (cache = new Map()));
  let prefix = cache.get(version);
  if (prefix === undefined) cache.set(version, (prefix = policy.versionTemplate.replaceAll('{{version}}', String(version))));
  return prefix;
}

/** The two halves of the version template around {{version}}. */
export function templateParts(policy: KeyPolicy): [string, string] {
  if (!policy.versionTemplate) return ['vault:v', ':'];
  const parts = policy.versionTemplate.split('{{version}}');
  if (parts.length !== 2) throw internalError('error parsing version template');
  return [parts[0], parts[1]];
}

// ---- Vault's stored policy JSON ----

/** Vault's KeyEntry JSON. Key numbers are bigints (see vault-json.ts). */
export interface StoredKeyEntry {
  key: string | null;
  hmac_key: string | null;
  time: string;
  ec_x: bigint | null;
  ec_y: bigint | null;
  ec_d: bigint | null;
  rsa_key: StoredRsaPrivateKey | null;
  rsa_public_key: { N: bigint; E: number } | null;
  public_key: string;
  convergent_version: number;
  creation_time: number;
  certificate_chain?: null;
}

interface StoredRsaPrivateKey {
  N: bigint;
  E: number;
  D: bigint;
  Primes: bigint[];
  Precomputed: { Dp: bigint | null; Dq: bigint | null; Qinv: bigint | null; CRTValues: unknown[] };
}

/** Vault's Policy JSON. */
export interface StoredPolicy {
  name: string;
  keys: Record<string, StoredKeyEntry>;
  derived: boolean;
  kdf: number;
  convergent_encryption: boolean;
  exportable: boolean;
  min_decryption_version: number;
  min_encryption_version: number;
  latest_version: number;
  archive_version: number;
  archive_min_version: number;
  min_available_version: number;
  deletion_allowed: boolean;
  convergent_version: number;
  type: number;
  backup_info: OperationInfo | null;
  restore_info: OperationInfo | null;
  allow_plaintext_backup: boolean;
  version_template: string;
  storage_prefix: string;
  /** Nanoseconds (Go's time.Duration). */
  auto_rotate_period: bigint | number;
  Imported: boolean;
  AllowImportedKeyRotation: boolean;
  key_size?: number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
const NS_PER_SECOND = 1_000_000_000n;

function entryToStored(entry: KeyVersion): StoredKeyEntry {
  const rsa = entry.rsa;
  return {
    key: entry.key ? entry.key.toString('base64') : null,
    hmac_key: entry.hmacKey.length ? entry.hmacKey.toString('base64') : null,
    time: entry.creationTime,
    ec_x: entry.ec?.x ?? null,
    ec_y: entry.ec?.y ?? null,
    ec_d: entry.ec?.d ?? null,
    rsa_key: rsa?.d === undefined ? null : {
      N: rsa.n,
      E: rsa.e,
      D: rsa.d,
      Primes: [rsa.p!, rsa.q!],
      Precomputed: { Dp: rsa.dp ?? null, Dq: rsa.dq ?? null, Qinv: rsa.qi ?? null, CRTValues: [] },
    },
    rsa_public_key: rsa ? { N: rsa.n, E: rsa.e } : null,
    public_key: entry.formattedPublicKey,
    convergent_version: entry.convergentVersion,
    creation_time: entry.createdAt,
  };
}

/** The stored (and backed-up) JSON of a policy; `versions` picks which versions go into `keys`. */
export function toStored(policy: KeyPolicy, versions: Iterable<number> = policy.versions.keys()): StoredPolicy {
  const keys: Record<string, StoredKeyEntry> = {};
  for (const version of versions) {
    const entry = policy.versions.get(version);
    if (entry) keys[String(version)] = entryToStored(entry);
  }
  return {
    name: policy.name,
    keys,
    derived: policy.derived,
    kdf: policy.kdf,
    convergent_encryption: policy.convergentEncryption,
    exportable: policy.exportable,
    min_decryption_version: policy.minDecryptionVersion,
    min_encryption_version: policy.minEncryptionVersion,
    latest_version: policy.latestVersion,
    archive_version: policy.latestVersion,
    archive_min_version: policy.minAvailableVersion,
    min_available_version: policy.minAvailableVersion,
    deletion_allowed: policy.deletionAllowed,
    convergent_version: policy.convergentVersion,
    type: TYPE_NUMBER[policy.type],
    backup_info: policy.backupInfo ?? null,
    restore_info: policy.restoreInfo ?? null,
    allow_plaintext_backup: policy.allowPlaintextBackup,
    version_template: policy.versionTemplate,
    storage_prefix: '',
    auto_rotate_period: BigInt(policy.autoRotatePeriodSeconds) * NS_PER_SECOND,
    Imported: policy.imported,
    AllowImportedKeyRotation: policy.allowImportedKeyRotation,
    ...(policy.keySize ? { key_size: policy.keySize } : {}),
  };
}

const asBig = (value: unknown, what: string): bigint => {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw badRequest(`invalid key data: ${what} is not an integer`);
};
const optBig = (value: unknown, what: string) => (value === null || value === undefined ? undefined : asBig(value, what));
const bytesOf = (value: unknown, what: string): Buffer | undefined => {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`invalid key data: ${what} is not base64`);
  return Buffer.from(value, 'base64');
};

function entryFromStored(type: KeyType, raw: StoredKeyEntry, version: string): KeyVersion {
  if (typeof raw !== 'object' || raw === null) throw badRequest(`invalid key data: version ${version} is not an object`);
  const createdAt = typeof raw.creation_time === 'number' ? raw.creation_time : 0;
  let creationTime = typeof raw.time === 'string' && raw.time !== ZERO_TIME ? raw.time : '';
  if (!creationTime || !Number.isFinite(Date.parse(creationTime))) creationTime = rfc3339NanoNow(createdAt * 1000, 0);
  let rsa: RsaNumbers | undefined;
  if (raw.rsa_key) {
    const k = raw.rsa_key;
    const primes = Array.isArray(k.Primes) ? k.Primes : [];
    rsa = {
      n: asBig(k.N, 'rsa_key.N'),
      e: Number(asBig(k.E, 'rsa_key.E')),
      d: asBig(k.D, 'rsa_key.D'),
      p: optBig(primes[0], 'rsa_key.Primes'),
      q: optBig(primes[1], 'rsa_key.Primes'),
      dp: optBig(k.Precomputed?.Dp, 'rsa_key.Precomputed.Dp'),
      dq: optBig(k.Precomputed?.Dq, 'rsa_key.Precomputed.Dq'),
      qi: optBig(k.Precomputed?.Qinv, 'rsa_key.Precomputed.Qinv'),
    };
  } else if (raw.rsa_public_key) {
    rsa = { n: asBig(raw.rsa_public_key.N, 'rsa_public_key.N'), e: Number(asBig(raw.rsa_public_key.E, 'rsa_public_key.E')) };
  }
  const ecX = optBig(raw.ec_x, 'ec_x');
  const ecY = optBig(raw.ec_y, 'ec_y');
  const ecD = optBig(raw.ec_d, 'ec_d');
  const key = bytesOf(raw.key, 'key');
  const hmacKey = bytesOf(raw.hmac_key, 'hmac_key') ?? (type === 'hmac' && key ? key : Buffer.alloc(0));
  const entry = {
    ...(key && key.length ? { key } : {}),
    hmacKey,
    creationTime,
    createdAt,
    ...(ecX !== undefined && ecY !== undefined ? { ec: { x: ecX, y: ecY, ...(ecD !== undefined ? { d: ecD } : {}) } } : {}),
    ...(rsa ? { rsa } : {}),
    formattedPublicKey: typeof raw.public_key === 'string' ? raw.public_key : '',
    convergentVersion: typeof raw.convergent_version === 'number' ? raw.convergent_version : 0,
  };
  try {
    return withKeyObjects(type, entry);
  } catch {
    throw badRequest(`invalid key data: version ${version} does not hold a valid ${type} key`);
  }
}

/** Tresor's first stored form (before Vault's policy JSON): type names, seconds, symmetric keys only. */
interface LegacyStoredPolicy {
  name: string;
  type: string;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: boolean;
  auto_rotate_period: number;
  keys: Record<string, { key: string; hmac_key: string; creation_time: number }>;
}

function fromLegacy(stored: LegacyStoredPolicy): KeyPolicy {
  if (!isKeyType(stored.type)) throw internalError(`stored transit key "${stored.name}" has an unknown type`);
  const type = stored.type;
  const versions = new Map<number, KeyVersion>();
  for (const [version, entry] of Object.entries(stored.keys)) {
    versions.set(Number(version), withKeyObjects(type, {
      key: Buffer.from(entry.key, 'base64'),
      hmacKey: Buffer.from(entry.hmac_key, 'base64'),
      createdAt: entry.creation_time,
      creationTime: rfc3339NanoNow(entry.creation_time * 1000, 0),
      formattedPublicKey: '',
      convergentVersion: 0,
    }));
  }
  return {
    ...emptyPolicy(stored.name, type),
    versions,
    latestVersion: stored.latest_version,
    minDecryptionVersion: stored.min_decryption_version,
    minEncryptionVersion: stored.min_encryption_version,
    deletionAllowed: stored.deletion_allowed,
    autoRotatePeriodSeconds: stored.auto_rotate_period,
  };
}

/**
 * A policy from its stored JSON (or a backup's policy plus its archived
 * keys, Vault's archive list indexed from min_available_version). Malformed
 * input is a 400 naming the problem, never echoing key material.
 */
export function fromStored(stored: StoredPolicy | LegacyStoredPolicy, archived?: StoredKeyEntry[]): KeyPolicy {
  if (typeof stored !== 'object' || stored === null) throw badRequest('invalid key data');
  if (typeof stored.type === 'string') return fromLegacy(stored as LegacyStoredPolicy);
  const s = stored as StoredPolicy;
  const type = keyTypeOfNumber(Number(s.type));
  if (type === undefined) throw badRequest('invalid key data: unsupported key type');
  if (typeof s.name !== 'string') throw badRequest('invalid key data: missing name');
  const latest = Number(s.latest_version);
  if (!Number.isSafeInteger(latest) || latest < 1) throw badRequest('invalid key data: latest_version must be at least 1');
  const minAvailable = Number(s.min_available_version) || 0;
  const versions = new Map<number, KeyVersion>();
  for (let version = Math.max(1, minAvailable); version <= latest; version++) {
    const raw = s.keys?.[String(version)] ?? archived?.[version - minAvailable];
    if (raw === undefined) continue;
    versions.set(version, entryFromStored(type, raw, String(version)));
  }
  if (!versions.has(latest)) throw badRequest('invalid key data: the latest version is missing');
  const minDecryption = Number(s.min_decryption_version) || 1;
  for (let version = Math.max(minDecryption, minAvailable, 1); version <= latest; version++) {
    if (!versions.has(version)) throw badRequest(`invalid key data: version ${version} is missing`);
  }
  const periodNs = asBig(s.auto_rotate_period ?? 0, 'auto_rotate_period');
  return {
    name: s.name,
    type,
    versions,
    latestVersion: latest,
    minDecryptionVersion: minDecryption,
    minEncryptionVersion: Number(s.min_encryption_version) || 0,
    minAvailableVersion: minAvailable,
    deletionAllowed: s.deletion_allowed === true,
    autoRotatePeriodSeconds: Number(periodNs / NS_PER_SECOND),
    derived: s.derived === true,
    kdf: Number(s.kdf) || 0,
    convergentEncryption: s.convergent_encryption === true,
    convergentVersion: Number(s.convergent_version) || 0,
    exportable: s.exportable === true,
    allowPlaintextBackup: s.allow_plaintext_backup === true,
    keySize: Number(s.key_size) || (type === 'hmac' ? versions.get(latest)!.key?.length ?? 0 : 0),
    imported: s.Imported === true,
    allowImportedKeyRotation: s.AllowImportedKeyRotation === true,
    ...(s.backup_info ? { backupInfo: { time: String(s.backup_info.time), version: Number(s.backup_info.version) } } : {}),
    ...(s.restore_info ? { restoreInfo: { time: String(s.restore_info.time), version: Number(s.restore_info.version) } } : {}),
    versionTemplate: typeof s.version_template === 'string' ? s.version_template : '',
  };
}

/** The entries of Vault's archive for a backup: index i is version min_available_version + i (version 0 empty). */
export function archiveOf(policy: KeyPolicy): StoredKeyEntry[] {
  const out: StoredKeyEntry[] = [];
  for (let version = policy.minAvailableVersion; version <= policy.latestVersion; version++) {
    const entry = policy.versions.get(version);
    out.push(entry ? entryToStored(entry) : emptyStoredEntry());
  }
  return out;
}

function emptyStoredEntry(): StoredKeyEntry {
  return {
    key: null, hmac_key: null, time: ZERO_TIME, ec_x: null, ec_y: null, ec_d: null, rsa_key: null, rsa_public_key: null,
    public_key: '', convergent_version: 0, creation_time: 0,
  };
}

// ---- the public description (GET keys/<name>) ----

const RSA_NAMES: Record<string, string> = { 'rsa-2048': 'rsa-2048', 'rsa-3072': 'rsa-3072', 'rsa-4096': 'rsa-4096' };

/**
 * Vault's key description: no key material; `keys` maps each version from
 * min_decryption_version on to its creation time (symmetric keys) or to its
 * public key and creation time (asymmetric keys). `derivedPublicKey` gives
 * derived Ed25519 keys their per-context public key.
 */
export function describeKey(policy: KeyPolicy, derivedPublicKey?: (version: number) => string): Record<string, unknown> {
  const data: Record<string, unknown> = {
    name: policy.name,
    type: policy.type,
    derived: policy.derived,
    deletion_allowed: policy.deletionAllowed,
    min_available_version: policy.minAvailableVersion,
    min_decryption_version: policy.minDecryptionVersion,
    min_encryption_version: policy.minEncryptionVersion,
    latest_version: policy.latestVersion,
    exportable: policy.exportable,
    allow_plaintext_backup: policy.allowPlaintextBackup,
    supports_encryption: supportsEncryption(policy.type),
    supports_decryption: supportsDecryption(policy.type),
    supports_signing: supportsSigning(policy.type),
    supports_derivation: supportsDerivation(policy.type),
    auto_rotate_period: policy.autoRotatePeriodSeconds,
    imported_key: policy.imported,
  };
  if (policy.keySize) data.key_size = policy.keySize;
  if (policy.imported) data.imported_key_allow_rotation = policy.allowImportedKeyRotation;
  if (policy.backupInfo) data.backup_info = { ...policy.backupInfo };
  if (policy.restoreInfo) data.restore_info = { ...policy.restoreInfo };
  if (policy.derived) {
    if (policy.kdf === KDF_HKDF_SHA256) data.kdf = 'hkdf_sha256';
    else {
      data.kdf = 'hmac-sha256-counter';
      data.kdf_mode = 'hmac-sha256-counter';
    }
    data.convergent_encryption = policy.convergentEncryption;
    if (policy.convergentEncryption) data.convergent_encryption_version = policy.convergentVersion;
  }
  const live = [...policy.versions.entries()].filter(([version]) => version >= policy.minDecryptionVersion);
  if (isSymmetricCipher(policy.type)) {
    data.keys = Object.fromEntries(live.map(([version, entry]) => [String(version), entry.createdAt]));
  } else if (policy.type !== 'hmac') {
    data.keys = Object.fromEntries(live.map(([version, entry]) => {
      let publicKey = entry.formattedPublicKey;
      if (isRsa(policy.type)) publicKey = publicKeyPem(entry);
      if (policy.type === 'ed25519' && policy.derived) publicKey = derivedPublicKey ? derivedPublicKey(version) : '';
      const name = isEcdsa(policy.type) ? CURVES[policy.type].jwk : policy.type === 'ed25519' ? 'ed25519' : RSA_NAMES[policy.type];
      return [String(version), { name, public_key: publicKey, certificate_chain: '', creation_time: entry.creationTime }];
    }));
  }
  return data;
}

export { isPrivateKeyMissing };
