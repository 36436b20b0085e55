/**
 * Key management: `keys/` (list), `keys/<name>` (create, read, delete),
 * `keys/<name>/config`, `keys/<name>/rotate` and `keys/<name>/trim`.
 * Create, config, rotate and trim answer with the key's description, as
 * Vault 1.14+ does; every check and text is Vault's.
 */
import { badRequest, notFound, quoted } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { genericName, type FieldData, type FieldSchema, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { keysResponse } from '../kv/responses.ts';
import { derivedEd25519 } from './derive.ts';
import { CONTEXT_FIELD, keyNameField } from './fields.ts';
import { goBase64Decode } from './go-base64.ts';
import { describeKey, isDueForRotation, newKeyPolicy, rotatedPolicy, trimmedPolicy, type KeyPolicy } from './key-policy.ts';
import {
  HMAC_MAX_KEY_SIZE, HMAC_MIN_KEY_SIZE, isEcdsa, isKeyType, isRsa, KEY_TYPES, type KeyType,
} from './key-types.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const MIN_AUTO_ROTATE_SECONDS = 3600;
const AUTO_ROTATE_TOO_SHORT = 'auto rotate period must be 0 to disable or at least an hour';

const EXPORTABLE_FIELD: FieldSchema = {
  type: 'bool',
  description: 'Whether the key material may be exported (export/ and, with allow_plaintext_backup, backup/). Once set, it cannot be unset.',
};
const PLAINTEXT_BACKUP_FIELD: FieldSchema = {
  type: 'bool',
  description: 'Whether a plaintext backup of the key may be taken (backup/, which also needs exportable). Once set, it cannot be unset.',
};
const AUTO_ROTATE_FIELD: FieldSchema = {
  type: 'duration',
  description: 'How long a key version lives before the key rotates itself (checked by the server every minute, also after restarts): 0 disables, else at least 1h.',
};

/** The paths under `keys/`. */
export function keyPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const name = genericName('name');
  return [
    {
      pattern: 'keys/?',
      fields: {
        after: { type: 'string', description: 'List only the names after this one (it need not exist).' },
        limit: { type: 'int', description: 'At most this many names (default: all).' },
      },
      synopsis: 'List the named transit keys.',
      operations: {
        list: { summary: 'List the key names.', handler: (req, f) => listKeys(storeFor(req), f) },
      },
    },
    {
      pattern: `keys/${name}`,
      fields: {
        name: keyNameField(),
        type: {
          type: 'string',
          default: 'aes256-gcm96',
          description: `The key type to create: ${KEY_TYPES.map((t) => `"${t}"`).join(', ')} (default "aes256-gcm96").`,
        },
        derived: { type: 'bool', description: 'Whether every operation derives its own key from a context (HKDF-SHA256); AES, ChaCha20 and Ed25519 keys.' },
        convergent_encryption: {
          type: 'bool',
          description: 'Whether equal plaintexts and contexts give equal ciphertexts (the nonce comes from the plaintext); needs derived.',
        },
        exportable: EXPORTABLE_FIELD,
        allow_plaintext_backup: PLAINTEXT_BACKUP_FIELD,
        context: { ...CONTEXT_FIELD, description: 'On read of a derived Ed25519 key: the base64 context whose public keys to show.' },
        auto_rotate_period: { ...AUTO_ROTATE_FIELD, default: 0 },
        key_size: {
          type: 'int',
          default: 0,
          description: `The key size in bytes, for hmac keys only: ${HMAC_MIN_KEY_SIZE} to ${HMAC_MAX_KEY_SIZE} (default 32).`,
        },
      },
      synopsis: 'Create, read or delete a named transit key.',
      description: 'Creating a key that exists leaves it as it is (with a warning). Deleting needs deletion_allowed set through the key\'s config first.',
      operations: {
        read: { summary: 'Describe the key (never its private material).', handler: (req, f) => readKey(storeFor(req), f) },
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
          description: 'The oldest key version that may encrypt (and sign); 0 means the latest only.',
        },
        deletion_allowed: { type: 'bool', description: 'Whether the key may be deleted.' },
        exportable: EXPORTABLE_FIELD,
        allow_plaintext_backup: PLAINTEXT_BACKUP_FIELD,
        auto_rotate_period: AUTO_ROTATE_FIELD,
      },
      synopsis: 'Configure a named transit key.',
      description: 'Sets the version floors, deletion_allowed, exportable, allow_plaintext_backup and auto_rotate_period; fields left out keep their values.',
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
    {
      pattern: `keys/${name}/trim`,
      fields: {
        name: keyNameField(),
        min_available_version: {
          type: 'int',
          description: 'Versions below this one are deleted for good. At most the lesser of min_decryption_version and min_encryption_version (both must be set).',
        },
      },
      synopsis: 'Delete the oldest versions of a named transit key.',
      description: 'Trimming is permanent: ciphertexts of the deleted versions can never be decrypted again.',
      operations: {
        update: { summary: 'Trim the key.', handler: (req, f) => trimKey(storeFor(req), f) },
      },
    },
  ];
}

async function listKeys(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  let names = await store.list();
  const after = fields.get<string>('after');
  if (after) names = names.filter((name) => name > after);
  const limit = fields.get<number>('limit');
  if (limit > 0) names = names.slice(0, limit);
  return keysResponse(names);
}

/** The description of a key; derived Ed25519 keys show the public keys of `context` when given. */
export function describe(policy: KeyPolicy, context?: Buffer): LogicalResponse {
  const derivedPublic = policy.type === 'ed25519' && policy.derived && context?.length
    ? (version: number) => derivedEd25519(policy, version, context).publicRaw.toString('base64')
    : undefined;
  return { data: describeKey(policy, derivedPublic) };
}

/** `GET keys/<name>` → the key's description; 404 when absent. */
async function readKey(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const policy = await store.get(fields.get('name'));
  if (policy === undefined) throw notFound();
  const raw = fields.get<string>('context');
  let context: Buffer | undefined;
  if (raw !== '') {
    const decoded = goBase64Decode(raw);
    if (!('bytes' in decoded)) throw badRequest('failed to base64-decode context');
    context = decoded.bytes;
  }
  return describe(policy, context);
}

/** Whole seconds when given; 0 disables, anything else must be at least an hour (Vault's floor). */
function autoRotatePeriod(fields: FieldData): number | undefined {
  const seconds = fields.getOk<number>('auto_rotate_period');
  if (seconds === undefined) return undefined;
  if (seconds !== 0 && seconds < MIN_AUTO_ROTATE_SECONDS) throw badRequest(AUTO_ROTATE_TOO_SHORT);
  return seconds;
}

/** Vault's lock manager refuses options a key type cannot have. */
export function checkTypeOptions(type: KeyType, derived: boolean, convergent: boolean): void {
  if ((isEcdsa(type) || isRsa(type) || type === 'hmac') && (derived || convergent)) {
    throw badRequest(`key derivation and convergent encryption not supported for keys of type ${type}`);
  }
  if (type === 'ed25519' && convergent) throw badRequest(`convergent encryption not supported for keys of type ${type}`);
}

/**
 * `POST keys/<name>`: creates the key with version 1; an existing key is
 * left as it is, with Vault's warning.
 */
async function createKey(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const name = fields.get<string>('name');
  const derived = fields.get<boolean>('derived');
  const convergent = fields.get<boolean>('convergent_encryption');
  const autoRotatePeriodSeconds = autoRotatePeriod(fields) ?? 0;
  if (!derived && convergent) throw badRequest('convergent encryption requires derivation to be enabled');
  const type = fields.get<string>('type');
  if (!isKeyType(type)) throw badRequest(`unknown key type ${quoted(type)}`);
  const keySize = fields.get<number>('key_size');
  if (keySize !== 0) {
    if (type !== 'hmac') throw badRequest(`key_size is not valid for algorithm ${type}`);
    if (keySize < HMAC_MIN_KEY_SIZE || keySize > HMAC_MAX_KEY_SIZE) throw badRequest(`invalid key_size ${keySize}`);
  }
  let created = false;
  const policy = await store.update(name, async (current) => {
    if (current !== undefined) return current;
    checkTypeOptions(type, derived, convergent);
    created = true;
    return newKeyPolicy(name, type, random, {
      derived,
      convergent,
      exportable: fields.get<boolean>('exportable'),
      allowPlaintextBackup: fields.get<boolean>('allow_plaintext_backup'),
      autoRotatePeriodSeconds,
      keySize,
    });
  });
  const res = describe(policy);
  if (!created) res.warnings = [`key ${name} already existed`];
  return res;
}

/** `DELETE keys/<name>`: only once `deletion_allowed` has been set through config. */
async function deleteKey(store: KeyStore, name: string): Promise<LogicalResponse> {
  await store.delete(name, (current) => {
    if (current === undefined) throw badRequest(`error deleting policy ${name}: could not delete key; not found`);
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
  return describe(policy);
}

/** Rotates the key when its auto_rotate_period has passed (the engine's periodic check). */
export async function rotateIfDue(store: KeyStore, name: string, random: RandomSource, nowMs = Date.now()): Promise<boolean> {
  const cached = await store.get(name);
  if (cached === undefined || !isDueForRotation(cached, nowMs)) return false;
  let rotated = false;
  await store.update(name, async (current) => {
    if (current === undefined || !isDueForRotation(current, nowMs)) return current as KeyPolicy;
    rotated = true;
    return rotatedPolicy(current, random);
  });
  return rotated;
}

/** `POST keys/<name>/config`: Vault's pathKeysConfigWrite, check for check. */
async function configureKey(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const name = fields.get<string>('name');
  const warnings: string[] = [];
  const policy = await store.update(name, async (current) => {
    if (current === undefined) throw badRequest(`no existing key named ${name} could be found`);
    const next = { ...current } as { -readonly [K in keyof KeyPolicy]: KeyPolicy[K] };
    let persist = false;
    const minDecryptionRaw = fields.getOk<number>('min_decryption_version');
    if (minDecryptionRaw !== undefined) {
      if (minDecryptionRaw < 0) throw badRequest('min decryption version cannot be negative');
      let minDecryption = minDecryptionRaw;
      if (minDecryption === 0) {
        minDecryption = 1;
        warnings.push('since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1');
      }
      if (minDecryption !== next.minDecryptionVersion) {
        if (minDecryption > next.latestVersion) {
          throw badRequest(`cannot set min decryption version of ${minDecryption}, latest key version is ${next.latestVersion}`);
        }
        next.minDecryptionVersion = minDecryption;
        persist = true;
      }
    }
    const minEncryption = fields.getOk<number>('min_encryption_version');
    if (minEncryption !== undefined) {
      if (minEncryption < 0) throw badRequest('min encryption version cannot be negative');
      if (minEncryption !== next.minEncryptionVersion) {
        if (minEncryption > next.latestVersion) {
          throw badRequest(`cannot set min encryption version of ${minEncryption}, latest key version is ${next.latestVersion}`);
        }
        next.minEncryptionVersion = minEncryption;
        persist = true;
      }
    }
    if (next.minEncryptionVersion > 0 && next.minEncryptionVersion < next.minDecryptionVersion) {
      throw badRequest(
        `cannot set min encryption/decryption values; min encryption version of ${next.minEncryptionVersion} must be greater than or equal to min decryption version of ${next.minDecryptionVersion}`,
      );
    }
    const deletionAllowed = fields.getOk<boolean>('deletion_allowed');
    if (deletionAllowed !== undefined && deletionAllowed !== next.deletionAllowed) {
      next.deletionAllowed = deletionAllowed;
      persist = true;
    }
    // Once set, these cannot be unset.
    if (fields.getOk<boolean>('exportable') === true && !next.exportable) {
      next.exportable = true;
      persist = true;
    }
    if (fields.getOk<boolean>('allow_plaintext_backup') === true && !next.allowPlaintextBackup) {
      next.allowPlaintextBackup = true;
      persist = true;
    }
    const period = autoRotatePeriod(fields);
    if (period !== undefined && period !== next.autoRotatePeriodSeconds) {
      next.autoRotatePeriodSeconds = period;
      persist = true;
    }
    if (!persist) return current;
    if (next.minAvailableVersion > next.minEncryptionVersion) throw badRequest('min encryption version should not be less than min available version');
    if (next.minAvailableVersion > next.minDecryptionVersion) throw badRequest('min decryption version should not be less then min available version');
    return next;
  });
  const res = describe(policy);
  if (warnings.length) res.warnings = warnings;
  return res;
}

/** `POST keys/<name>/trim`: deletes the versions below min_available_version for good. */
async function trimKey(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const policy = await store.update(fields.get('name'), async (current) => {
    if (current === undefined) throw badRequest('invalid key name');
    const minAvailable = fields.getOk<number>('min_available_version');
    if (minAvailable === undefined) throw badRequest('missing min_available_version');
    if (minAvailable < current.minAvailableVersion) throw badRequest('minimum available version cannot be decremented');
    if (current.minEncryptionVersion === 0) throw badRequest('minimum available version cannot be set when minimum encryption version is not set');
    if (current.minDecryptionVersion === 0) throw badRequest('minimum available version cannot be set when minimum decryption version is not set');
    if (minAvailable > current.minEncryptionVersion) throw badRequest('minimum available version cannot be greater than minmum encryption version');
    if (minAvailable > current.minDecryptionVersion) throw badRequest('minimum available version cannot be greater than minimum decryption version');
    if (minAvailable < 0) throw badRequest('minimum available version cannot be negative');
    if (minAvailable === 0) throw badRequest('minimum available version should be positive');
    return trimmedPolicy(current, minAvailable);
  });
  return describe(policy);
}
