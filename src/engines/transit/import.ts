/**
 * Bring your own key (Vault's BYOK import): `wrapping_key` answers the
 * mount's RSA-4096 public wrapping key (created on first use, stored as the
 * key `import/wrapping-key`), `keys/<name>/import` creates a key from
 * outside material and `keys/<name>/import_version` adds a version to an
 * imported key.
 *
 * The material comes as Vault's `ciphertext`: a fresh AES-256 key wrapped
 * with RSA-OAEP (the wrapping key, `hash_function`, empty label; 512 bytes)
 * followed by the target key wrapped under that AES key with AES key wrap
 * with padding (RFC 5649). The target key is the raw bytes for symmetric
 * and hmac keys, PKCS#8 DER for asymmetric ones. Asymmetric keys may also
 * be imported as a PEM `public_key` alone (they then verify and encrypt
 * only, until import_version brings the private half).
 */
import { constants, createDecipheriv, createPrivateKey, createPublicKey, privateDecrypt, type KeyObject } from 'node:crypto';
import { badRequest, quoted } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { rfc3339NanoNow } from '../../core/wrapping.ts';
import { genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { CONTEXT_FIELD, keyNameField } from './fields.ts';
import { goBase64Decode, illegalBase64 } from './go-base64.ts';
import { ecNumbersOf, isPrivateKeyMissing, publicKeyPem, rsaNumbersOf, withKeyObjects, type KeyVersion } from './key-material.ts';
import { emptyPolicy, newKeyPolicy, withNewVersion, type KeyPolicy } from './key-policy.ts';
import {
  cipherKeyBytes, CURVES, HMAC_MAX_KEY_SIZE, HMAC_MIN_KEY_SIZE, importsPublicKey, isEcdsa, isKeyType, isRsa, isSymmetricCipher, KEY_TYPES,
  RSA_BITS, type KeyType,
} from './key-types.ts';
import type { KeyStore, StoreFor } from './key-store.ts';
import { checkTypeOptions } from './keys.ts';

export const WRAPPING_KEY_NAME = 'import/wrapping-key';
const ENCRYPTED_KEY_BYTES = 512;
const KWP_IV = Buffer.from('a65959a6', 'hex');
const HASH_FUNCTIONS: Readonly<Record<string, string>> = { SHA1: 'sha1', SHA224: 'sha224', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

const CIPHERTEXT_FIELD = {
  type: 'string',
  sensitive: true,
  description: 'Base64 of the RSA-OAEP-wrapped ephemeral AES-256 key (512 bytes) followed by the target key wrapped with it (AES-KWP).',
} as const;
const PUBLIC_KEY_FIELD = { type: 'string', description: 'A PEM public key to import instead of private material (asymmetric keys).' } as const;
const HASH_FUNCTION_FIELD = {
  type: 'string',
  default: 'SHA256',
  description: 'The hash of the RSA-OAEP wrapping: SHA1, SHA224, SHA256 (the default), SHA384 or SHA512.',
} as const;

/** The wrapping_key, keys/<name>/import and keys/<name>/import_version paths. */
export function importPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const name = genericName('name');
  const importFields: FieldSchemas = {
    name: keyNameField(),
    type: { type: 'string', default: 'aes256-gcm96', description: `The type of the imported key: ${KEY_TYPES.join(', ')} (default aes256-gcm96).` },
    hash_function: HASH_FUNCTION_FIELD,
    ciphertext: CIPHERTEXT_FIELD,
    public_key: PUBLIC_KEY_FIELD,
    allow_rotation: { type: 'bool', description: 'Whether Tresor may rotate the imported key (needed for auto_rotate_period).' },
    derived: { type: 'bool', description: 'Whether operations derive their key from a context.' },
    exportable: { type: 'bool', description: 'Whether the key material may be exported.' },
    allow_plaintext_backup: { type: 'bool', description: 'Whether a plaintext backup of the key may be taken.' },
    context: CONTEXT_FIELD,
    auto_rotate_period: { type: 'duration', default: 0, description: 'How long a version lives before the key rotates itself (needs allow_rotation): 0 disables, else at least 1h.' },
  };
  return [
    {
      pattern: 'wrapping_key',
      synopsis: 'The public key that wraps keys for import.',
      description: 'An RSA-4096 key made on first use; wrap an ephemeral AES-256 key with it (RSA-OAEP) to import key material.',
      operations: {
        read: { summary: 'Read the wrapping key.', handler: async (req) => ({ data: { public_key: publicKeyPem(await wrappingKey(storeFor(req), req.randomBytes)) } }) },
      },
    },
    {
      pattern: `keys/${name}/import`,
      fields: importFields,
      synopsis: 'Import outside key material as a new transit key.',
      description: 'The key must not exist yet; use import_version to add versions to an imported key.',
      operations: { update: { summary: 'Import a key.', handler: (req, f) => importKey(storeFor(req), f, req.randomBytes) } },
    },
    {
      pattern: `keys/${name}/import_version`,
      fields: {
        name: keyNameField(),
        ciphertext: CIPHERTEXT_FIELD,
        public_key: PUBLIC_KEY_FIELD,
        hash_function: HASH_FUNCTION_FIELD,
        version: { type: 'int', description: 'The version whose missing private key to import; default: a new version (or the latest, when only its public key is there).' },
      },
      synopsis: 'Import a new version into an imported transit key.',
      operations: { update: { summary: 'Import a key version.', handler: (req, f) => importVersion(storeFor(req), f, req.randomBytes) } },
    },
  ];
}

/** The mount's wrapping key (RSA-4096), created on first use. */
async function wrappingKey(store: KeyStore, random: RandomSource): Promise<KeyVersion> {
  let policy = await store.get(WRAPPING_KEY_NAME);
  if (policy === undefined) {
    policy = await store.update(WRAPPING_KEY_NAME, async (current) => current ?? newKeyPolicy(WRAPPING_KEY_NAME, 'rsa-4096', random));
  }
  return policy.versions.get(policy.latestVersion)!;
}

/** Unwraps Vault's import ciphertext with the mount's wrapping key: the target key's bytes. */
async function unwrapImport(store: KeyStore, random: RandomSource, fields: FieldData): Promise<Buffer> {
  const hashName = fields.get<string>('hash_function');
  const hash = HASH_FUNCTIONS[hashName.toUpperCase()];
  if (hash === undefined) throw badRequest(`unknown hash function: ${quoted(hashName)}`);
  const decoded = goBase64Decode(fields.get<string>('ciphertext'));
  if (!('bytes' in decoded)) throw badRequest(illegalBase64(decoded.errorAt));
  const ciphertext = decoded.bytes;
  if (ciphertext.length <= ENCRYPTED_KEY_BYTES) throw badRequest('provided ciphertext is too short');
  const wrapping = await wrappingKey(store, random);
  let ephemeral: Buffer;
  try {
    ephemeral = privateDecrypt(
      { key: wrapping.privateKey!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      ciphertext.subarray(0, ENCRYPTED_KEY_BYTES),
    );
  } catch {
    throw badRequest('crypto/rsa: decryption error');
  }
  try {
    if (ephemeral.length !== 32) throw badRequest('expected ephemeral AES key to be 256-bit');
    const decipher = createDecipheriv('id-aes256-wrap-pad', ephemeral, KWP_IV);
    try {
      return Buffer.concat([decipher.update(ciphertext.subarray(ENCRYPTED_KEY_BYTES)), decipher.final()]);
    } catch {
      throw badRequest('failed to unwrap key: integrity check failed');
    }
  } finally {
    ephemeral.fill(0);
  }
}

const GO_PRIVATE_TYPE: Record<string, string> = { rsa: '*rsa.PrivateKey', 'rsa-pss': '*rsa.PrivateKey', ec: '*ecdsa.PrivateKey', ed25519: 'ed25519.PrivateKey' };
const GO_PUBLIC_TYPE: Record<string, string> = { rsa: '*rsa.PublicKey', 'rsa-pss': '*rsa.PublicKey', ec: '*ecdsa.PublicKey', ed25519: 'ed25519.PublicKey' };
const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** Vault's parseFromKey: the parsed key must be of the policy's type, curve and size. */
function checkParsedKey(type: KeyType, key: KeyObject, isPrivate: boolean): void {
  const kind = key.asymmetricKeyType ?? '';
  const goType = (isPrivate ? GO_PRIVATE_TYPE : GO_PUBLIC_TYPE)[kind] ?? kind;
  const fits = (isEcdsa(type) && kind === 'ec') || (type === 'ed25519' && kind === 'ed25519') || (isRsa(type) && (kind === 'rsa' || kind === 'rsa-pss'));
  if (!fits) throw badRequest(`invalid key type: expected ${type}, got ${goType}`);
  if (isEcdsa(type)) {
    const curve = CURVE_NAMES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? String(key.asymmetricKeyDetails?.namedCurve);
    if (curve !== CURVES[type].jwk) throw badRequest(`invalid curve: expected ${CURVES[type].jwk}, got ${curve}`);
  }
  if (isRsa(type)) {
    const bytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (bytes !== RSA_BITS[type] / 8) throw badRequest(`invalid key size: expected ${RSA_BITS[type] / 8} bytes, got ${bytes} bytes`);
  }
}

/** A version from imported material (Vault's ImportPublicOrPrivate). */
async function importedVersion(type: KeyType, material: Buffer, isPrivate: boolean, random: RandomSource): Promise<KeyVersion> {
  const nowMs = Date.now();
  const base = { creationTime: rfc3339NanoNow(nowMs), createdAt: Math.floor(nowMs / 1000), convergentVersion: 0, formattedPublicKey: '' };
  if (isSymmetricCipher(type) || type === 'hmac') {
    const size = material.length;
    if ((isSymmetricCipher(type) && size !== cipherKeyBytes(type)) || (type === 'hmac' && (size < HMAC_MIN_KEY_SIZE || size > HMAC_MAX_KEY_SIZE))) {
      throw badRequest(`invalid key size ${size} bytes for key type ${type}`);
    }
    const key = Buffer.from(material);
    const hmacKey = type === 'hmac' ? key : Buffer.from(await random(32));
    return withKeyObjects(type, { ...base, key, hmacKey });
  }
  const hmacKey = Buffer.from(await random(32));
  let key: KeyObject;
  if (isPrivate) {
    try {
      key = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
    } catch {
      throw badRequest('error parsing asymmetric key: the key is not PKCS#8 DER');
    }
  } else {
    const pem = material.toString('utf8');
    if (!/-----BEGIN [A-Z ]+-----/.test(pem)) throw badRequest('error parsing public key: not in PEM format');
    try {
      key = createPublicKey({ key: pem, format: 'pem' });
    } catch {
      throw badRequest('error parsing public key: the key is not a SubjectPublicKeyInfo');
    }
  }
  checkParsedKey(type, key, isPrivate);
  if (type === 'ed25519') {
    const jwk = key.export({ format: 'jwk' });
    const publicRaw = Buffer.from(jwk.x!, 'base64url');
    const goKey = jwk.d ? Buffer.concat([Buffer.from(jwk.d, 'base64url'), publicRaw]) : undefined;
    return withKeyObjects(type, { ...base, hmacKey, ...(goKey ? { key: goKey } : {}), formattedPublicKey: publicRaw.toString('base64') });
  }
  if (isEcdsa(type)) {
    const version = withKeyObjects(type, { ...base, hmacKey, ec: ecNumbersOf(key) });
    return { ...version, formattedPublicKey: publicKeyPem(version) };
  }
  return withKeyObjects(type, { ...base, hmacKey, rsa: rsaNumbersOf(key) });
}

/** The material a request brings: unwrapped private material, or a public key's PEM. */
async function materialOf(store: KeyStore, fields: FieldData, type: KeyType, random: RandomSource): Promise<{ material: Buffer; isPrivate: boolean }> {
  const hasCiphertext = fields.has('ciphertext');
  if (hasCiphertext && fields.has('public_key')) throw badRequest('only one of the following fields, ciphertext and public_key, can be set');
  if (hasCiphertext) return { material: await unwrapImport(store, random, fields), isPrivate: true };
  if (!importsPublicKey(type)) throw badRequest('provided type does not support public_key import');
  return { material: Buffer.from(fields.get<string>('public_key'), 'utf8'), isPrivate: false };
}

const samePublicKey = (a: KeyObject | undefined, b: KeyObject | undefined) =>
  !!a && !!b && (a.export({ type: 'spki', format: 'der' }) as Buffer).equals(b.export({ type: 'spki', format: 'der' }) as Buffer);

/** Adds imported material to a policy: fills the latest version's missing private key when it matches, else a new version. */
function withImported(policy: KeyPolicy, entry: KeyVersion, isPrivate: boolean): KeyPolicy {
  const latest = policy.versions.get(policy.latestVersion);
  if (latest && isPrivate && isPrivateKeyMissing(latest) && samePublicKey(latest.publicKey, entry.publicKey)) {
    return withVersionReplaced(policy, policy.latestVersion, { ...entry, creationTime: latest.creationTime, createdAt: latest.createdAt });
  }
  return withNewVersion(policy, entry);
}

function withVersionReplaced(policy: KeyPolicy, version: number, entry: KeyVersion): KeyPolicy {
  const versions = new Map(policy.versions);
  versions.set(version, entry);
  return { ...policy, versions };
}

async function importKey(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const name = fields.get<string>('name');
  if (Object.hasOwn(fields.raw, 'convergent_encryption')) throw badRequest('import cannot be used on keys with convergent encryption enabled');
  const autoRotatePeriodSeconds = fields.get<number>('auto_rotate_period');
  const allowRotation = fields.get<boolean>('allow_rotation');
  if (autoRotatePeriodSeconds > 0 && !allowRotation) throw badRequest('allow_rotation must be set to true if auto-rotation is enabled');
  const typeName = fields.get<string>('type').toLowerCase();
  if (!isKeyType(typeName)) throw badRequest(`unknown key type: ${quoted(fields.get<string>('type'))}`);
  const type = typeName;
  const derived = fields.get<boolean>('derived');
  checkTypeOptions(type, derived, false);
  if ((await store.get(name)) !== undefined) {
    throw badRequest('the import path cannot be used with an existing key; use import-version to rotate an existing imported key');
  }
  const { material, isPrivate } = await materialOf(store, fields, type, random);
  if (type === 'ed25519' && derived && !isPrivate) {
    throw badRequest('error importing key: unable to import only public key for derived Ed25519 key: imported key should not be an Ed25519 key pair but is instead an HKDF key');
  }
  try {
    const entry = await importedVersion(type, material, isPrivate, random);
    await store.update(name, async (current) => {
      if (current !== undefined) {
        throw badRequest('the import path cannot be used with an existing key; use import-version to rotate an existing imported key');
      }
      const policy = emptyPolicy(name, type, {
        derived,
        exportable: fields.get<boolean>('exportable'),
        allowPlaintextBackup: fields.get<boolean>('allow_plaintext_backup'),
        autoRotatePeriodSeconds,
        imported: true,
        allowImportedKeyRotation: allowRotation,
        keySize: type === 'hmac' ? material.length : 0,
      });
      return withNewVersion(policy, entry);
    });
  } finally {
    if (isPrivate) material.fill(0);
  }
  return { status: 204 };
}

async function importVersion(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const name = fields.get<string>('name');
  const policy = await store.get(name);
  if (policy === undefined) throw badRequest(`no key found with name ${name}; to import a new key, use the import/ endpoint`);
  if (!policy.imported) throw badRequest('the import_version endpoint can only be used with an imported key');
  if (policy.convergentEncryption) throw badRequest('import_version cannot be used on keys with convergent encryption enabled');
  const { material, isPrivate } = await materialOf(store, fields, policy.type, random);
  try {
    const entry = await importedVersion(policy.type, material, isPrivate, random);
    await store.update(name, async (current) => {
      if (current === undefined) throw badRequest(`no key found with name ${name}; to import a new key, use the import/ endpoint`);
      const version = fields.getOk<number>('version');
      if (version === undefined) return withImported(current, entry, isPrivate);
      const existing = current.versions.get(version);
      if (existing === undefined) throw badRequest('no such key version');
      if (!importsPublicKey(current.type)) throw badRequest('provided type does not support importing key versions');
      if (isPrivateKeyMissing(existing) && !isPrivate) throw badRequest('cannot add a public key to a key version that already has a public key set');
      if (!isPrivateKeyMissing(existing)) throw badRequest('private key imported, key version cannot be updated');
      if (!samePublicKey(existing.publicKey, entry.publicKey)) throw badRequest('cannot import key, key pair does not match');
      return withVersionReplaced(current, version, { ...entry, creationTime: existing.creationTime, createdAt: existing.createdAt });
    });
  } finally {
    if (isPrivate) material.fill(0);
  }
  return { status: 204 };
}
