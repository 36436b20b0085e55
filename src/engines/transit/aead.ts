/**
 * The two AEAD ciphers behind transit keys. Sealed bytes are
 * `nonce (12) || ciphertext || tag (16)`, the layout Vault uses for both
 * aes256-gcm96 and chacha20-poly1305. Optional associated data (Vault's
 * `associated_data`) is authenticated with the ciphertext but not stored in
 * it: opening needs the same bytes again. No associated data and an empty
 * one are the same thing, as in Go's AEAD interface.
 */
import { createCipheriv, createDecipheriv, type CipherGCM, type DecipherGCM } from 'node:crypto';
import type { KeyType } from './key-policy.ts';

export const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const NODE_CIPHER: Record<KeyType, 'aes-256-gcm' | 'chacha20-poly1305'> = {
  'aes256-gcm96': 'aes-256-gcm',
  'chacha20-poly1305': 'chacha20-poly1305',
};

/** Key types whose cipher can bind associated data (every type Tresor has; Vault's AssociatedDataSupported). */
export const ASSOCIATED_DATA_SUPPORTED: Readonly<Record<KeyType, boolean>> = {
  'aes256-gcm96': true,
  'chacha20-poly1305': true,
};

/** Vault's message when the tag does not verify (wrong key, tampered bytes or other associated data): Go's text per cipher. */
export const AUTHENTICATION_FAILED: Readonly<Record<KeyType, string>> = {
  'aes256-gcm96': 'cipher: message authentication failed',
  'chacha20-poly1305': 'chacha20poly1305: message authentication failed',
};

/** Encrypts `plaintext` under `key` with the caller's fresh 12-byte `nonce`, binding `aad`; returns nonce||ct||tag. */
export function aeadSeal(type: KeyType, key: Buffer, nonce: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  // Node's typings only model GCM's options; chacha20-poly1305 has the same shape.
  const cipher = createCipheriv(NODE_CIPHER[type] as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES }) as CipherGCM;
  if (aad?.length) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/** Decrypts nonce||ct||tag with the `aad` it was sealed with; undefined when the bytes are too short or fail authentication. */
export function aeadOpen(type: KeyType, key: Buffer, sealed: Buffer, aad?: Buffer): Buffer | undefined {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv(NODE_CIPHER[type] as 'aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES }) as DecipherGCM;
  decipher.setAuthTag(tag);
  if (aad?.length) decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}
