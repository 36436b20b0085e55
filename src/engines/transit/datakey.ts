/**
 * `datakey/plaintext/<name>` and `datakey/wrapped/<name>` `{bits?, key_version?,
 * associated_data?}`: a fresh data key (from the request's random source)
 * encrypted under the named transit key, bound to the associated data when
 * given (decrypt then needs the same). Answers `{ciphertext, key_version}`, plus
 * `plaintext: base64(data key)` for the "plaintext" flavour. Decrypting the
 * ciphertext with `decrypt/<name>` gives back that same base64 plaintext.
 */
import { randomBytes } from 'node:crypto';
import { badRequest } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import { genericName, type FieldData, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { NONCE_BYTES } from './aead.ts';
import { encryptionVersion, encryptToEnvelope } from './ciphertext.ts';
import { associatedDataFor, keyForEncryption } from './crypt.ts';
import {
  ASSOCIATED_DATA_FIELD, CONTEXT_FIELD, KEY_VERSION_FIELD, keyNameField, NONCE_FIELD, optionalAssociatedData, optionalNonNegative,
  refuseContext,
} from './fields.ts';
import type { KeyStore, StoreFor } from './key-store.ts';

const ALLOWED_BITS = new Set([128, 256, 512]);
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
        nonce: { ...NONCE_FIELD, description: 'Base64 nonce for convergent encryption. Refused: convergent encryption is not supported.' },
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

async function generateDataKey(store: KeyStore, fields: FieldData, random: RandomSource): Promise<LogicalResponse> {
  refuseContext(fields);
  if (fields.get<string>('nonce') !== '') throw badRequest('"nonce" is only allowed with convergent encryption, which is not supported');
  const bits = fields.getOk<number>('bits') ?? DEFAULT_BITS;
  if (!ALLOWED_BITS.has(bits)) throw badRequest('"bits" must be 128, 256 or 512');
  const requestedVersion = optionalNonNegative(fields, 'key_version');
  optionalAssociatedData(fields); // malformed input is refused before the key lookup
  const policy = await keyForEncryption(store, fields.get('name'), random);
  const version = encryptionVersion(policy, requestedVersion);
  const aad = associatedDataFor(policy, fields.getOk('associated_data'), 'associated_data');
  const dataKey = await random(bits / 8);
  const ciphertext = encryptToEnvelope(policy, version, dataKey, randomBytes(NONCE_BYTES), aad);
  const result: Record<string, unknown> = { ciphertext, key_version: version };
  if (fields.get('plaintext') === 'plaintext') result.plaintext = dataKey.toString('base64');
  dataKey.fill(0);
  return { data: result };
}
