/**
 * `hmac/<name>[/<algorithm>]` `{input: base64, key_version?, algorithm?}` →
 * `{hmac: "vault:v<N>:<base64 mac>"}`, with `batch_input` too, and the HMAC
 * half of `verify/<name>` (sign.ts routes a request carrying `hmac` here).
 * Each key version has its own HMAC key, separate from its encryption key
 * (for hmac keys, the key itself). Every algorithm of Vault's list works
 * (sha1, SHA-2 and SHA-3).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest, quoted } from '../../core/errors.ts';
import { genericName, optionalSegment, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { batchItems, HMAC_SHAPE, itemFields, respond, VERIFY_SHAPE, type ItemSchema } from './batch.ts';
import { parseGoInt } from './ciphertext.ts';
import { existingKey } from './crypt.ts';
import { base64Bytes, batchInputField, KEY_VERSION_FIELD, keyNameField, urlAlgorithmField, type Fields } from './fields.ts';
import { goBase64Decode, illegalBase64 } from './go-base64.ts';
import { HASHES, hashAlgorithmField } from './hash.ts';
import type { KeyPolicy } from './key-policy.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const HMAC_FIELDS: FieldSchemas = {
  name: keyNameField('The key to use for the HMAC function.'),
  input: { type: 'string', description: 'Base64 input to authenticate.' },
  algorithm: hashAlgorithmField('HMAC', [...HASHES.keys()]),
  urlalgorithm: urlAlgorithmField('HMAC'),
  key_version: KEY_VERSION_FIELD,
  batch_input: batchInputField('"input"'),
};
const HMAC_ITEM = itemFields(HMAC_FIELDS, ['input']);

/** The `hmac/<name>[/<algorithm>]` path. */
export function hmacPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `hmac/${genericName('name')}${optionalSegment('urlalgorithm')}`,
      fields: HMAC_FIELDS,
      synopsis: 'Generate HMACs of data with a named key.',
      description: 'Each key version has its own HMAC key, separate from its encryption key. Verify with verify/<name> and "hmac".',
      operations: { update: { summary: 'HMAC an input or a batch of them.', handler: (req, f) => generateHmac(storeFor(req), f) } },
    },
  ];
}

/** Node's name of a Vault HMAC algorithm; Vault's 400 when unknown. */
function hmacHash(algorithm: string): string {
  const nodeName = HASHES.get(algorithm);
  if (nodeName === undefined) throw badRequest(`unsupported algorithm "${quoted(algorithm)}"`);
  return nodeName;
}

/** Vault's HMACKey(version). */
function hmacKeyOf(policy: KeyPolicy, version: number): Buffer {
  if (version < 0) throw badRequest('key version does not exist (cannot be negative)');
  if (version > policy.latestVersion) throw badRequest(`key version does not exist; latest key version is ${policy.latestVersion}`);
  const entry = version >= policy.minDecryptionVersion ? policy.versions.get(version) : undefined;
  if (entry === undefined) throw badRequest('no such key version');
  if (!entry.hmacKey.length) throw badRequest('no HMAC key exists for that key version');
  return entry.hmacKey;
}

const inputBytes = (raw: string) => base64Bytes(raw, 'unable to decode input as base64: ');

async function generateHmac(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const policy = await existingKey(store, fields.get('name'));
  let version = fields.get<number>('key_version');
  if (version === 0) version = policy.latestVersion;
  else if (version !== policy.latestVersion && policy.minEncryptionVersion > 0 && version < policy.minEncryptionVersion) {
    throw badRequest('cannot generate HMAC: version is too old (disallowed by policy)');
  }
  const key = hmacKeyOf(policy, version);
  const hash = hmacHash(fields.getOk<string>('urlalgorithm') || fields.get<string>('algorithm'));
  const items = batchItems(fields);
  if (items === undefined && fields.getOk('input') === undefined) throw badRequest('missing input for HMAC');
  const prefix = `vault:v${version}:`;
  return respond(fields, items, HMAC_ITEM, HMAC_SHAPE, (item) => {
    const raw = item.getOk<string>('input');
    if (raw === undefined) throw badRequest('missing input for HMAC');
    return { hmac: prefix + createHmac(hash, key).update(inputBytes(raw)).digest('base64') };
  });
}

/** The HMAC algorithm of a verify request: the path's, else hash_algorithm, else (deprecated) algorithm. */
export function verifyAlgorithm(fields: FieldData): string {
  return fields.getOk<string>('urlalgorithm') || fields.getOk<string>('hash_algorithm') || fields.getOk<string>('algorithm') || 'sha2-256';
}

/** `verify/<name>` with `hmac`: compares in constant time; Vault's texts for every malformed HMAC. */
export async function verifyHmac(store: KeyStore, fields: FieldData, items: ReturnType<typeof batchItems>, itemSchema: ItemSchema): Promise<LogicalResponse> {
  const policy = await existingKey(store, fields.get('name'));
  const hash = hmacHash(verifyAlgorithm(fields));
  return respond(fields, items, itemSchema, VERIFY_SHAPE, (item: Fields) => {
    const rawInput = item.getOk<string>('input') ?? (items === undefined ? '' : undefined);
    if (rawInput === undefined) throw badRequest('missing input');
    const input = inputBytes(rawInput);
    const hmac = item.getOk<string>('hmac');
    if (hmac === undefined) throw badRequest('missing hmac');
    if (!hmac.startsWith('vault:v')) throw badRequest('invalid HMAC to verify: no prefix');
    const rest = hmac.slice('vault:v'.length);
    const colon = rest.indexOf(':');
    if (colon === -1) throw badRequest('invalid HMAC: wrong number of fields');
    const version = parseGoInt(rest.slice(0, colon));
    if (version === undefined) throw badRequest('invalid HMAC: version number could not be decoded');
    const decoded = goBase64Decode(rest.slice(colon + 1));
    if (!('bytes' in decoded)) throw badRequest(`unable to decode verification HMAC as base64: ${illegalBase64(decoded.errorAt)}`);
    if (version > policy.latestVersion) throw badRequest('invalid HMAC: version is too new');
    if (policy.minDecryptionVersion > 0 && version < policy.minDecryptionVersion) throw badRequest('cannot verify HMAC: version is too old (disallowed by policy)');
    const expected = createHmac(hash, hmacKeyOf(policy, version)).update(input).digest();
    const claimed = decoded.bytes;
    return { valid: claimed.length === expected.length && timingSafeEqual(claimed, expected) };
  });
}

export { HMAC_ITEM };
