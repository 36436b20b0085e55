import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { TresorError } from '../../core/errors.ts';
import { toHsmError } from './errors.ts';
import type { Pkcs11Api } from './module.ts';

/** A key as recorded in blobs: CKA_LABEL plus CKA_ID (empty when the key has none). */
export interface KeyRef {
  label: string;
  id: Buffer;
}

export const describeKey = (key: KeyRef) => `label=${key.label} id=${key.id.toString('hex')}`;
export const keyRefEquals = (a: KeyRef, b: KeyRef) => a.label === b.label && a.id.equals(b.id);

/**
 * Finds the single object of class `objectClass` under `label` (and `id`
 * when given). None → undefined. Several → error saying so, since labels are
 * not unique on a token and guessing would pick the wrong key.
 */
export function findObject(
  module: Pkcs11Api,
  session: Buffer,
  objectClass: number,
  label: string,
  id?: Buffer,
): Buffer | undefined {
  const template: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    { type: pkcs11js.CKA_LABEL, value: label },
  ];
  if (id && id.length > 0) template.push({ type: pkcs11js.CKA_ID, value: id });
  let found: Buffer[];
  try {
    module.C_FindObjectsInit(session, template);
    try {
      found = module.C_FindObjects(session, 2);
    } finally {
      module.C_FindObjectsFinal(session);
    }
  } catch (err) {
    throw toHsmError(err, 'C_FindObjects');
  }
  if (found.length > 1) {
    const idNote = id && id.length > 0 ? ` and id ${id.toString('hex')}` : '';
    throw new TresorError(500, `pkcs11 seal: more than one key object found under label "${label}"${idNote}; set the key id to choose one`);
  }
  return found[0];
}

/** Reads CKA_ID so a key found by label alone is recorded with its id. */
export function readKeyId(module: Pkcs11Api, session: Buffer, handle: Buffer): Buffer {
  try {
    const [attr] = module.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }]);
    return Buffer.from(attr.value);
  } catch (err) {
    throw toHsmError(err, 'C_GetAttributeValue');
  }
}

/** Attributes every generated key shares: on the token, private, never leaves it. */
const protectedKeyAttributes = (label: string, id: Buffer): pkcs11js.Template => [
  { type: pkcs11js.CKA_TOKEN, value: true },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_LABEL, value: label },
  { type: pkcs11js.CKA_ID, value: id },
];

/** Random CKA_ID for generated keys, unless the operator fixed one. */
export const newKeyId = () => randomBytes(16);

/**
 * A 32-byte secret key on the token, made by `mechanism` as `keyType`,
 * allowed only the operations in `usage` (attribute types set true).
 */
async function generateSecretKey(
  module: Pkcs11Api,
  session: Buffer,
  key: KeyRef,
  { mechanism, keyType, usage, bytes = 32 }: { mechanism: number; keyType: number; usage: number[]; bytes?: number },
): Promise<Buffer> {
  try {
    return await module.C_GenerateKeyAsync(session, { mechanism }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
      { type: pkcs11js.CKA_VALUE_LEN, value: bytes },
      ...usage.map((type) => ({ type, value: true })),
      ...protectedKeyAttributes(key.label, key.id),
    ]);
  } catch (err) {
    throw toHsmError(err, 'C_GenerateKey');
  }
}

/** AES token key (256 bits unless `bytes` says) for encrypt/decrypt (needs a read-write session). */
export function generateAesKey(module: Pkcs11Api, session: Buffer, key: KeyRef, bytes = 32): Promise<Buffer> {
  return generateSecretKey(module, session, key, {
    mechanism: pkcs11js.CKM_AES_KEY_GEN,
    keyType: pkcs11js.CKK_AES,
    usage: [pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT],
    bytes,
  });
}

/**
 * 32-byte HMAC key. CKK_GENERIC_SECRET is what CKM_SHA256_HMAC accepts on
 * SoftHSM and most HSMs (an AES key gives CKR_KEY_TYPE_INCONSISTENT).
 */
export function generateHmacKey(module: Pkcs11Api, session: Buffer, key: KeyRef): Promise<Buffer> {
  return generateSecretKey(module, session, key, {
    mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN,
    keyType: pkcs11js.CKK_GENERIC_SECRET,
    usage: [pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY],
  });
}

/**
 * RSA pair (3072 bits, encrypt/decrypt unless told otherwise); the private
 * half is sensitive and non-extractable. `sign` makes a signing pair instead.
 */
export async function generateRsaKeyPair(
  module: Pkcs11Api,
  session: Buffer,
  key: KeyRef,
  { bits = 3072, sign = false }: { bits?: number; sign?: boolean } = {},
): Promise<pkcs11js.KeyPair> {
  try {
    return await module.C_GenerateKeyPairAsync(
      session,
      { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: sign ? pkcs11js.CKA_VERIFY : pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_MODULUS_BITS, value: bits },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        { type: pkcs11js.CKA_LABEL, value: key.label },
        { type: pkcs11js.CKA_ID, value: key.id },
      ],
      [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: sign ? pkcs11js.CKA_SIGN : pkcs11js.CKA_DECRYPT, value: true },
        ...protectedKeyAttributes(key.label, key.id),
      ],
    );
  } catch (err) {
    throw toHsmError(err, 'C_GenerateKeyPair');
  }
}

/** DER OIDs (CKA_EC_PARAMS) of the NIST curves, by JWK name. */
export const EC_CURVE_PARAMS: Readonly<Record<'P-256' | 'P-384' | 'P-521', Buffer>> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
  'P-521': Buffer.from('06052b81040023', 'hex'),
};

/** EC signing pair on `curve`; the private half is sensitive and non-extractable. */
export async function generateEcKeyPair(module: Pkcs11Api, session: Buffer, key: KeyRef, curve: keyof typeof EC_CURVE_PARAMS): Promise<pkcs11js.KeyPair> {
  try {
    return await module.C_GenerateKeyPairAsync(
      session,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_EC_PARAMS, value: EC_CURVE_PARAMS[curve] },
        { type: pkcs11js.CKA_LABEL, value: key.label },
        { type: pkcs11js.CKA_ID, value: key.id },
      ],
      [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_SIGN, value: true },
        ...protectedKeyAttributes(key.label, key.id),
      ],
    );
  } catch (err) {
    throw toHsmError(err, 'C_GenerateKeyPair');
  }
}

/** Exports an EC public key object (CKA_EC_POINT, a DER OCTET STRING around 04||X||Y) as a Node KeyObject. */
export function exportEcPublicKey(module: Pkcs11Api, session: Buffer, handle: Buffer, curve: keyof typeof EC_CURVE_PARAMS): KeyObject {
  let point: Buffer;
  try {
    point = Buffer.from(module.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_POINT }])[0].value);
  } catch (err) {
    throw toHsmError(err, 'C_GetAttributeValue');
  }
  // Strip the OCTET STRING header (short or long form length) when present.
  if (point[0] === 0x04 && point.length > 2 && point[1] !== 0 && (point[1] & 0x80 ? point.length > 3 : point[1] === point.length - 2)) {
    point = point.subarray(point[1] & 0x80 ? 2 + (point[1] & 0x7f) : 2);
  }
  const size = (point.length - 1) / 2;
  const x = point.subarray(1, 1 + size).toString('base64url');
  const y = point.subarray(1 + size).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: curve, x, y }, format: 'jwk' });
}

/** Exports an RSA public key object as a Node KeyObject (for `rsa_encrypt_local`). */
export function exportRsaPublicKey(module: Pkcs11Api, session: Buffer, handle: Buffer): KeyObject {
  let attrs: pkcs11js.TemplateResult;
  try {
    attrs = module.C_GetAttributeValue(session, handle, [
      { type: pkcs11js.CKA_MODULUS },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT },
    ]);
  } catch (err) {
    throw toHsmError(err, 'C_GetAttributeValue');
  }
  const [modulus, exponent] = attrs.map((a) => Buffer.from(a.value).toString('base64url'));
  return createPublicKey({ key: { kty: 'RSA', n: modulus, e: exponent }, format: 'jwk' });
}
