/**
 * Signatures with a transit key version (Vault's SignWithOptions and
 * VerifySignatureWithOptions): Ed25519 over the message itself, ECDSA and
 * RSA over a digest (Vault hashes the input first unless it is prehashed).
 * Encodings as Vault's: ECDSA `asn1` (DER, standard base64) or `jws` (r||s,
 * unpadded URL-safe base64, which `jws` gives every key type's signature);
 * RSA PSS (salt "auto" = as long as possible when signing, detected when
 * verifying; "hash" = the digest's length; or a number) or PKCS#1 v1.5
 * (with the digest's DigestInfo; hash "none" signs the bare digest).
 *
 * Node hashes what it signs, so a prehashed digest is signed through the
 * raw RSA primitives with the padding built here, and for ECDSA through
 * ecdsa-digest.ts.
 */
import { constants, createHash, privateEncrypt, publicDecrypt, randomBytes, sign as nodeSign, timingSafeEqual, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { badRequest, quoted } from '../../core/errors.ts';
import { bigFromBytes, bigToBytes, signDigest, verifyDigest } from './ecdsa-digest.ts';
import { CURVES, isEcdsa, isRsa, RSA_BITS, type EcdsaType, type RsaType } from './key-types.ts';
import type { KeyVersion } from './key-material.ts';
import type { KeyType } from './key-policy.ts';
import { HASH_BYTES } from './hash.ts';

export type Marshaling = 'asn1' | 'jws';

export interface SignatureOptions {
  /** Node's hash name; undefined for "none". */
  hash: string | undefined;
  prehashed: boolean;
  marshaling: Marshaling;
  /** Go's salt length: 0 auto, -1 equal to the hash, else the length. */
  saltLength: number;
  /** '' means pss. */
  signatureAlgorithm: string;
}

// ---- DER for ECDSA signatures ----

function derInteger(value: bigint): Buffer {
  let bytes = bigToBytes(value, Math.max(1, Math.ceil(value.toString(16).length / 2)));
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeDerSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** Reads a DER length at `at`; undefined when malformed (not minimal, or past the end). */
function readLength(der: Buffer, at: number): { length: number; next: number } | undefined {
  if (at >= der.length) return undefined;
  const first = der[at];
  if (first < 0x80) return { length: first, next: at + 1 };
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + 1 + count > der.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + der[at + 1 + i];
  if (length < 0x80 || der[at + 1] === 0) return undefined;
  return { length, next: at + 1 + count };
}

function readInteger(der: Buffer, at: number): { value: bigint; next: number } | undefined {
  if (der[at] !== 0x02) return undefined;
  const len = readLength(der, at + 1);
  if (!len || len.length === 0 || len.next + len.length > der.length) return undefined;
  const bytes = der.subarray(len.next, len.next + len.length);
  // Minimal encoding, as Go's asn1 demands.
  if (bytes.length > 1 && ((bytes[0] === 0 && !(bytes[1] & 0x80)) || (bytes[0] === 0xff && bytes[1] & 0x80))) return undefined;
  let value = bigFromBytes(bytes);
  if (bytes[0] & 0x80) value -= 1n << BigInt(bytes.length * 8);
  return { value, next: len.next + len.length };
}

/** Go's asn1.Unmarshal of an ECDSA signature, with Vault's two error texts. */
export function decodeDerSignature(der: Buffer): { r: bigint; s: bigint } {
  const invalid = () => badRequest('supplied signature is invalid');
  if (der[0] !== 0x30) throw invalid();
  const seq = readLength(der, 1);
  if (!seq || seq.next + seq.length > der.length) throw invalid();
  const r = readInteger(der, seq.next);
  if (!r) throw invalid();
  const s = readInteger(der, r.next);
  if (!s || s.next > seq.next + seq.length) throw invalid();
  if (seq.next + seq.length < der.length) throw badRequest('supplied signature contains extra data');
  return { r: r.value, s: s.value };
}

// ---- RSA padding for prehashed digests ----

export const DIGEST_INFO_PREFIX: Readonly<Record<string, string>> = {
  sha1: '3021300906052b0e03021a05000414',
  sha224: '302d300d06096086480165030402040500041c',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
  'sha3-224': '302d300d06096086480165030402070500041c',
  'sha3-256': '3031300d060960864801650304020805000420',
  'sha3-384': '3041300d060960864801650304020905000430',
  'sha3-512': '3051300d060960864801650304020a05000440',
};

function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  for (let counter = 0; total < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 9.1.1) of a digest, left-padded to the modulus size. */
function pssEncode(hash: string, digest: Buffer, modBits: number, saltLength: number): Buffer {
  const hLen = digest.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + saltLength + 2) throw badRequest('crypto/rsa: key size too small for PSS signature');
  const salt = randomBytes(saltLength);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - saltLength - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modBits / 8);
  return em.length === k ? em : Buffer.concat([Buffer.alloc(k - em.length), em]);
}

/** EMSA-PSS-VERIFY; `saltLength` -2 detects the salt's length. */
function pssVerify(hash: string, digest: Buffer, encoded: Buffer, modBits: number, saltLength: number): boolean {
  const hLen = digest.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const em = encoded.subarray(encoded.length - emLen);
  if (encoded.length > emLen && encoded.subarray(0, encoded.length - emLen).some((b) => b !== 0)) return false;
  if (emLen < hLen + 2 || em[em.length - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (maskedDb[0] & ~topMask & 0xff) return false;
  const mask = mgf1(hash, h, maskedDb.length);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i] ^ mask[i];
  db[0] &= topMask;
  let one = 0;
  while (one < db.length && db[one] === 0) one++;
  if (one >= db.length || db[one] !== 1) return false;
  const salt = db.subarray(one + 1);
  if (saltLength >= 0 && salt.length !== saltLength) return false;
  const expected = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  return timingSafeEqual(expected, h);
}

// ---- salt lengths ----

/** Go's bounds for a PSS salt length: from -1 (hash length) to the largest the key allows. */
function validSaltLength(type: RsaType, hash: string, saltLength: number): boolean {
  const max = Math.ceil((RSA_BITS[type] - 1) / 8) - 2 - (HASH_BYTES[hash] ?? 0);
  return saltLength >= -1 && saltLength <= max;
}

/** Go's salt length in Node's terms for signing (-2: as long as possible) and verifying (-2: detect). */
const nodeSaltLength = (saltLength: number) => (saltLength === 0 ? constants.RSA_PSS_SALTLEN_AUTO : saltLength === -1 ? constants.RSA_PSS_SALTLEN_DIGEST : saltLength);

function concreteSaltLength(type: RsaType, hash: string, saltLength: number): number {
  if (saltLength === -1) return HASH_BYTES[hash];
  if (saltLength === 0) return Math.ceil((RSA_BITS[type] - 1) / 8) - 2 - HASH_BYTES[hash];
  return saltLength;
}

const RAW_URL = /^[A-Za-z0-9_-]*$/;

/** Encodes a signature's bytes as Vault does for the marshaling. */
export function encodeSignature(sig: Buffer, marshaling: Marshaling): string {
  return marshaling === 'jws' ? sig.toString('base64url') : sig.toString('base64');
}

/** Decodes a signature's bytes (standard base64 for asn1, unpadded URL-safe for jws); undefined when malformed. */
export function decodeSignature(text: string, marshaling: Marshaling, stdDecode: (t: string) => Buffer | undefined): Buffer | undefined {
  if (marshaling === 'jws') return RAW_URL.test(text) && text.length % 4 !== 1 ? Buffer.from(text, 'base64url') : undefined;
  return stdDecode(text);
}

function checkRsaAlgorithm(algorithm: string): 'pss' | 'pkcs1v15' {
  const chosen = algorithm === '' ? 'pss' : algorithm;
  if (chosen !== 'pss' && chosen !== 'pkcs1v15') throw badRequest(`unsupported rsa signature algorithm ${quoted(algorithm)}`);
  return chosen;
}

function requireDigestLength(hash: string | undefined, input: Buffer): void {
  if (hash !== undefined && input.length !== HASH_BYTES[hash]) throw badRequest('crypto/rsa: input must be hashed message');
}

/**
 * Signs `input` (the message, already hashed when `opts.prehashed`) with a
 * version's private key; `privateKey` overrides it (derived Ed25519 keys).
 */
export function signWith(type: KeyType, entry: KeyVersion, input: Buffer, opts: SignatureOptions, privateKey = entry.privateKey): Buffer {
  if (!privateKey) throw badRequest('requested version for signing does not contain a private part');
  if (type === 'ed25519') return nodeSign(null, input, privateKey);
  if (isEcdsa(type)) {
    const dsaEncoding = opts.marshaling === 'jws' ? 'ieee-p1363' : 'der';
    if (!opts.prehashed && opts.hash !== undefined) return nodeSign(opts.hash, input, { key: privateKey, dsaEncoding });
    const { r, s } = signDigest(type, input, entry.ec!.d!);
    if (dsaEncoding === 'der') return encodeDerSignature(r, s);
    const size = CURVES[type].bytes;
    return Buffer.concat([bigToBytes(r, size), bigToBytes(s, size)]);
  }
  if (!isRsa(type)) throw badRequest(`message signing not supported for key type ${type}`);
  const algorithm = checkRsaAlgorithm(opts.signatureAlgorithm);
  if (algorithm === 'pss') {
    if (opts.hash === undefined) throw badRequest('unsupported hash algorithm');
    if (!validSaltLength(type, opts.hash, opts.saltLength)) throw badRequest(`requested salt length ${opts.saltLength} is invalid`);
    if (!opts.prehashed) {
      return nodeSign(opts.hash, input, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: nodeSaltLength(opts.saltLength) });
    }
    requireDigestLength(opts.hash, input);
    const encoded = pssEncode(opts.hash, input, RSA_BITS[type], concreteSaltLength(type, opts.hash, opts.saltLength));
    return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encoded);
  }
  if (!opts.prehashed && opts.hash !== undefined) return nodeSign(opts.hash, input, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
  requireDigestLength(opts.hash, input);
  const prefix = opts.hash === undefined ? Buffer.alloc(0) : Buffer.from(DIGEST_INFO_PREFIX[opts.hash], 'hex');
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([prefix, input]));
}

/** Verifies a signature's bytes over `input`; `publicKey` overrides the version's (derived Ed25519 keys). */
export function verifyWith(type: KeyType, entry: KeyVersion, input: Buffer, sig: Buffer, opts: SignatureOptions, publicKey: KeyObject | undefined = entry.publicKey): boolean {
  if (!publicKey) return false;
  if (type === 'ed25519') {
    if (sig.length !== 64) return false;
    return nodeVerify(null, input, publicKey, sig);
  }
  if (isEcdsa(type)) return verifyEcdsa(type, entry, input, sig, opts, publicKey);
  if (!isRsa(type)) return false;
  const algorithm = checkRsaAlgorithm(opts.signatureAlgorithm);
  const k = RSA_BITS[type] / 8;
  if (algorithm === 'pss') {
    if (opts.hash === undefined) throw badRequest('unsupported hash algorithm');
    if (!validSaltLength(type, opts.hash, opts.saltLength)) throw badRequest(`requested salt length ${opts.saltLength} is invalid`);
    if (sig.length !== k) return false;
    if (!opts.prehashed) {
      return nodeVerify(opts.hash, input, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: nodeSaltLength(opts.saltLength) }, sig);
    }
    if (input.length !== HASH_BYTES[opts.hash]) return false;
    const saltLength = opts.saltLength === 0 ? -2 : concreteSaltLength(type, opts.hash, opts.saltLength);
    try {
      return pssVerify(opts.hash, input, publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, sig), RSA_BITS[type], saltLength);
    } catch {
      return false;
    }
  }
  if (sig.length !== k) return false;
  if (!opts.prehashed && opts.hash !== undefined) {
    return nodeVerify(opts.hash, input, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
  }
  const prefix = opts.hash === undefined ? Buffer.alloc(0) : Buffer.from(DIGEST_INFO_PREFIX[opts.hash], 'hex');
  const expected = Buffer.concat([prefix, input]);
  try {
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
    return recovered.length === expected.length && timingSafeEqual(recovered, expected);
  } catch {
    return false;
  }
}

function verifyEcdsa(type: EcdsaType, entry: KeyVersion, input: Buffer, sig: Buffer, opts: SignatureOptions, publicKey: KeyObject): boolean {
  let r: bigint;
  let s: bigint;
  if (opts.marshaling === 'asn1') {
    ({ r, s } = decodeDerSignature(sig));
  } else {
    const half = Math.floor(sig.length / 2);
    r = bigFromBytes(sig.subarray(0, half));
    s = bigFromBytes(sig.subarray(half));
  }
  if (opts.prehashed || opts.hash === undefined) return verifyDigest(type, input, r, s, entry.ec!.x, entry.ec!.y);
  const size = CURVES[type].bytes;
  if (r <= 0n || s <= 0n || r.toString(16).length > size * 2 || s.toString(16).length > size * 2) return false;
  const p1363 = Buffer.concat([bigToBytes(r, size), bigToBytes(s, size)]);
  return nodeVerify(opts.hash, input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, p1363);
}
