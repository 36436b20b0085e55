/**
 * The AEAD ciphers behind symmetric transit keys: AES-128/256-GCM,
 * ChaCha20-Poly1305 and XChaCha20-Poly1305. Sealed bytes are
 * `nonce || ciphertext || tag (16)`, the layout Vault uses (12-byte nonces,
 * 24 for XChaCha20). Optional associated data (Vault's `associated_data`)
 * is authenticated with the ciphertext but not stored in it: opening needs
 * the same bytes again. No associated data and an empty one are the same
 * thing, as in Go's AEAD interface.
 *
 * XChaCha20-Poly1305 (RFC draft-irtf-cfrg-xchacha) is ChaCha20-Poly1305
 * under a subkey from HChaCha20; HChaCha20 is read off one block of Node's
 * raw ChaCha20 keystream (the block minus its input state).
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM, type KeyObject } from 'node:crypto';
import { nonceBytes, type SymmetricCipherType } from './key-types.ts';

const TAG_BYTES = 16;
const NONCE_POOL_BYTES = 16 * 1024;

let noncePool = Buffer.alloc(0);
let nonceOffset = 0;

/**
 * `n` fresh random bytes for a nonce. Drawn from a pool filled by the OS
 * generator 16 KiB at a time (one call per batch instead of one per item);
 * every byte is handed out once, and nonces are public anyway.
 */
export function freshNonce(n: number): Buffer {
  if (nonceOffset + n > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    nonceOffset = 0;
  }
  const nonce = noncePool.subarray(nonceOffset, nonceOffset + n);
  nonceOffset += n;
  return nonce;
}

const NODE_CIPHER: Record<SymmetricCipherType, 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305'> = {
  'aes128-gcm96': 'aes-128-gcm',
  'aes256-gcm96': 'aes-256-gcm',
  'chacha20-poly1305': 'chacha20-poly1305',
  'xchacha20-poly1305': 'chacha20-poly1305',
};

/** Vault's message when the tag does not verify (wrong key, tampered bytes or other associated data): Go's text per cipher. */
export const AUTHENTICATION_FAILED: Readonly<Record<SymmetricCipherType, string>> = {
  'aes128-gcm96': 'cipher: message authentication failed',
  'aes256-gcm96': 'cipher: message authentication failed',
  'chacha20-poly1305': 'chacha20poly1305: message authentication failed',
  'xchacha20-poly1305': 'chacha20poly1305: message authentication failed',
};

const SIGMA = Buffer.from('expand 32-byte k', 'latin1');
const ZERO_BLOCK = Buffer.alloc(64);
const STATE_WORDS = [0, 1, 2, 3, 12, 13, 14, 15];

/** HChaCha20(key, nonce16): a 32-byte subkey. */
export function hchacha20(key: Buffer, nonce16: Buffer): Buffer {
  // Node's chacha20 IV is counter || nonce (words 12..15), exactly HChaCha20's 16-byte input.
  const block = createCipheriv('chacha20', key, nonce16).update(ZERO_BLOCK);
  const state = Buffer.concat([SIGMA, key, nonce16]);
  const out = Buffer.alloc(32);
  STATE_WORDS.forEach((word, i) => out.writeUInt32LE((block.readUInt32LE(word * 4) - state.readUInt32LE(word * 4)) >>> 0, i * 4));
  return out;
}

/** The key and 12-byte nonce the underlying cipher runs with. */
function cipherInput(type: SymmetricCipherType, key: Buffer | KeyObject, nonce: Buffer): { key: Buffer | KeyObject; nonce: Buffer } {
  if (type !== 'xchacha20-poly1305') return { key, nonce };
  const raw = Buffer.isBuffer(key) ? key : key.export();
  const subkey = hchacha20(raw, nonce.subarray(0, 16));
  return { key: subkey, nonce: Buffer.concat([Buffer.alloc(4), nonce.subarray(16, 24)]) };
}

/** Encrypts `plaintext` under `key` with the caller's nonce, binding `aad`; returns nonce||ct||tag (or ct||tag with `omitNonce`). */
export function aeadSeal(type: SymmetricCipherType, key: Buffer | KeyObject, nonce: Buffer, plaintext: Buffer, aad?: Buffer, omitNonce = false): Buffer {
  const input = cipherInput(type, key, nonce);
  // Node's typings only model GCM's options; chacha20-poly1305 has the same shape.
  const cipher = createCipheriv(NODE_CIPHER[type] as 'aes-256-gcm', input.key, input.nonce, { authTagLength: TAG_BYTES }) as CipherGCM;
  if (aad?.length) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return omitNonce ? Buffer.concat([body, final, cipher.getAuthTag()]) : Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/**
 * Decrypts ct||tag under `nonce` with the `aad` it was sealed with;
 * undefined when the bytes are too short or fail authentication.
 */
export function aeadOpen(type: SymmetricCipherType, key: Buffer | KeyObject, nonce: Buffer, sealed: Buffer, aad?: Buffer): Buffer | undefined {
  if (sealed.length < TAG_BYTES || nonce.length !== nonceBytes(type)) return undefined;
  const input = cipherInput(type, key, nonce);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv(NODE_CIPHER[type] as 'aes-256-gcm', input.key, input.nonce, { authTagLength: TAG_BYTES }) as DecipherGCM;
  decipher.setAuthTag(tag);
  if (aad?.length) decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return undefined;
  }
}
