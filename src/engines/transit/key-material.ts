/**
 * One version of a transit key: its material in Vault's terms (what Vault's
 * KeyEntry stores: raw key bytes, an HMAC key, EC and RSA numbers, the
 * formatted public key) plus the parsed Node KeyObjects, built once when
 * the version is created or loaded, so no request parses a key.
 *
 * Key material comes from the request's random source (the HSM mixed with
 * the OS when the mount has external_entropy_access): symmetric and HMAC
 * keys, Ed25519 seeds and ECDSA scalars are drawn from it directly. RSA
 * primes come from OpenSSL's generator, which Node does not let a caller
 * feed (Vault draws them from its random reader).
 */
import { createECDH, createPrivateKey, createPublicKey, createSecretKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { internalError } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { rfc3339NanoNow } from '../../core/wrapping.ts';
import { bigFromBytes, bigToBytes, CURVE_PARAMS } from './ecdsa-digest.ts';
import {
  cipherKeyBytes, CURVES, isEcdsa, isRsa, isSymmetricCipher, RSA_BITS, type EcdsaType, type KeyType, type RsaType,
} from './key-types.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const HMAC_KEY_BYTES = 32;

export interface RsaNumbers {
  n: bigint;
  e: number;
  /** Private part; absent for an imported public key. */
  d?: bigint;
  p?: bigint;
  q?: bigint;
  dp?: bigint;
  dq?: bigint;
  qi?: bigint;
}

export interface EcNumbers {
  x: bigint;
  y: bigint;
  /** Private scalar; absent for an imported public key. */
  d?: bigint;
}

export interface KeyVersion {
  /** Symmetric cipher key, HMAC-type key, or the 64-byte Ed25519 private key (seed || public); absent for public-only versions. */
  readonly key?: Buffer;
  /** This version's HMAC key (for hmac keys, the key itself). */
  readonly hmacKey: Buffer;
  /** Creation time as Go's RFC3339Nano (Vault's `time`). */
  readonly creationTime: string;
  /** Creation time in Unix seconds (Vault's `creation_time`). */
  readonly createdAt: number;
  readonly ec?: EcNumbers;
  readonly rsa?: RsaNumbers;
  /** Vault's FormattedPublicKey: PEM for ECDSA, base64 for Ed25519, '' otherwise (RSA's is derived). */
  readonly formattedPublicKey: string;
  /** For convergent keys, the convergent scheme of this version (0: the policy's). */
  readonly convergentVersion: number;
  /** Parsed forms (never stored). */
  readonly secret?: KeyObject;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
}

/** Vault's IsPrivateKeyMissing. */
export function isPrivateKeyMissing(entry: KeyVersion): boolean {
  return entry.key === undefined && entry.ec?.d === undefined && entry.rsa?.d === undefined;
}

const b64url = (value: bigint, length?: number) => {
  const bytes = length === undefined ? bigToBytes(value, Math.max(1, Math.ceil(value.toString(16).length / 2))) : bigToBytes(value, length);
  return bytes.toString('base64url');
};
const fromB64url = (text: string | undefined) => bigFromBytes(Buffer.from(text ?? '', 'base64url'));

// PKCS#8 wrapper for a raw Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 private key object of a 32-byte seed, and Go's 64-byte private key (seed || public). */
export function ed25519FromSeed(seed: Buffer): { privateKey: KeyObject; publicKey: KeyObject; goKey: Buffer; publicRaw: Buffer } {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const publicRaw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { privateKey, publicKey, goKey: Buffer.concat([seed, publicRaw]), publicRaw };
}

function ecKeyObjects(type: EcdsaType, ec: EcNumbers): { privateKey?: KeyObject; publicKey: KeyObject } {
  const size = CURVES[type].bytes;
  const jwk = { kty: 'EC', crv: CURVES[type].jwk, x: b64url(ec.x, size), y: b64url(ec.y, size) };
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  if (ec.d === undefined) return { publicKey };
  return { publicKey, privateKey: createPrivateKey({ key: { ...jwk, d: b64url(ec.d, size) }, format: 'jwk' }) };
}

function rsaKeyObjects(rsa: RsaNumbers): { privateKey?: KeyObject; publicKey: KeyObject } {
  const jwk = { kty: 'RSA', n: b64url(rsa.n), e: b64url(BigInt(rsa.e)) };
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  if (rsa.d === undefined) return { publicKey };
  const full = complete(rsa);
  return {
    publicKey,
    privateKey: createPrivateKey({
      key: { ...jwk, d: b64url(full.d!), p: b64url(full.p!), q: b64url(full.q!), dp: b64url(full.dp!), dq: b64url(full.dq!), qi: b64url(full.qi!) },
      format: 'jwk',
    }),
  };
}

/** Fills in the CRT values of an RSA private key when a stored form left them out. */
function complete(rsa: RsaNumbers): RsaNumbers {
  if (rsa.dp !== undefined && rsa.dq !== undefined && rsa.qi !== undefined) return rsa;
  if (rsa.p === undefined || rsa.q === undefined || rsa.d === undefined) throw internalError('stored RSA key is missing its primes');
  const { p, q, d } = rsa;
  return { ...rsa, dp: d % (p - 1n), dq: d % (q - 1n), qi: modInverse(q, p) };
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return ((oldS % m) + m) % m;
}

const PEM_PUBLIC = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;

/** Adds the parsed KeyObjects to a version's material (done once, at creation or load). */
export function withKeyObjects(type: KeyType, entry: Omit<KeyVersion, 'secret' | 'privateKey' | 'publicKey'>): KeyVersion {
  if (isSymmetricCipher(type) || type === 'hmac') {
    return entry.key === undefined ? entry : { ...entry, secret: createSecretKey(entry.key) };
  }
  if (type === 'ed25519') {
    if (entry.key !== undefined) {
      const { privateKey, publicKey } = ed25519FromSeed(entry.key.subarray(0, 32));
      return { ...entry, privateKey, publicKey };
    }
    const raw = Buffer.from(entry.formattedPublicKey, 'base64');
    return { ...entry, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' }) };
  }
  if (isEcdsa(type)) {
    if (!entry.ec) throw internalError('stored ECDSA key version has no key numbers');
    return { ...entry, ...ecKeyObjects(type, entry.ec) };
  }
  if (isRsa(type)) {
    if (!entry.rsa) throw internalError('stored RSA key version has no key numbers');
    return { ...entry, ...rsaKeyObjects(entry.rsa) };
  }
  return entry;
}

async function draw(random: RandomSource, n: number): Promise<Buffer> {
  const bytes = await random(n);
  if (bytes.length !== n) throw internalError('entropy source returned too few bytes');
  return Buffer.from(bytes);
}

/** An ECDSA private scalar in [1, n-1] from the random source (rejection sampling, top bits masked). */
async function ecScalar(type: EcdsaType, random: RandomSource): Promise<bigint> {
  const { n, bits } = CURVE_PARAMS[type];
  const length = Math.ceil(bits / 8);
  const excess = length * 8 - bits;
  for (;;) {
    const bytes = await draw(random, length);
    bytes[0] &= 0xff >> excess;
    const d = bigFromBytes(bytes);
    if (d > 0n && d < n) return d;
  }
}

/** The public point of an ECDSA private scalar. */
export function ecPublicPoint(type: EcdsaType, d: bigint): { x: bigint; y: bigint } {
  const ecdh = createECDH(CURVES[type].node);
  ecdh.setPrivateKey(bigToBytes(d, CURVES[type].bytes));
  const point = ecdh.getPublicKey();
  const size = (point.length - 1) / 2;
  return { x: bigFromBytes(point.subarray(1, 1 + size)), y: bigFromBytes(point.subarray(1 + size)) };
}

/** RSA numbers from a Node key object (private or public). */
export function rsaNumbersOf(key: KeyObject): RsaNumbers {
  const jwk = key.export({ format: 'jwk' });
  const numbers: RsaNumbers = { n: fromB64url(jwk.n), e: Number(fromB64url(jwk.e)) };
  if (jwk.d === undefined) return numbers;
  return { ...numbers, d: fromB64url(jwk.d), p: fromB64url(jwk.p), q: fromB64url(jwk.q), dp: fromB64url(jwk.dp), dq: fromB64url(jwk.dq), qi: fromB64url(jwk.qi) };
}

/** EC numbers from a Node key object (private or public). */
export function ecNumbersOf(key: KeyObject): EcNumbers {
  const jwk = key.export({ format: 'jwk' });
  const numbers: EcNumbers = { x: fromB64url(jwk.x), y: fromB64url(jwk.y) };
  return jwk.d === undefined ? numbers : { ...numbers, d: fromB64url(jwk.d) };
}

function creation(nowMs: number): Pick<KeyVersion, 'creationTime' | 'createdAt'> {
  return { creationTime: rfc3339NanoNow(nowMs), createdAt: Math.floor(nowMs / 1000) };
}

export interface NewVersionOptions {
  /** HMAC key size in bytes (hmac keys only). */
  keySize: number;
  /** Convergent scheme to record on the version (0: none). */
  convergentVersion: number;
  nowMs?: number;
}

/** Generates a new version of a key of `type`, as Vault's RotateInMemory does. */
export async function generateKeyVersion(type: KeyType, random: RandomSource, opts: NewVersionOptions): Promise<KeyVersion> {
  const base = { ...creation(opts.nowMs ?? Date.now()), convergentVersion: opts.convergentVersion, formattedPublicKey: '' };
  if (isSymmetricCipher(type)) {
    const material = await draw(random, cipherKeyBytes(type) + HMAC_KEY_BYTES);
    return withKeyObjects(type, { ...base, key: material.subarray(0, cipherKeyBytes(type)), hmacKey: material.subarray(cipherKeyBytes(type)) });
  }
  if (type === 'hmac') {
    const key = await draw(random, opts.keySize);
    return withKeyObjects(type, { ...base, key, hmacKey: key });
  }
  const hmacKey = await draw(random, HMAC_KEY_BYTES);
  if (type === 'ed25519') {
    const { goKey, publicRaw } = ed25519FromSeed(await draw(random, 32));
    return withKeyObjects(type, { ...base, hmacKey, key: goKey, formattedPublicKey: publicRaw.toString('base64') });
  }
  if (isEcdsa(type)) {
    const d = await ecScalar(type, random);
    const ec = { ...ecPublicPoint(type, d), d };
    const version = withKeyObjects(type, { ...base, hmacKey, ec });
    return { ...version, formattedPublicKey: PEM_PUBLIC(version.publicKey!) };
  }
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: RSA_BITS[type as RsaType], publicExponent: 65537 });
  return withKeyObjects(type, { ...base, hmacKey, rsa: rsaNumbersOf(privateKey) });
}

/** The PEM public key Vault shows (and exports by default) for an asymmetric version. */
export function publicKeyPem(entry: KeyVersion): string {
  if (!entry.publicKey) return '';
  return PEM_PUBLIC(entry.publicKey);
}
