/**
 * `encrypt/<name>`, `decrypt/<name>` and `rewrap/<name>`, each taking one
 * item or a `batch_input` (see batch.ts). The key is looked up once per
 * request from the in-memory cache, never once per batch item.
 *
 *   encrypt  {plaintext, context?, nonce?, key_version?, associated_data?} → {ciphertext: "vault:v<N>:...", key_version}
 *   decrypt  {ciphertext, context?, nonce?, associated_data?}              → {plaintext}
 *   rewrap   {ciphertext, context?, nonce?, key_version?}                  → {ciphertext, key_version}
 *
 * Encrypt creates a missing key (Vault's upsert): derived when the request
 * carries a context, convergent when asked. Derived keys need a context on
 * every call, and Vault's rule holds for batches: a context in every item
 * or in none. `associated_data` (base64) is bound into the AEAD tag as in
 * Vault; rewrap does not take it and says so rather than ignore it.
 */
import { badRequest, quoted, TresorError } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import type { JsonObject } from '../../core/request-fields.ts';
import { genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { batchItems, DECRYPT_SHAPE, ENCRYPT_SHAPE, itemFields, respond, REWRAP_SHAPE, type ItemResult } from './batch.ts';
import { decryptEnvelope, encryptionVersion, encryptToEnvelope, type CryptOptions } from './ciphertext.ts';
import {
  ASSOCIATED_DATA_FIELD, base64Bytes, batchInputField, CONTEXT_FIELD, decodeAssociatedData, type Fields, KEY_VERSION_FIELD, keyNameField,
  NONCE_FIELD, optionalAssociatedData, PARTIAL_FAILURE_FIELD,
} from './fields.ts';
import { newKeyPolicy, type KeyPolicy } from './key-policy.ts';
import { isKeyType, supportsAssociatedData, type KeyType } from './key-types.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

export const KEY_NOT_FOUND = 'encryption key not found';
const CONTEXT_MIXED = 'context should be set either in all the request blocks or in none';
const UPSERT_TYPES: readonly KeyType[] = ['aes128-gcm96', 'aes256-gcm96', 'chacha20-poly1305', 'xchacha20-poly1305'];

const ENCRYPT_FIELDS: FieldSchemas = {
  name: keyNameField('Name of the key; encrypt creates it when it does not exist.'),
  plaintext: { type: 'string', sensitive: true, description: 'Base64 plaintext to encrypt.' },
  context: CONTEXT_FIELD,
  nonce: NONCE_FIELD,
  key_version: KEY_VERSION_FIELD,
  associated_data: ASSOCIATED_DATA_FIELD,
  type: {
    type: 'string',
    default: 'aes256-gcm96',
    description: `The type of the key when encrypt creates it: ${UPSERT_TYPES.map((t) => `"${t}"`).join(', ')} (default "aes256-gcm96").`,
  },
  convergent_encryption: {
    type: 'bool',
    description: 'Whether a key created by encrypt is convergent (equal plaintexts and contexts give equal ciphertexts); needs a context.',
  },
  batch_input: batchInputField('"plaintext", and optionally "context", "nonce", "key_version" and "associated_data"'),
  partial_failure_response_code: PARTIAL_FAILURE_FIELD,
};
const ENCRYPT_ITEM = itemFields(ENCRYPT_FIELDS, ['plaintext', 'context', 'nonce', 'key_version', 'associated_data']);

const DECRYPT_FIELDS: FieldSchemas = {
  name: keyNameField(),
  ciphertext: { type: 'string', description: 'The ciphertext to decrypt, as encrypt returned it ("vault:v<N>:...").' },
  context: CONTEXT_FIELD,
  nonce: NONCE_FIELD,
  associated_data: ASSOCIATED_DATA_FIELD,
  batch_input: batchInputField('"ciphertext", and optionally "context", "nonce" and "associated_data"'),
  partial_failure_response_code: PARTIAL_FAILURE_FIELD,
};
const DECRYPT_ITEM = itemFields(DECRYPT_FIELDS, ['ciphertext', 'context', 'nonce', 'associated_data']);

const REWRAP_FIELDS: FieldSchemas = {
  name: keyNameField(),
  ciphertext: { type: 'string', description: 'The ciphertext to re-encrypt under the requested (default: latest) key version.' },
  context: CONTEXT_FIELD,
  nonce: NONCE_FIELD,
  key_version: KEY_VERSION_FIELD,
  associated_data: {
    type: 'string',
    description: 'Not taken by rewrap (as in Vault), and refused when given: decrypt and encrypt again to change or keep associated data.',
  },
  batch_input: batchInputField('"ciphertext", and optionally "context", "nonce" and "key_version"'),
};
const REWRAP_ITEM = itemFields(REWRAP_FIELDS, ['ciphertext', 'context', 'nonce', 'key_version', 'associated_data']);

/** The encrypt, decrypt and rewrap paths. */
export function cryptPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const name = genericName('name');
  const encryptOperation = {
    summary: 'Encrypt a plaintext or a batch of them.',
    handler: (req: LogicalRequest, f: FieldData) => encrypt(storeFor(req), f, req.randomBytes),
  };
  return [
    {
      pattern: `encrypt/${name}`,
      fields: ENCRYPT_FIELDS,
      synopsis: 'Encrypt plaintexts with a named key.',
      description: 'The plaintext must be base64. A key that does not exist yet is created (of the requested type; derived when a context is given), so a policy needs "create" for that and "update" to use an existing key.',
      existenceCheck: async (req, f) => (await storeFor(req).get(f.get('name'))) !== undefined,
      operations: { create: encryptOperation, update: encryptOperation },
    },
    {
      pattern: `decrypt/${name}`,
      fields: DECRYPT_FIELDS,
      synopsis: 'Decrypt ciphertexts with a named key.',
      description: 'Answers the base64 plaintext. A ciphertext older than the key\'s min_decryption_version is refused.',
      operations: {
        update: { summary: 'Decrypt a ciphertext or a batch of them.', handler: (req, f) => decrypt(storeFor(req), f) },
      },
    },
    {
      pattern: `rewrap/${name}`,
      fields: REWRAP_FIELDS,
      synopsis: 'Re-encrypt ciphertexts under a newer version of their key.',
      description: 'The plaintext is never revealed: a ciphertext is decrypted and encrypted again under the requested (default: latest) key version.',
      operations: {
        update: { summary: 'Rewrap a ciphertext or a batch of them.', handler: (req, f) => rewrap(storeFor(req), f) },
      },
    },
  ];
}

/** The existing key for an operation; 400 with `message` when there is none. */
export async function existingKey(store: KeyStore, name: string, message = KEY_NOT_FOUND): Promise<KeyPolicy> {
  const policy = await store.get(name);
  if (policy === undefined) throw badRequest(message);
  return policy;
}

/**
 * An item's associated data for `policy`; refused with Vault's message
 * (`field` names it, e.g. "[0].associated_data") when the key type's cipher
 * cannot bind it, so it is never silently dropped.
 */
export function associatedDataFor(policy: KeyPolicy, value: string | undefined, field: string): Buffer | undefined {
  if (value === undefined || value === '') return undefined;
  if (!supportsAssociatedData(policy.type)) throw badRequest(`'${field}' provided for non-AEAD cipher suite ${policy.type}`);
  return decodeAssociatedData(value);
}

/** Whether the request's items carry a context; Vault's all-or-none rule. */
function contextSetIn(first: Fields, items: JsonObject[] | undefined): boolean {
  if (items === undefined) return first.get<string>('context') !== '';
  const hasContext = (raw: JsonObject) => raw.context !== undefined && raw.context !== null && raw.context !== '';
  const set = hasContext(items[0]);
  if (items.some((raw) => hasContext(raw) !== set)) throw badRequest(CONTEXT_MIXED);
  return set;
}

/** The optional base64 `context` and `nonce` of an item, with Vault's errors (Go's text). */
function contextAndNonce(item: Fields): Pick<CryptOptions, 'context' | 'nonce'> {
  const context = item.get<string>('context');
  const nonce = item.get<string>('nonce');
  return {
    ...(context !== '' ? { context: base64Bytes(context) } : {}),
    ...(nonce !== '' ? { nonce: base64Bytes(nonce) } : {}),
  };
}

interface EncryptInput {
  plaintext: Buffer;
  version: number;
  opts: CryptOptions;
  associatedData: Buffer | undefined;
}

/** Whether a batch item's own fields are good enough to encrypt (the key decides the rest). */
function isEncryptable(raw: JsonObject): boolean {
  try {
    encryptInput(ENCRYPT_ITEM.decode(raw));
    return true;
  } catch (err) {
    if (err instanceof TresorError && err.status < 500) return false;
    throw err;
  }
}

function encryptInput(item: Fields): EncryptInput {
  const raw = item.getOk<string>('plaintext');
  if (raw === undefined) throw badRequest('missing plaintext to encrypt');
  const plaintext = base64Bytes(raw);
  const opts = contextAndNonce(item);
  const associatedData = decodeAssociatedData(item.getOk<string>('associated_data'));
  const version = item.get<number>('key_version');
  // Checked here as well as when sealing, so a bad request is refused before encrypt creates its key.
  if (version < 0) throw badRequest('requested version for encryption is negative');
  return { plaintext, version, opts, associatedData };
}

function seal(policy: KeyPolicy, input: EncryptInput, index: number): ItemResult {
  const associatedData = input.associatedData;
  if (associatedData !== undefined && !supportsAssociatedData(policy.type)) {
    throw badRequest(`'[${index}].associated_data' provided for non-AEAD cipher suite ${policy.type}`);
  }
  const version = encryptionVersion(policy, input.version);
  const ciphertext = encryptToEnvelope(policy, version, input.plaintext, associatedData ? { ...input.opts, associatedData } : input.opts);
  return { ciphertext, key_version: version };
}

/** The type a key created by encrypt gets: Vault's checks and texts. */
function upsertType(fields: FieldData): KeyType {
  const type = fields.get<string>('type');
  if (isKeyType(type) && UPSERT_TYPES.includes(type)) return type;
  if (type === 'ecdsa-p256' || type === 'ecdsa-p384' || type === 'ecdsa-p521') throw badRequest(`key type ${type} not supported for this operation`);
  throw badRequest(`unknown key type ${quoted(type)}`);
}

/** Encrypts one item or a batch, creating the key first when it does not exist. */
async function encrypt(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const items = batchItems(fields);
  const contextSet = contextSetIn(fields, items);
  // A single request is checked whole before a key is created for it.
  const single = items === undefined ? encryptInput(fields) : undefined;
  const name = fields.get<string>('name');
  // A batch none of whose items can be encrypted is a 400: it must not create the key on the way (Vault reads
  // the items before its upsert too).
  if (items !== undefined && !items.some(isEncryptable) && (await store.get(name)) === undefined) {
    return respond(fields, items, ENCRYPT_ITEM, ENCRYPT_SHAPE, (item) => {
      encryptInput(item);
      throw badRequest('the item cannot be encrypted');
    });
  }
  let policy = await store.get(name);
  let warnings: string[] | undefined;
  if (policy === undefined) {
    const convergent = fields.get<boolean>('convergent_encryption');
    if (convergent && !contextSet) throw badRequest('convergent encryption requires derivation to be enabled, so context is required');
    const type = upsertType(fields);
    let created = false;
    policy = await store.update(name, async (current) => {
      if (current !== undefined) return current;
      created = true;
      return newKeyPolicy(name, type, random, { derived: contextSet, convergent });
    });
    if (!created) warnings = ['Attempted creation of the key during the encrypt operation, but it was created beforehand'];
  }
  const key = policy;
  const res = respond(fields, items, ENCRYPT_ITEM, ENCRYPT_SHAPE, (item, i) => seal(key, single ?? encryptInput(item), i));
  if (warnings) res.warnings = warnings;
  return res;
}

/** Decrypts one item or a batch; a missing key is a 400. */
async function decrypt(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const items = batchItems(fields);
  if (items === undefined && fields.get<string>('ciphertext') === '') throw badRequest('missing ciphertext to decrypt');
  contextSetIn(fields, items);
  const policy = await existingKey(store, fields.get('name'));
  return respond(fields, items, DECRYPT_ITEM, DECRYPT_SHAPE, (item, i) => {
    const ciphertext = item.get<string>('ciphertext');
    if (ciphertext === '') throw badRequest('missing ciphertext to decrypt');
    const opts = contextAndNonce(item);
    const associatedData = associatedDataFor(policy, item.getOk('associated_data'), `[${i}].associated_data`);
    return { plaintext: decryptEnvelope(policy, ciphertext, associatedData ? { ...opts, associatedData } : opts).plaintext.toString('base64') };
  });
}

/** Re-encrypts ciphertexts under the requested (default: latest) version without revealing the plaintext. */
async function rewrap(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const items = batchItems(fields);
  if (items === undefined && fields.get<string>('ciphertext') === '') throw badRequest('missing ciphertext to decrypt');
  contextSetIn(fields, items);
  const policy = await existingKey(store, fields.get('name'));
  return respond(fields, items, REWRAP_ITEM, REWRAP_SHAPE, (item) => {
    if (optionalAssociatedData(item) !== undefined) {
      throw badRequest('associated_data is not supported by rewrap: decrypt and encrypt again with it instead');
    }
    const ciphertext = item.get<string>('ciphertext');
    if (ciphertext === '') throw badRequest('missing ciphertext to decrypt');
    const opts = contextAndNonce(item);
    const { plaintext } = decryptEnvelope(policy, ciphertext, opts);
    const version = encryptionVersion(policy, item.get<number>('key_version'));
    return { ciphertext: encryptToEnvelope(policy, version, plaintext, opts), key_version: version };
  });
}
