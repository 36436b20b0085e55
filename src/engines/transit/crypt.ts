/**
 * `encrypt/<name>`, `decrypt/<name>` and `rewrap/<name>`, each taking one
 * item or a `batch_input` (see batch.ts). The key is looked up once per
 * request from the in-memory cache, never once per batch item.
 *
 *   encrypt  {plaintext: base64, key_version?, associated_data?} → {ciphertext: "vault:v<N>:...", key_version}
 *   decrypt  {ciphertext, associated_data?}                      → {plaintext: base64}
 *   rewrap   {ciphertext, key_version?}                          → {ciphertext, key_version}
 *
 * `associated_data` (base64) is bound into the AEAD tag as in Vault: a
 * ciphertext decrypts only with the same associated data it was encrypted
 * with. In a batch each item has its own. Rewrap does not take it (as in
 * Vault, whose rewrap has no such field), and says so rather than ignore it.
 */
import { randomBytes } from 'node:crypto';
import { badRequest, TresorError } from '../../core/errors.ts';
import type { JsonObject } from '../../core/request-fields.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { genericName, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { batchItems, itemFields, respond, type ItemResult } from './batch.ts';
import { decryptEnvelope, encryptionVersion, encryptToEnvelope } from './ciphertext.ts';
import { ASSOCIATED_DATA_SUPPORTED, NONCE_BYTES } from './aead.ts';
import {
  ASSOCIATED_DATA_FIELD, batchInputField, CONTEXT_FIELD, decodeAssociatedData, type Fields, KEY_VERSION_FIELD, keyNameField, NONCE_FIELD,
  optionalAssociatedData, optionalNonNegative, PARTIAL_FAILURE_FIELD, refuseContext, refuseEnabled, requireBase64,
} from './fields.ts';
import { isDueForRotation, newKeyPolicy, parseKeyType, rotatedPolicy, SUPPORTED_KEY_TYPES, type KeyPolicy, type KeyType } from './key-policy.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const KEY_NOT_FOUND = 'encryption key not found';

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
    description: `The type of the key when encrypt creates it: ${SUPPORTED_KEY_TYPES.map((t) => `"${t}"`).join(' or ')}.`,
  },
  convergent_encryption: {
    type: 'bool',
    description: 'Whether a key created by encrypt is convergent. Refused when true: convergent encryption is not implemented.',
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
      description: 'The plaintext must be base64. A key that does not exist yet is created (of the requested type), so a policy needs "create" for that and "update" to use an existing key.',
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
        update: { summary: 'Rewrap a ciphertext or a batch of them.', handler: (req, f) => rewrap(storeFor(req), f, req.randomBytes) },
      },
    },
  ];
}

/**
 * The key to encrypt with, rotated first when its auto_rotate_period has
 * passed. With `createAs`, a missing key is created with that type (Vault's
 * upsert on encrypt); without it, a missing key is a 400.
 */
export async function keyForEncryption(store: KeyStore, name: string, random: RandomSource, createAs?: KeyType): Promise<KeyPolicy> {
  const cached = await store.get(name);
  if (cached !== undefined && !isDueForRotation(cached)) return cached;
  if (cached === undefined && createAs === undefined) throw badRequest(KEY_NOT_FOUND);
  return store.update(name, async (current) => {
    if (current === undefined) {
      if (createAs === undefined) throw badRequest(KEY_NOT_FOUND);
      return newKeyPolicy(name, createAs, random);
    }
    return isDueForRotation(current) ? rotatedPolicy(current, random) : current;
  });
}

/** The key to decrypt with; 400 when it does not exist. */
async function keyForDecryption(store: KeyStore, name: string): Promise<KeyPolicy> {
  const policy = await store.get(name);
  if (policy === undefined) throw badRequest(KEY_NOT_FOUND);
  return policy;
}

/**
 * An item's associated data (a base64 `value`) for `policy`; refused with
 * Vault's message (`field` names it, e.g. "[0].associated_data") when the
 * key type's cipher cannot bind it, so it is never silently dropped.
 */
export function associatedDataFor(policy: KeyPolicy, value: string | undefined, field: string): Buffer | undefined {
  return checkAssociatedData(policy, decodeAssociatedData(value), field);
}

function checkAssociatedData(policy: KeyPolicy, aad: Buffer | undefined, field: string): Buffer | undefined {
  if (aad !== undefined && !ASSOCIATED_DATA_SUPPORTED[policy.type]) {
    throw badRequest(`'${field}' provided for non-AEAD cipher suite ${policy.type}`);
  }
  return aad;
}

/** One encrypt item, checked and decoded (so a single request is checked before any key is created). */
interface EncryptInput {
  plaintext: Buffer;
  version: number | undefined;
  aad: Buffer | undefined;
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
  const plaintext = requireBase64(item, 'plaintext', 'missing plaintext to encrypt');
  const aad = optionalAssociatedData(item);
  refuseContext(item);
  return { plaintext, version: optionalNonNegative(item, 'key_version'), aad };
}

/** Encrypts under the requested (or latest) version with a fresh nonce, binding the associated data when given. */
function seal(policy: KeyPolicy, input: EncryptInput, index: number): ItemResult {
  const aad = checkAssociatedData(policy, input.aad, `[${index}].associated_data`);
  const version = encryptionVersion(policy, input.version);
  return { ciphertext: encryptToEnvelope(policy, version, input.plaintext, randomBytes(NONCE_BYTES), aad), key_version: version };
}

/** Encrypts one item or a batch, creating the key first when it does not exist. */
async function encrypt(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const items = batchItems(fields);
  const single = items === undefined ? encryptInput(fields) : undefined;
  refuseEnabled(fields, 'convergent_encryption', 'convergent encryption is not implemented');
  // A batch none of whose items can be encrypted is a 400: it must not create the key on the way (Vault reads
  // the items before its upsert too).
  if (items !== undefined && !items.some(isEncryptable) && (await store.get(fields.get('name'))) === undefined) {
    return respond(fields, items, ENCRYPT_ITEM, (item) => {
      encryptInput(item);
      throw badRequest('the item cannot be encrypted');
    });
  }
  const policy = await keyForEncryption(store, fields.get('name'), random, parseKeyType(fields.getOk('type')));
  return respond(fields, items, ENCRYPT_ITEM, (item, i) => seal(policy, single ?? encryptInput(item), i));
}

/** Decrypts one item or a batch; a missing key is a 400. */
async function decrypt(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const items = batchItems(fields); // a malformed batch is reported before the key lookup, as in Vault
  const policy = await keyForDecryption(store, fields.get('name'));
  return respond(fields, items, DECRYPT_ITEM, (item, i) => {
    refuseContext(item);
    const aad = associatedDataFor(policy, item.getOk('associated_data'), `[${i}].associated_data`);
    return { plaintext: decryptEnvelope(policy, item.getOk('ciphertext'), aad).plaintext.toString('base64') };
  });
}

/** Re-encrypts ciphertexts under the requested (default: latest) version without revealing the plaintext. */
async function rewrap(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const items = batchItems(fields); // a malformed batch is reported before the key lookup, as in Vault
  const policy = await keyForEncryption(store, fields.get('name'), random);
  return respond(fields, items, REWRAP_ITEM, (item, i) => {
    if (optionalAssociatedData(item) !== undefined) {
      throw badRequest('associated_data is not supported by rewrap: decrypt and encrypt again with it instead');
    }
    const { plaintext } = decryptEnvelope(policy, item.getOk('ciphertext'));
    refuseContext(item);
    return seal(policy, { plaintext, version: optionalNonNegative(item, 'key_version'), aad: undefined }, i);
  });
}
