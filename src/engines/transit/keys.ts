/**
 * Key management: `keys/` (list), `keys/<name>` (create, read, delete),
 * `keys/<name>/config` and `keys/<name>/rotate`. Create, config and rotate
 * answer with the key's description, as Vault 1.14+ does.
 */
import { badRequest, notFound } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { genericName, type FieldData, type FieldSchema, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { keysResponse } from '../kv/responses.ts';
import { keyNameField, optionalNonNegative, refuseEnabled } from './fields.ts';
import { describeKey, newKeyPolicy, parseKeyType, rotatedPolicy, SUPPORTED_KEY_TYPES, type KeyPolicy } from './key-policy.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const MIN_AUTO_ROTATE_SECONDS = 3600;
const NEVER_LEAVES = 'transit keys never leave Tresor';

const EXPORTABLE_FIELD: FieldSchema = {
  type: 'bool',
  description: 'Whether the key may be exported. Refused when true: transit keys never leave Tresor.',
};
const PLAINTEXT_BACKUP_FIELD: FieldSchema = {
  type: 'bool',
  description: 'Whether a plaintext backup of the key may be taken. Refused when true: transit keys never leave Tresor.',
};
const AUTO_ROTATE_FIELD: FieldSchema = {
  type: 'duration',
  description: 'How long a key version is used before the key rotates itself on its next use: 0 disables, else at least 1h.',
};

/** The paths under `keys/`. */
export function keyPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const name = genericName('name');
  return [
    {
      pattern: 'keys/?',
      synopsis: 'List the named transit keys.',
      operations: {
        list: { summary: 'List the key names.', handler: async (req) => keysResponse(await storeFor(req).list()) },
      },
    },
    {
      pattern: `keys/${name}`,
      fields: {
        name: keyNameField(),
        type: {
          type: 'string',
          default: 'aes256-gcm96',
          description: `The key type to create: ${SUPPORTED_KEY_TYPES.map((t) => `"${t}"`).join(' or ')} (default "aes256-gcm96").`,
        },
        derived: { type: 'bool', description: 'Whether to derive a key per context. Refused when true: key derivation is not implemented.' },
        convergent_encryption: {
          type: 'bool',
          description: 'Whether equal plaintexts and contexts give equal ciphertexts. Refused when true: convergent encryption is not implemented.',
        },
        exportable: EXPORTABLE_FIELD,
        allow_plaintext_backup: PLAINTEXT_BACKUP_FIELD,
        auto_rotate_period: { ...AUTO_ROTATE_FIELD, default: 0 },
        key_size: { type: 'int', default: 0, description: 'The key size in bytes, for HMAC keys only; 0 (the default) for every other type.' },
      },
      synopsis: 'Create, read or delete a named transit key.',
      description: 'Creating a key that exists leaves it as it is. Deleting needs deletion_allowed set through the key\'s config first.',
      operations: {
        read: { summary: 'Describe the key (never its key material).', handler: (req, f) => readKey(storeFor(req), f.get('name')) },
        update: { summary: 'Create the key.', handler: (req, f) => createKey(storeFor(req), f, req.randomBytes) },
        delete: { summary: 'Delete the key.', handler: (req, f) => deleteKey(storeFor(req), f.get('name')) },
      },
    },
    {
      pattern: `keys/${name}/config`,
      fields: {
        name: keyNameField(),
        min_decryption_version: {
          type: 'int',
          description: 'The oldest key version that may still decrypt (and verify); 0 means 1.',
        },
        min_encryption_version: {
          type: 'int',
          description: 'The oldest key version that may encrypt (and sign); 0 means the latest.',
        },
        deletion_allowed: { type: 'bool', description: 'Whether the key may be deleted.' },
        exportable: EXPORTABLE_FIELD,
        allow_plaintext_backup: PLAINTEXT_BACKUP_FIELD,
        auto_rotate_period: AUTO_ROTATE_FIELD,
      },
      synopsis: 'Configure a named transit key.',
      description: 'Sets the version floors, deletion_allowed and auto_rotate_period; fields left out keep their values.',
      operations: {
        update: { summary: 'Configure the key.', handler: (req, f) => configureKey(storeFor(req), f) },
      },
    },
    {
      pattern: `keys/${name}/rotate`,
      fields: { name: keyNameField() },
      synopsis: 'Rotate a named transit key.',
      description: 'Adds a new key version, which becomes the one encrypt uses; older versions still decrypt.',
      operations: {
        update: { summary: 'Rotate the key.', handler: (req, f) => rotateKey(storeFor(req), f.get('name'), req.randomBytes) },
      },
    },
  ];
}

/** Keys never leave Tresor, so the options that would let them are refused. */
function refuseKeyExport(fields: FieldData): void {
  refuseEnabled(fields, 'exportable', NEVER_LEAVES);
  refuseEnabled(fields, 'allow_plaintext_backup', NEVER_LEAVES);
}

/** `GET keys/<name>` → the key's description; 404 when absent. */
async function readKey(store: KeyStore, name: string): Promise<LogicalResponse> {
  const policy = await store.get(name);
  if (policy === undefined) throw notFound();
  return { data: describeKey(policy) };
}

/**
 * `POST keys/<name>`: creates the key with version 1; an existing key is
 * left as it is (Vault's create is idempotent). Options Tresor does not
 * implement (exportable, derived, convergent keys) are refused.
 */
async function createKey(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const name = fields.get<string>('name');
  const type = parseKeyType(fields.getOk('type'));
  refuseKeyExport(fields);
  refuseEnabled(fields, 'derived', 'key derivation is not implemented');
  refuseEnabled(fields, 'convergent_encryption', 'convergent encryption is not implemented');
  // No key type here takes a size (Vault's hmac keys do); Vault's refusal for the others.
  if (fields.getOk<number>('key_size')) throw badRequest(`key_size is not valid for algorithm ${type}`);
  const autoRotatePeriodSeconds = autoRotatePeriod(fields) ?? 0;
  const policy = await store.update(name, async (current) =>
    current ?? { ...(await newKeyPolicy(name, type, random)), autoRotatePeriodSeconds });
  return { data: describeKey(policy) };
}

/** `DELETE keys/<name>`: only once `deletion_allowed` has been set through config. */
async function deleteKey(store: KeyStore, name: string): Promise<LogicalResponse> {
  await store.delete(name, (current) => {
    if (current === undefined) throw badRequest('could not delete key: not found');
    if (!current.deletionAllowed) throw badRequest(`error deleting policy ${name}: deletion is not allowed for this key`);
  });
  return { status: 204 };
}

/** `POST keys/<name>/rotate`: adds a new latest version drawn from the request's random source. */
async function rotateKey(store: KeyStore, name: string, random: RandomSource): Promise<LogicalResponse> {
  const policy = await store.update(name, async (current) => {
    if (current === undefined) throw badRequest('key not found');
    return rotatedPolicy(current, random);
  });
  return { data: describeKey(policy) };
}

/**
 * `POST keys/<name>/config`. min_decryption_version 0 means 1,
 * min_encryption_version 0 means "latest"; neither may pass the latest
 * version, and a pinned encryption version may not be below the decryption floor.
 */
async function configureKey(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const name = fields.get<string>('name');
  refuseKeyExport(fields);
  const minDecryption = optionalNonNegative(fields, 'min_decryption_version');
  const minEncryption = optionalNonNegative(fields, 'min_encryption_version');
  const deletionAllowed = fields.getOk<boolean>('deletion_allowed');
  const autoRotate = autoRotatePeriod(fields);
  const policy = await store.update(name, async (current) => {
    if (current === undefined) throw badRequest(`no existing key named "${name}" could be found`);
    const next: KeyPolicy = {
      ...current,
      minDecryptionVersion: minDecryption === undefined ? current.minDecryptionVersion : Math.max(minDecryption, 1),
      minEncryptionVersion: minEncryption ?? current.minEncryptionVersion,
      deletionAllowed: deletionAllowed ?? current.deletionAllowed,
      autoRotatePeriodSeconds: autoRotate ?? current.autoRotatePeriodSeconds,
    };
    checkVersionFloors(next);
    return isSameConfig(current, next) ? current : next;
  });
  return { data: describeKey(policy) };
}

function checkVersionFloors(policy: KeyPolicy): void {
  const latest = policy.latestVersion;
  if (policy.minDecryptionVersion > latest) {
    throw badRequest(`cannot set min_decryption_version to ${policy.minDecryptionVersion}: the latest key version is ${latest}`);
  }
  if (policy.minEncryptionVersion > latest) {
    throw badRequest(`cannot set min_encryption_version to ${policy.minEncryptionVersion}: the latest key version is ${latest}`);
  }
  if (policy.minEncryptionVersion > 0 && policy.minEncryptionVersion < policy.minDecryptionVersion) {
    throw badRequest('min_encryption_version must not be below min_decryption_version');
  }
}

function isSameConfig(a: KeyPolicy, b: KeyPolicy): boolean {
  return a.minDecryptionVersion === b.minDecryptionVersion && a.minEncryptionVersion === b.minEncryptionVersion &&
    a.deletionAllowed === b.deletionAllowed && a.autoRotatePeriodSeconds === b.autoRotatePeriodSeconds;
}

/** Whole seconds when given; 0 disables, anything else must be at least an hour (Vault's floor). */
function autoRotatePeriod(fields: FieldData): number | undefined {
  const seconds = fields.getOk<number>('auto_rotate_period');
  if (seconds === undefined) return undefined;
  if (seconds !== 0 && seconds < MIN_AUTO_ROTATE_SECONDS) throw badRequest('"auto_rotate_period" must be 0 (disabled) or at least 1h');
  return seconds;
}
