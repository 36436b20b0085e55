import pkcs11js from 'pkcs11js';
import { TresorError } from '../../core/errors.ts';

/**
 * The `seal "pkcs11"` stanza after HCL parsing, with Vault's snake_case keys
 * mapped to camelCase (`key_label` → `keyLabel`, ...).
 */
export interface Pkcs11SealConfig {
  lib: string;
  /** Slot ID, decimal or 0x-hex. One of `slot` / `tokenLabel` is required. */
  slot?: string;
  tokenLabel?: string;
  pin: string;
  keyLabel: string;
  /** CKA_ID as hex (an optional 0x prefix is accepted). */
  keyId?: string;
  hmacKeyLabel?: string;
  hmacKeyId?: string;
  /** `CKM_AES_GCM` (default), `CKM_AES_CBC_PAD`, `CKM_RSA_PKCS_OAEP`, or the number. */
  mechanism?: string;
  /** Only `CKM_SHA256_HMAC` is supported. */
  hmacMechanism?: string;
  generateKey: boolean;
  forceRwSession: boolean;
  rsaEncryptLocal: boolean;
  /** sha1, sha224, sha256 (default), sha384, sha512. */
  rsaOaepHash?: string;
  /** Calls in flight to the HSM at once (Vault's `max_parallel`, default 1). */
  maxParallel?: number;
}

/** Minimal logger; `console` fits. Messages never contain secrets. */
export interface SealLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export type SealMechanism = 'aes-gcm' | 'aes-cbc-hmac' | 'rsa-oaep';

export interface RsaOaepHash {
  name: string;
  ckm: number;
  mgf: number;
}

const OAEP_HASHES: Record<string, RsaOaepHash> = {
  sha1: { name: 'sha1', ckm: pkcs11js.CKM_SHA_1, mgf: pkcs11js.CKG_MGF1_SHA1 },
  sha224: { name: 'sha224', ckm: pkcs11js.CKM_SHA224, mgf: pkcs11js.CKG_MGF1_SHA224 },
  sha256: { name: 'sha256', ckm: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256 },
  sha384: { name: 'sha384', ckm: pkcs11js.CKM_SHA384, mgf: pkcs11js.CKG_MGF1_SHA384 },
  sha512: { name: 'sha512', ckm: pkcs11js.CKM_SHA512, mgf: pkcs11js.CKG_MGF1_SHA512 },
};

const MECHANISMS: ReadonlyMap<number, SealMechanism> = new Map([
  [pkcs11js.CKM_AES_GCM, 'aes-gcm'],
  [pkcs11js.CKM_AES_CBC_PAD, 'aes-cbc-hmac'],
  [pkcs11js.CKM_RSA_PKCS_OAEP, 'rsa-oaep'],
]);

/** Config with defaults applied and names turned into numbers. */
export interface ResolvedPkcs11Config {
  lib: string;
  slotId?: bigint;
  tokenLabel?: string;
  pin: string;
  keyLabel: string;
  keyId?: Buffer;
  hmacKeyLabel?: string;
  hmacKeyId?: Buffer;
  mechanism: SealMechanism;
  /** The CKM_* number recorded in every blob. */
  mechanismCode: number;
  generateKey: boolean;
  forceRwSession: boolean;
  rsaEncryptLocal: boolean;
  rsaOaepHash: RsaOaepHash;
  maxParallel: number;
}

const configError = (msg: string) => new TresorError(500, `pkcs11 seal: ${msg}`);

/** Parses `CKM_AES_GCM`, `4231` or `0x1087` into a CKM number. */
export function parseMechanism(value: string, param: string): number {
  const trimmed = value.trim();
  if (/^(0x[0-9a-f]+|\d+)$/i.test(trimmed)) return Number(trimmed);
  const code = (pkcs11js as unknown as Record<string, unknown>)[trimmed.toUpperCase()];
  if (!trimmed.toUpperCase().startsWith('CKM_') || typeof code !== 'number') {
    throw configError(`${param} "${value}" is not a known PKCS#11 mechanism`);
  }
  return code;
}

function parseHexId(value: string | undefined, param: string): Buffer | undefined {
  if (value === undefined || value === '') return undefined;
  const digits = value.replace(/^0x/i, '');
  if (!/^([0-9a-f]{2})+$/i.test(digits)) throw configError(`${param} must be an even number of hex digits`);
  return Buffer.from(digits, 'hex');
}

function parseSlot(value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(value.trim())) throw configError(`slot "${value}" must be a decimal or 0x-hex number`);
  return BigInt(value.trim());
}

/** Validates the config and applies Vault's defaults; throws TresorError(500) naming the bad parameter. */
export function resolveConfig(config: Pkcs11SealConfig): ResolvedPkcs11Config {
  if (!config.lib) throw configError('lib is required');
  if (!config.pin) throw configError('pin is required');
  if (!config.keyLabel) throw configError('key_label is required');
  const slotId = parseSlot(config.slot);
  if (slotId === undefined && !config.tokenLabel) throw configError('one of slot or token_label is required');

  const mechanismCode = parseMechanism(config.mechanism ?? 'CKM_AES_GCM', 'mechanism');
  const mechanism = MECHANISMS.get(mechanismCode);
  if (!mechanism) {
    throw configError(`mechanism "${config.mechanism}" is not supported; use CKM_AES_GCM, CKM_AES_CBC_PAD or CKM_RSA_PKCS_OAEP`);
  }
  if (config.hmacMechanism && parseMechanism(config.hmacMechanism, 'hmac_mechanism') !== pkcs11js.CKM_SHA256_HMAC) {
    throw configError('hmac_mechanism must be CKM_SHA256_HMAC');
  }
  if (mechanism === 'aes-cbc-hmac' && !config.hmacKeyLabel) {
    throw configError('hmac_key_label is required with mechanism CKM_AES_CBC_PAD');
  }
  const hashName = (config.rsaOaepHash ?? 'sha256').toLowerCase();
  const rsaOaepHash = OAEP_HASHES[hashName];
  if (!rsaOaepHash) throw configError(`rsa_oaep_hash "${config.rsaOaepHash}" must be one of ${Object.keys(OAEP_HASHES).join(', ')}`);
  const maxParallel = config.maxParallel ?? 1;
  if (!Number.isInteger(maxParallel) || maxParallel < 1) throw configError('max_parallel must be a positive integer');

  return {
    lib: config.lib,
    slotId,
    tokenLabel: config.tokenLabel || undefined,
    pin: config.pin,
    keyLabel: config.keyLabel,
    keyId: parseHexId(config.keyId, 'key_id'),
    hmacKeyLabel: mechanism === 'aes-cbc-hmac' ? config.hmacKeyLabel : undefined,
    hmacKeyId: mechanism === 'aes-cbc-hmac' ? parseHexId(config.hmacKeyId, 'hmac_key_id') : undefined,
    mechanism,
    mechanismCode,
    generateKey: config.generateKey,
    forceRwSession: config.forceRwSession,
    rsaEncryptLocal: config.rsaEncryptLocal,
    rsaOaepHash,
    maxParallel,
  };
}

/** Maps a CKM number found in a blob back to the seal mechanism, if supported. */
export function mechanismFromCode(code: number): SealMechanism | undefined {
  return MECHANISMS.get(code);
}
