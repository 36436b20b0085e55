/**
 * `datakey/plaintext/<name>` and `datakey/wrapped/<name>` `{bits?, key_version?,
 * context?, nonce?, associated_data?}`: a fresh data key (from the request's
 * random source) encrypted under the named transit key, bound to the
 * associated data when given (decrypt then needs the same). Answers
 * `{ciphertext, key_version}`, plus `plaintext: base64(data key)` for the
 * "plaintext" flavour. Decrypting the ciphertext with `decrypt/<name>` gives
 * back that same base64 plaintext.
 */
import { badRequest } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { genericName, type FieldData, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { encryptionVersion, encryptToEnvelope } from './ciphertext.ts';
import { existingKey } from './crypt.ts';
import { ASSOCIATED_DATA_FIELD, CONTEXT_FIELD, decodeAssociatedData, KEY_VERSION_FIELD, keyNameField, NONCE_FIELD } from './fields.ts';
import { isGoBase64 } from './go-base64.ts';
import { supportsAssociatedData } from './key-types.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const BYTES_FOR_BITS = new Map([[128, 16], [256, 32], [512, 64]]);
const DEFAULT_BITS = 256;

/** The `datakey/<plaintext|wrapped>/<name>` path. */
export function dataKeyPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `datakey/(?<plaintext>plaintext|wrapped)/${genericName('name')}`,
      fields: {
        plaintext: {
          type: 'string',
          description: '"plaintext" answers the data key both in plaintext and encrypted; "wrapped" only encrypted.',
        },
        name: keyNameField('Name of the key that encrypts the data key.'),
        context: CONTEXT_FIELD,
        nonce: NONCE_FIELD,
        bits: { type: 'int', default: DEFAULT_BITS, description: 'The data key\'s size in bits: 128, 256 (the default) or 512.' },
        key_version: KEY_VERSION_FIELD,
        associated_data: ASSOCIATED_DATA_FIELD,
      },
      synopsis: 'Generate a data key encrypted under a named key.',
      description: 'The data key comes from the mount\'s random source; decrypting its ciphertext with decrypt/<name> gives back its base64 plaintext.',
      operations: {
        update: { summary: 'Generate a data key.', handler: (req, f) => generateDataKey(storeFor(req), f, req.randomBytes) },
      },
    },
  ];
}

function optionalBytes(value: string, field: string): Buffer | undefined {
  if (value === '') return undefined;
  if (!isGoBase64(value)) throw badRequest(`failed to base64-decode ${field}`);
  return Buffer.from(value, 'base64');
}

async function generateDataKey(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  const context = optionalBytes(fields.get<string>('context'), 'context');
  const nonce = optionalBytes(fields.get<string>('nonce'), 'nonce');
  const policy = await existingKey(store, fields.get('name'));
  const size = BYTES_FOR_BITS.get(fields.get<number>('bits'));
  if (size === undefined) throw badRequest('invalid bit length');
  const rawAad = fields.get<string>('associated_data');
  if (rawAad !== '' && !supportsAssociatedData(policy.type)) {
    throw badRequest(`'associated_data' provided for non-AEAD cipher suite ${policy.type}`);
  }
  const associatedData = decodeAssociatedData(rawAad);
  const version = encryptionVersion(policy, fields.get<number>('key_version'));
  const dataKey = await random(size);
  try {
    const ciphertext = encryptToEnvelope(policy, version, dataKey, { context, nonce, associatedData });
    const result: Record<string, unknown> = { ciphertext, key_version: version };
    if (fields.get('plaintext') === 'plaintext') result.plaintext = dataKey.toString('base64');
    return { data: result };
  } finally {
    dataKey.fill(0);
  }
}
