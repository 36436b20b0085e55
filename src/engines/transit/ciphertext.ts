/**
 * Encryption and decryption with a transit key (Vault's EncryptWithFactory
 * and DecryptWithFactory), and Vault's envelope:
 * `vault:v<version>:<base64(nonce || ciphertext || tag)>` for the AEAD
 * ciphers, `vault:v<version>:<base64(RSA-OAEP-SHA256 ciphertext)>` for RSA.
 *
 * Random nonces come from the OS generator (a pool, aead.ts), not the request's
 * (possibly HSM-backed) source: a nonce only has to be unique, not secret,
 * and an HSM round trip per item would cap batch throughput. Key material,
 * which must be unpredictable, always comes from the request's source.
 * Convergent keys take their nonce from an HMAC of the plaintext (scheme
 * 3: under a derived key; 2: under the context), or, for scheme 1 (Vault
 * before 0.6.2), from the caller.
 */
import { constants, createHmac, privateDecrypt, publicEncrypt } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import { aeadOpen, aeadSeal, AUTHENTICATION_FAILED, freshNonce } from './aead.ts';
import { entryOf, symmetricKey } from './derive.ts';
import { goBase64Decode } from './go-base64.ts';
import { convergentVersionOf, CURRENT_CONVERGENT_VERSION, templateParts, versionPrefix, type KeyPolicy } from './key-policy.ts';
import {
  cipherKeyBytes, isRsa, isSymmetricCipher, nonceBytes, supportsDecryption, supportsEncryption, type SymmetricCipherType,
} from './key-types.ts';

export const TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';

export interface CryptOptions {
  context?: Buffer;
  nonce?: Buffer;
  associatedData?: Buffer;
}

/** Vault's version checks for encrypting (and HMAC/sign use their own texts): 0 means the latest. */
export function encryptionVersion(policy: KeyPolicy, requested: number | undefined): number {
  const version = requested ?? 0;
  if (version === 0) return policy.latestVersion;
  if (version < 0) throw badRequest('requested version for encryption is negative');
  if (version > policy.latestVersion) throw badRequest('requested version for encryption is higher than the latest key version');
  if (version < policy.minEncryptionVersion) throw badRequest('requested version for encryption is less than the minimum encryption key version');
  return version;
}

/** Encrypts `plaintext` under an already checked `version`; returns the envelope. */
export function encryptToEnvelope(policy: KeyPolicy, version: number, plaintext: Buffer, opts: CryptOptions = {}): string {
  if (!supportsEncryption(policy.type)) throw badRequest(`message encryption not supported for key type ${policy.type}`);
  if (isRsa(policy.type)) {
    const entry = entryOf(policy, version);
    let sealed: Buffer;
    try {
      sealed = publicEncrypt({ key: entry.publicKey!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
    } catch {
      throw badRequest('failed to RSA encrypt the plaintext: crypto/rsa: message too long for RSA key size');
    }
    return versionPrefix(policy, version) + sealed.toString('base64');
  }
  const type = policy.type as SymmetricCipherType;
  const convergent = convergentVersionOf(policy, version);
  const nonce = opts.nonce;
  if (convergent > 2) {
    if (nonce?.length) throw badRequest('nonce provided when not allowed');
  } else if (nonce?.length && (!policy.convergentEncryption || convergent !== 1)) {
    throw badRequest('nonce provided when not allowed');
  }
  const encBytes = cipherKeyBytes(type);
  const hmacBytes = convergent > 2 ? 32 : 0;
  const keyMaterial = symmetricKey(policy, version, opts.context, encBytes + hmacBytes);
  let encKey = keyMaterial;
  let iv: Buffer;
  if (!policy.convergentEncryption) {
    iv = nonce?.length ? checkedNonce(type, nonce) : freshNonce(nonceBytes(type));
  } else {
    if (!Buffer.isBuffer(keyMaterial)) throw badRequest(`unhandled convergent version ${convergent}`);
    encKey = keyMaterial.subarray(0, encBytes);
    iv = convergentNonce(type, convergent, plaintext, keyMaterial.subarray(encBytes), opts);
  }
  const sealed = aeadSeal(type, encKey, iv, plaintext, opts.associatedData, policy.convergentEncryption && convergent === 1);
  return versionPrefix(policy, version) + sealed.toString('base64');
}

function checkedNonce(type: SymmetricCipherType, nonce: Buffer): Buffer {
  if (nonce.length !== nonceBytes(type)) {
    throw badRequest(`base64-decoded nonce must be ${nonceBytes(type)} bytes long but given ${nonce.length} bytes`);
  }
  return nonce;
}

function convergentNonce(type: SymmetricCipherType, convergent: number, plaintext: Buffer, derivedHmacKey: Buffer, opts: CryptOptions): Buffer {
  switch (convergent) {
    case 1:
      if (opts.nonce?.length !== nonceBytes(type)) {
        throw badRequest(`base64-decoded nonce must be ${nonceBytes(type)} bytes long when using convergent encryption with this key`);
      }
      return opts.nonce;
    case 2:
    case CURRENT_CONVERGENT_VERSION: {
      const hmacKey = convergent === 2 ? opts.context : derivedHmacKey;
      if (!hmacKey?.length) throw badRequest('invalid hmac key length of zero');
      return createHmac('sha256', hmacKey).update(plaintext).digest().subarray(0, nonceBytes(type));
    }
    default:
      throw badRequest(`unhandled convergent version ${convergent}`);
  }
}

/**
 * Splits an envelope by the key's version template: Vault's checks and
 * texts (`what` is "ciphertext" or "signature").
 */
export function splitEnvelope(policy: KeyPolicy, value: string, what: 'ciphertext' | 'signature'): { version: number; body: string } {
  const [before, after] = templateParts(policy);
  if (!value.startsWith(before)) throw badRequest(`invalid ${what}: no prefix`);
  const rest = value.slice(before.length);
  const split = rest.indexOf(after);
  if (split === -1) throw badRequest(`invalid ${what}: wrong number of fields`);
  const version = parseGoInt(rest.slice(0, split));
  if (version === undefined) throw badRequest(`invalid ${what}: version number could not be decoded`);
  return { version, body: rest.slice(split + after.length) };
}

/** Go's strconv.Atoi for the sizes a version can have; undefined when it would fail. */
export function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** Decrypts an envelope (Vault's DecryptWithFactory): every failure is a 400 with Vault's text. */
export function decryptEnvelope(policy: KeyPolicy, ciphertext: string, opts: CryptOptions = {}): { plaintext: Buffer; version: number } {
  if (!supportsDecryption(policy.type)) throw badRequest(`message decryption not supported for key type ${policy.type}`);
  const parts = splitEnvelope(policy, ciphertext, 'ciphertext');
  const version = parts.version === 0 ? 1 : parts.version;
  if (version > policy.latestVersion) throw badRequest('invalid ciphertext: version is too new');
  if (policy.minDecryptionVersion > 0 && version < policy.minDecryptionVersion) throw badRequest(TOO_OLD);
  const convergent = convergentVersionOf(policy, version);
  const decoded = goBase64Decode(parts.body);
  if (!('bytes' in decoded)) throw badRequest('invalid ciphertext: could not decode base64');
  const sealed = decoded.bytes;
  if (isRsa(policy.type)) {
    const entry = entryOf(policy, version);
    if (!entry.privateKey) throw badRequest('cannot decrypt ciphertext, key version does not have a private counterpart');
    try {
      const plaintext = privateDecrypt({ key: entry.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed);
      return { plaintext, version };
    } catch {
      throw badRequest('failed to RSA decrypt the ciphertext: crypto/rsa: decryption error');
    }
  }
  if (!isSymmetricCipher(policy.type)) throw badRequest(`unsupported key type ${policy.type}`);
  const type = policy.type;
  const encBytes = cipherKeyBytes(type);
  const keyMaterial = symmetricKey(policy, version, opts.context, encBytes + (convergent > 2 ? 32 : 0));
  const key = Buffer.isBuffer(keyMaterial) ? keyMaterial.subarray(0, encBytes) : keyMaterial;
  const size = nonceBytes(type);
  let nonce: Buffer;
  let body: Buffer;
  if (policy.convergentEncryption && convergent === 1) {
    if (opts.nonce?.length !== size) throw badRequest('invalid convergent nonce supplied');
    nonce = opts.nonce;
    body = sealed;
  } else {
    if (sealed.length < size) throw badRequest('invalid ciphertext length');
    nonce = sealed.subarray(0, size);
    body = sealed.subarray(size);
  }
  const plaintext = aeadOpen(type, key, nonce, body, opts.associatedData);
  if (plaintext === undefined) throw badRequest(AUTHENTICATION_FAILED[type]);
  return { plaintext, version };
}
