/**
 * `hmac/<name>[/<algorithm>]` `{input: base64, key_version?, algorithm?}` →
 * `{hmac: "vault:v<N>:<base64 mac>"}`, and `verify/<name>[/<algorithm>]`
 * `{input, hmac}` → `{valid}`; both take `batch_input` too. Each key version
 * has its own HMAC key, separate from its encryption key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import { genericName, optionalSegment, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { batchItems, itemFields, respond } from './batch.ts';
import { encryptionVersion, parseEnvelope } from './ciphertext.ts';
import { batchInputField, KEY_VERSION_FIELD, keyNameField, optionalNonNegative, requireBase64, urlAlgorithmField, type Fields } from './fields.ts';
import { hashAlgorithmField, nodeHashName } from './hash.ts';
import type { KeyPolicy } from './key-policy.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const INPUT_FIELD = { type: 'string', description: 'Base64 input to authenticate.' } as const;

const HMAC_FIELDS: FieldSchemas = {
  name: keyNameField(),
  input: INPUT_FIELD,
  algorithm: hashAlgorithmField('HMAC'),
  urlalgorithm: urlAlgorithmField('HMAC'),
  key_version: KEY_VERSION_FIELD,
  batch_input: batchInputField('"input", and optionally "key_version"'),
};
const HMAC_ITEM = itemFields(HMAC_FIELDS, ['input', 'key_version']);

const VERIFY_FIELDS: FieldSchemas = {
  name: keyNameField(),
  input: INPUT_FIELD,
  hmac: { type: 'string', description: 'The HMAC to check, as hmac/<name> returned it ("vault:v<N>:...").' },
  hash_algorithm: hashAlgorithmField('HMAC'),
  algorithm: hashAlgorithmField('HMAC', ' Deprecated: use hash_algorithm.'),
  urlalgorithm: urlAlgorithmField('HMAC'),
  batch_input: batchInputField('"input" and "hmac"'),
};
const VERIFY_ITEM = itemFields(VERIFY_FIELDS, ['input', 'hmac']);

/** The `hmac/<name>[/<algorithm>]` and `verify/<name>[/<algorithm>]` paths. */
export function hmacPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const namedWithAlgorithm = `${genericName('name')}${optionalSegment('urlalgorithm')}`;
  return [
    {
      pattern: `hmac/${namedWithAlgorithm}`,
      fields: HMAC_FIELDS,
      synopsis: 'Generate HMACs of data with a named key.',
      description: 'Each key version has its own HMAC key, separate from its encryption key.',
      operations: { update: { summary: 'HMAC an input or a batch of them.', handler: (req, f) => generateHmac(storeFor(req), f) } },
    },
    {
      pattern: `verify/${namedWithAlgorithm}`,
      fields: VERIFY_FIELDS,
      synopsis: 'Verify HMACs of data with a named key.',
      description: 'Only HMACs: signature verification is not supported. An HMAC older than the key\'s min_decryption_version is refused.',
      operations: { update: { summary: 'Verify an HMAC or a batch of them.', handler: (req, f) => verifyHmac(storeFor(req), f) } },
    },
  ];
}

function mac(policy: KeyPolicy, version: number, hashName: string, input: Buffer): Buffer {
  const entry = policy.versions.get(version);
  if (entry === undefined) throw badRequest('invalid hmac: unknown key version');
  return createHmac(hashName, entry.hmacKey).update(input).digest();
}

function inputOf(item: Fields): Buffer {
  return requireBase64(item, 'input', 'missing input to hmac');
}

async function existingKey(store: KeyStore, name: string): Promise<KeyPolicy> {
  const policy = await store.get(name);
  if (policy === undefined) throw badRequest('encryption key not found');
  return policy;
}

async function generateHmac(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const items = batchItems(fields);
  const hashName = nodeHashName(fields.getOk<string>('urlalgorithm') || fields.getOk<string>('algorithm'));
  const policy = await existingKey(store, fields.get('name'));
  return respond(fields, items, HMAC_ITEM, (item) => {
    const version = encryptionVersion(policy, optionalNonNegative(item, 'key_version'));
    return { hmac: `vault:v${version}:${mac(policy, version, hashName, inputOf(item)).toString('base64')}` };
  });
}

/** Compares in constant time; a version below min_decryption_version is a 400, not merely invalid. */
async function verifyHmac(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const items = batchItems(fields);
  // The path's algorithm, else hash_algorithm, else its older name algorithm (the first one not empty).
  const hashName = nodeHashName(fields.getOk<string>('urlalgorithm') || fields.getOk<string>('hash_algorithm') || fields.getOk<string>('algorithm'));
  const policy = await existingKey(store, fields.get('name'));
  return respond(fields, items, VERIFY_ITEM, (item) => {
    const hmac = item.getOk<string>('hmac');
    if (hmac === undefined) throw badRequest('missing hmac to verify (signature verification is not supported)');
    const { version, sealed: claimed } = parseEnvelope(hmac, 'hmac');
    if (version < policy.minDecryptionVersion) throw badRequest('hmac version is disallowed by policy (too old)');
    const expected = mac(policy, version, hashName, inputOf(item));
    return { valid: claimed.length === expected.length && timingSafeEqual(claimed, expected) };
  });
}
