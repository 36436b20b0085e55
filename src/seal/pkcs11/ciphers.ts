import pkcs11js from 'pkcs11js';
import type { RsaOaepHash } from './config.ts';
import type { Pkcs11Api } from './module.ts';

/**
 * Single-shot PKCS#11 operations on a borrowed session. Init is synchronous
 * and cheap; the data call runs on the libuv pool so the event loop never
 * waits on the HSM. Errors are raw pkcs11js errors: the caller names them.
 */

const GCM_TAG_BYTES = 16;

/**
 * Single-part encrypt. pkcs11js hands an empty input to the library as a NULL
 * pointer, which SoftHSM rejects (CKR_ARGUMENTS_BAD), so empty plaintext goes
 * through C_EncryptFinal alone: same output, no data pointer needed.
 */
function encryptAll(m: Pkcs11Api, session: Buffer, data: Buffer, outLength: number): Promise<Buffer> {
  const out = Buffer.alloc(outLength);
  return data.length > 0 ? m.C_EncryptAsync(session, data, out) : m.C_EncryptFinalAsync(session, out);
}
const AES_BLOCK = 16;

const gcmParams = (iv: Buffer, aad?: Buffer): pkcs11js.Mechanism => ({
  mechanism: pkcs11js.CKM_AES_GCM,
  // SoftHSM 2.6 only understands the v2.40 CK_GCM_PARAMS layout.
  parameter: { type: pkcs11js.CK_PARAMS_AES_GCM_v240, iv, aad, ivBits: iv.length * 8, tagBits: GCM_TAG_BYTES * 8 } as pkcs11js.AesGCM,
});

/** AES-GCM encrypt; returns ciphertext || 16-byte tag. */
export function gcmEncrypt(m: Pkcs11Api, session: Buffer, key: Buffer, iv: Buffer, plaintext: Buffer, aad?: Buffer): Promise<Buffer> {
  m.C_EncryptInit(session, gcmParams(iv, aad), key);
  return encryptAll(m, session, plaintext, plaintext.length + GCM_TAG_BYTES);
}

/** AES-GCM decrypt of ciphertext || tag; a bad tag or AAD throws. */
export function gcmDecrypt(m: Pkcs11Api, session: Buffer, key: Buffer, iv: Buffer, sealed: Buffer, aad?: Buffer): Promise<Buffer> {
  m.C_DecryptInit(session, gcmParams(iv, aad), key);
  return m.C_DecryptAsync(session, sealed, Buffer.alloc(Math.max(sealed.length, 1)));
}

/** AES-CBC with PKCS#7 padding, 16-byte IV. */
export function cbcEncrypt(m: Pkcs11Api, session: Buffer, key: Buffer, iv: Buffer, plaintext: Buffer): Promise<Buffer> {
  m.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_CBC_PAD, parameter: iv }, key);
  return encryptAll(m, session, plaintext, plaintext.length + AES_BLOCK);
}

export function cbcDecrypt(m: Pkcs11Api, session: Buffer, key: Buffer, iv: Buffer, ciphertext: Buffer): Promise<Buffer> {
  m.C_DecryptInit(session, { mechanism: pkcs11js.CKM_AES_CBC_PAD, parameter: iv }, key);
  return m.C_DecryptAsync(session, ciphertext, Buffer.alloc(Math.max(ciphertext.length, 1)));
}

/** HMAC-SHA256 with a CKK_GENERIC_SECRET key; returns the 32-byte MAC. */
export function hmacSha256(m: Pkcs11Api, session: Buffer, key: Buffer, data: Buffer): Promise<Buffer> {
  m.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, key);
  return m.C_SignAsync(session, data, Buffer.alloc(32));
}

/** CKZ_DATA_SPECIFIED (PKCS#11 v2.40 §2.1.8); pkcs11js does not export it. */
const CKZ_DATA_SPECIFIED = 1;

const oaepParams = (hash: RsaOaepHash): pkcs11js.Mechanism => ({
  mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
  parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: hash.ckm, mgf: hash.mgf, source: CKZ_DATA_SPECIFIED } as pkcs11js.RsaOAEP,
});

/** RSA-OAEP encrypt with the public key object on the token. */
export function oaepEncrypt(m: Pkcs11Api, session: Buffer, publicKey: Buffer, hash: RsaOaepHash, data: Buffer): Promise<Buffer> {
  m.C_EncryptInit(session, oaepParams(hash), publicKey);
  return m.C_EncryptAsync(session, data, Buffer.alloc(1024));
}

export function oaepDecrypt(m: Pkcs11Api, session: Buffer, privateKey: Buffer, hash: RsaOaepHash, data: Buffer): Promise<Buffer> {
  m.C_DecryptInit(session, oaepParams(hash), privateKey);
  return m.C_DecryptAsync(session, data, Buffer.alloc(1024));
}

/** Raw ECDSA (CKM_ECDSA) over a digest the caller computed; returns r || s. */
export function ecdsaSign(m: Pkcs11Api, session: Buffer, privateKey: Buffer, digest: Buffer): Promise<Buffer> {
  m.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
  return m.C_SignAsync(session, digest, Buffer.alloc(132));
}

/** PKCS#1 v1.5 (CKM_RSA_PKCS) over a DigestInfo the caller built. */
export function rsaPkcs1Sign(m: Pkcs11Api, session: Buffer, privateKey: Buffer, digestInfo: Buffer): Promise<Buffer> {
  m.C_SignInit(session, { mechanism: pkcs11js.CKM_RSA_PKCS }, privateKey);
  return m.C_SignAsync(session, digestInfo, Buffer.alloc(1024));
}

/**
 * Verifies with the public key object on the token; `mechanism` is
 * CKM_ECDSA (signature r || s) or CKM_RSA_PKCS. A wrong signature is false,
 * any other failure throws.
 */
export async function verifyOnToken(m: Pkcs11Api, session: Buffer, publicKey: Buffer, mechanism: number, data: Buffer, signature: Buffer): Promise<boolean> {
  m.C_VerifyInit(session, { mechanism }, publicKey);
  try {
    return await m.C_VerifyAsync(session, data, signature);
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === pkcs11js.CKR_SIGNATURE_INVALID || code === pkcs11js.CKR_SIGNATURE_LEN_RANGE) return false;
    throw err;
  }
}
