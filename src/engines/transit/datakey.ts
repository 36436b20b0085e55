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
import type { LogicalResponse } from '../types.ts';
import { isAbsent, optionalNonNegativeInt, type JsonObject } from '../../core/request-fields.ts';
import { NONCE_BYTES } from './aead.ts';
import { encryptionVersion, encryptToEnvelope } from './ciphertext.ts';
import { associatedDataFor, keyForEncryption } from './crypt.ts';
import { optionalAssociatedData, refuseContext } from './fields.ts';
import type { KeyStore } from './key-store.ts';

const ALLOWED_BITS = new Set([128, 256, 512]);

export type DataKeyFlavour = 'plaintext' | 'wrapped';

export async function generateDataKey(
  store: KeyStore, name: string, flavour: DataKeyFlavour, data: JsonObject, random: RandomSource,
): Promise<LogicalResponse> {
  refuseContext(data.context);
  if (!isAbsent(data.nonce)) throw badRequest('"nonce" is only allowed with convergent encryption, which is not supported');
  const bits = optionalNonNegativeInt(data.bits, 'bits') ?? 256;
  if (!ALLOWED_BITS.has(bits)) throw badRequest('"bits" must be 128, 256 or 512');
  const requestedVersion = optionalNonNegativeInt(data.key_version, 'key_version');
  optionalAssociatedData(data.associated_data); // malformed input is refused before the key lookup
  const policy = await keyForEncryption(store, name, random);
  const version = encryptionVersion(policy, requestedVersion);
  const aad = associatedDataFor(policy, data.associated_data, 'associated_data');
  const dataKey = await random(bits / 8);
  const ciphertext = encryptToEnvelope(policy, version, dataKey, randomBytes(NONCE_BYTES), aad);
  const result: Record<string, unknown> = { ciphertext, key_version: version };
  if (flavour === 'plaintext') result.plaintext = dataKey.toString('base64');
  dataKey.fill(0);
  return { data: result };
}
