/**
 * Transit key types: Vault's names, the numbers Vault stores them under (its
 * keysutil iota, so a Vault backup restores here and the reverse), and what
 * each type can do (Vault's EncryptionSupported, SigningSupported, ...).
 */
export const KEY_TYPES = [
  'aes128-gcm96',
  'aes256-gcm96',
  'chacha20-poly1305',
  'xchacha20-poly1305',
  'ed25519',
  'ecdsa-p256',
  'ecdsa-p384',
  'ecdsa-p521',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
  'hmac',
] as const;

export type KeyType = (typeof KEY_TYPES)[number];

/**
 * Vault's stored type numbers. xchacha20-poly1305 is not a Vault type (it
 * is OpenBao's, whose number 11 Vault gives to hmac): Tresor stores it as
 * 100, a number Vault does not use.
 */
export const TYPE_NUMBER: Readonly<Record<KeyType, number>> = {
  'aes256-gcm96': 0,
  'ecdsa-p256': 1,
  ed25519: 2,
  'rsa-2048': 3,
  'rsa-4096': 4,
  'chacha20-poly1305': 5,
  'ecdsa-p384': 6,
  'ecdsa-p521': 7,
  'aes128-gcm96': 8,
  'rsa-3072': 9,
  hmac: 11,
  'xchacha20-poly1305': 100,
};

const BY_NUMBER = new Map<number, KeyType>(Object.entries(TYPE_NUMBER).map(([name, n]) => [n, name as KeyType]));

export function keyTypeOfNumber(n: number): KeyType | undefined {
  return BY_NUMBER.get(n);
}

export function isKeyType(value: unknown): value is KeyType {
  return typeof value === 'string' && (KEY_TYPES as readonly string[]).includes(value);
}

export type SymmetricCipherType = 'aes128-gcm96' | 'aes256-gcm96' | 'chacha20-poly1305' | 'xchacha20-poly1305';
export type EcdsaType = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521';
export type RsaType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export const isSymmetricCipher = (t: KeyType): t is SymmetricCipherType =>
  t === 'aes128-gcm96' || t === 'aes256-gcm96' || t === 'chacha20-poly1305' || t === 'xchacha20-poly1305';
export const isEcdsa = (t: KeyType): t is EcdsaType => t === 'ecdsa-p256' || t === 'ecdsa-p384' || t === 'ecdsa-p521';
export const isRsa = (t: KeyType): t is RsaType => t === 'rsa-2048' || t === 'rsa-3072' || t === 'rsa-4096';
export const isAsymmetric = (t: KeyType) => t === 'ed25519' || isEcdsa(t) || isRsa(t);

/** What a key type supports, as Vault reports it in `supports_*` and checks before each operation. */
export const supportsEncryption = (t: KeyType) => isSymmetricCipher(t) || isRsa(t);
export const supportsDecryption = supportsEncryption;
export const supportsSigning = (t: KeyType) => t === 'ed25519' || isEcdsa(t) || isRsa(t);
export const supportsDerivation = (t: KeyType) => isSymmetricCipher(t) || t === 'ed25519';
/** The cipher binds associated data (AEAD). */
export const supportsAssociatedData = (t: KeyType) => isSymmetricCipher(t);
/** Signing hashes the input first (Ed25519 signs the message itself). */
export const hashesSignatureInput = (t: KeyType) => isEcdsa(t) || isRsa(t);
/** A public key alone may be imported (then the key verifies or encrypts only). */
export const importsPublicKey = (t: KeyType) => isEcdsa(t) || isRsa(t) || t === 'ed25519';

/** Bytes of a symmetric cipher key. */
export const cipherKeyBytes = (t: SymmetricCipherType) => (t === 'aes128-gcm96' ? 16 : 32);
/** Bytes of the AEAD nonce. */
export const nonceBytes = (t: SymmetricCipherType) => (t === 'xchacha20-poly1305' ? 24 : 12);

export const RSA_BITS: Readonly<Record<RsaType, number>> = { 'rsa-2048': 2048, 'rsa-3072': 3072, 'rsa-4096': 4096 };

/** Curve names: Node's, Vault's (Go's elliptic names, shown in `keys`), JWK's, and the sizes of their numbers. */
export const CURVES: Readonly<Record<EcdsaType, { node: string; jwk: 'P-256' | 'P-384' | 'P-521'; bytes: number; bits: number }>> = {
  'ecdsa-p256': { node: 'prime256v1', jwk: 'P-256', bytes: 32, bits: 256 },
  'ecdsa-p384': { node: 'secp384r1', jwk: 'P-384', bytes: 48, bits: 384 },
  'ecdsa-p521': { node: 'secp521r1', jwk: 'P-521', bytes: 66, bits: 521 },
};

/** Vault's HMAC key size limits (bytes). */
export const HMAC_MIN_KEY_SIZE = 32;
export const HMAC_MAX_KEY_SIZE = 512;
