/**
 * `sign/<name>[/<algorithm>]` and `verify/<name>[/<algorithm>]`, one item or
 * a `batch_input`:
 *
 *   sign    {input, context?, key_version?, hash_algorithm?, prehashed?, signature_algorithm?,
 *            marshaling_algorithm?, salt_length?} → {signature: "vault:v<N>:...", key_version[, public_key]}
 *   verify  {input, signature | hmac, ...the same options}  → {valid}
 *
 * Verify serves HMACs too (hmac.ts): which one is decided from the items
 * with Vault's rules and texts. The hash algorithm is the path's, else
 * hash_algorithm, else the deprecated algorithm; Ed25519 signs the message
 * itself and ignores it.
 */
import { badRequest, quoted } from '../../core/errors.ts';
import type { JsonObject } from '../../core/request-fields.ts';
import { genericName, optionalSegment, type FieldData, type FieldSchemas, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { batchItems, itemFields, respond, SIGN_SHAPE, VERIFY_SHAPE } from './batch.ts';
import { parseGoInt, TOO_OLD } from './ciphertext.ts';
import { existingKey } from './crypt.ts';
import { derivedEd25519, entryOf } from './derive.ts';
import { base64Bytes, batchInputField, CONTEXT_FIELD, KEY_VERSION_FIELD, keyNameField, urlAlgorithmField, type Fields } from './fields.ts';
import { goBase64Decode } from './go-base64.ts';
import { HASHES, hashAlgorithmField } from './hash.ts';
import { verifyHmac } from './hmac.ts';
import { templateParts, versionPrefix, type KeyPolicy } from './key-policy.ts';
import { supportsSigning } from './key-types.ts';
import type { KeyStore, StoreFor } from './key-store.ts';
import { decodeSignature, encodeSignature, signWith, verifyWith, type Marshaling, type SignatureOptions } from './signature.ts';

const SIGN_HASHES = [...HASHES.keys(), 'none'];

const COMMON_FIELDS: FieldSchemas = {
  name: keyNameField(),
  input: { type: 'string', description: 'Base64 input to sign or verify (already a digest when prehashed).' },
  context: { ...CONTEXT_FIELD, description: 'Base64 context for key derivation; required by derived (Ed25519) keys.' },
  urlalgorithm: urlAlgorithmField('signature'),
  hash_algorithm: hashAlgorithmField('signature', SIGN_HASHES, ' Ed25519 ignores it; "none" needs prehashed=true and signature_algorithm=pkcs1v15.'),
  algorithm: hashAlgorithmField('signature', SIGN_HASHES, ' Deprecated: use hash_algorithm.'),
  prehashed: { type: 'bool', description: 'Whether the input is already the digest (of hash_algorithm) rather than the message.' },
  signature_algorithm: { type: 'string', description: 'For RSA keys: "pss" (the default) or "pkcs1v15".' },
  marshaling_algorithm: {
    type: 'string',
    default: 'asn1',
    description: '"asn1" (the default: DER ECDSA signatures, standard base64) or "jws" (r||s, unpadded URL-safe base64).',
  },
  salt_length: {
    type: 'string',
    default: 'auto',
    description: 'For RSA-PSS: "auto" (the default: the longest the key allows when signing, detected when verifying), "hash" (the digest\'s length) or a number.',
  },
};

const SIGN_FIELDS: FieldSchemas = {
  ...COMMON_FIELDS,
  key_version: KEY_VERSION_FIELD,
  batch_input: batchInputField('"input", and optionally "context"'),
};
const SIGN_ITEM = itemFields(SIGN_FIELDS, ['input', 'context']);

const VERIFY_FIELDS: FieldSchemas = {
  ...COMMON_FIELDS,
  signature: { type: 'string', description: 'The signature to check, as sign returned it ("vault:v<N>:...").' },
  hmac: { type: 'string', description: 'The HMAC to check, as hmac/<name> returned it ("vault:v<N>:...").' },
  batch_input: batchInputField('"input" and "signature" (or "hmac"), and optionally "context"'),
};
const VERIFY_ITEM = itemFields(VERIFY_FIELDS, ['input', 'context', 'signature', 'hmac']);

/** The sign and verify paths. */
export function signPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  const namedWithAlgorithm = `${genericName('name')}${optionalSegment('urlalgorithm')}`;
  return [
    {
      pattern: `sign/${namedWithAlgorithm}`,
      fields: SIGN_FIELDS,
      synopsis: 'Sign data with a named key.',
      description: 'Ed25519, ECDSA and RSA keys sign; the signature is prefixed with the key version ("vault:v<N>:").',
      operations: { update: { summary: 'Sign an input or a batch of them.', handler: (req, f) => sign(storeFor(req), f) } },
    },
    {
      pattern: `verify/${namedWithAlgorithm}`,
      fields: VERIFY_FIELDS,
      synopsis: 'Verify signatures or HMACs of data made with a named key.',
      description: 'Give "signature" for signatures, "hmac" for HMACs (every item of a batch the same). A version older than the key\'s min_decryption_version is refused.',
      operations: { update: { summary: 'Verify a signature or HMAC, or a batch of them.', handler: (req, f) => verify(storeFor(req), f) } },
    },
  ];
}

interface SignArgs {
  options: SignatureOptions;
  hashName: string;
}

/** Go's strconv.Atoi for salt lengths. */
function saltLengthOf(raw: string): number {
  const lower = raw.toLowerCase();
  if (lower === 'auto') return 0;
  if (lower === 'hash') return -1;
  const n = parseGoInt(lower);
  if (n === undefined) throw badRequest(`salt length neither 'auto', 'hash', nor an int: ${quoted(raw)}`);
  if (n < -1) throw badRequest(`salt length is invalid: ${n}`);
  return n;
}

/** The request-wide options, checked with Vault's texts (before the key is looked up). */
function signArgs(fields: FieldData): SignArgs {
  const hashName = fields.getOk<string>('urlalgorithm') || fields.getOk<string>('hash_algorithm') || fields.getOk<string>('algorithm') || 'sha2-256';
  if (!SIGN_HASHES.includes(hashName)) throw badRequest(`invalid hash algorithm "${quoted(hashName)}"`);
  const marshaling = fields.get<string>('marshaling_algorithm');
  if (marshaling !== 'asn1' && marshaling !== 'jws') throw badRequest(`invalid marshaling type "${quoted(marshaling)}"`);
  const saltLength = saltLengthOf(fields.get<string>('salt_length'));
  return {
    hashName,
    options: {
      hash: HASHES.get(hashName),
      prehashed: fields.get<boolean>('prehashed'),
      marshaling: marshaling as Marshaling,
      saltLength,
      signatureAlgorithm: fields.get<string>('signature_algorithm'),
    },
  };
}

/** The key checks shared by sign and verify. */
function checkKey(policy: KeyPolicy, args: SignArgs, verb: 'signing' | 'verification'): void {
  if (!supportsSigning(policy.type)) throw badRequest(`key type ${policy.type} does not support ${verb}`);
  if (args.hashName === 'none' && (!args.options.prehashed || args.options.signatureAlgorithm !== 'pkcs1v15')) {
    throw badRequest('hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15');
  }
}

/**
 * The input's bytes. ECDSA and RSA sign its digest: Node hashes while it
 * signs, so the input goes in as it is, prehashed or not (signature.ts).
 */
function messageOf(item: Fields, single: boolean): Buffer {
  const raw = item.getOk<string>('input') ?? (single ? '' : undefined);
  if (raw === undefined) throw badRequest('missing input');
  return base64Bytes(raw, 'unable to decode input as base64: ');
}

function contextOf(item: Fields): Buffer | undefined {
  const raw = item.get<string>('context');
  if (raw === '') return undefined;
  const decoded = goBase64Decode(raw);
  if (!('bytes' in decoded)) throw badRequest('failed to base64-decode context');
  return decoded.bytes;
}

/** Vault's version checks for signing. */
function signingVersion(policy: KeyPolicy, requested: number): number {
  if (requested === 0) return policy.latestVersion;
  if (requested < 0) throw badRequest('requested version for signing is negative');
  if (requested > policy.latestVersion) throw badRequest('requested version for signing is higher than the latest key version');
  if (policy.minEncryptionVersion > 0 && requested < policy.minEncryptionVersion) {
    throw badRequest('requested version for signing is less than the minimum encryption key version');
  }
  return requested;
}

async function sign(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const args = signArgs(fields);
  const policy = await existingKey(store, fields.get('name'), 'signing key not found');
  checkKey(policy, args, 'signing');
  const items = batchItems(fields);
  const version = signingVersion(policy, fields.get<number>('key_version'));
  return respond(fields, items, SIGN_ITEM, SIGN_SHAPE, (item) => {
    const message = messageOf(item, items === undefined);
    const context = contextOf(item);
    const entry = entryOf(policy, version);
    let signature: Buffer;
    const result: Record<string, unknown> = {};
    if (policy.type === 'ed25519' && policy.derived) {
      const derived = derivedEd25519(policy, version, context);
      signature = signWith(policy.type, entry, message, args.options, derived.privateKey);
      result[items === undefined ? 'public_key' : 'publickey'] = derived.publicRaw.toString('base64');
    } else {
      signature = signWith(policy.type, entry, message, args.options);
    }
    return { signature: versionPrefix(policy, version) + encodeSignature(signature, args.options.marshaling), key_version: version, ...result };
  });
}

/** Which verification a request asks for, with Vault's rules and texts. */
function verificationKind(fields: FieldData, items: JsonObject[] | undefined): 'signature' | 'hmac' {
  const present = (value: unknown) => value !== undefined && value !== null;
  const list = items ?? [{ signature: fields.getOk('signature'), hmac: fields.getOk('hmac') }];
  let sigFound = false;
  let hmacFound = false;
  let missing = false;
  for (const item of list) {
    if (present(item.signature)) sigFound = true;
    else if (present(item.hmac)) hmacFound = true;
    else missing = true;
  }
  if (items === undefined && sigFound && present(list[0].hmac)) throw badRequest("provide one of 'signature' or 'hmac'");
  if (items === undefined && !sigFound && !hmacFound) throw badRequest("neither a 'signature' nor an 'hmac' were given to verify");
  if (sigFound && hmacFound) throw badRequest("elements of batch_input must all provide 'signature' or all provide 'hmac'");
  if (missing && sigFound) throw badRequest("some elements of batch_input are missing 'signature'");
  if (missing && hmacFound) throw badRequest("some elements of batch_input are missing 'hmac'");
  if (missing) throw badRequest("no batch_input elements have 'signature' or 'hmac'");
  return hmacFound ? 'hmac' : 'signature';
}

async function verify(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const items = batchItems(fields);
  if (verificationKind(fields, items) === 'hmac') return verifyHmac(store, fields, items, VERIFY_ITEM);
  const args = signArgs(fields);
  const policy = await existingKey(store, fields.get('name'), 'signature verification key not found');
  checkKey(policy, args, 'verification');
  const [before, after] = templateParts(policy);
  return respond(fields, items, VERIFY_ITEM, VERIFY_SHAPE, (item) => {
    const message = messageOf(item, items === undefined);
    const signature = item.getOk<string>('signature');
    if (signature === undefined) throw badRequest('missing signature');
    const context = contextOf(item);
    if (!signature.startsWith(before)) throw badRequest('invalid signature: no prefix');
    const rest = signature.slice(before.length);
    const split = rest.indexOf(after);
    if (split === -1) throw badRequest('invalid signature: wrong number of fields');
    const version = parseGoInt(rest.slice(0, split));
    if (version === undefined) throw badRequest('invalid signature: version number could not be decoded');
    if (version > policy.latestVersion) throw badRequest('invalid signature: version is too new');
    if (policy.minDecryptionVersion > 0 && version < policy.minDecryptionVersion) throw badRequest(TOO_OLD);
    const sigBytes = decodeSignature(rest.slice(split + after.length), args.options.marshaling, (text) => {
      const decoded = goBase64Decode(text);
      return 'bytes' in decoded ? decoded.bytes : undefined;
    });
    if (sigBytes === undefined) throw badRequest('invalid base64 signature value');
    const entry = entryOf(policy, version);
    const publicKey = policy.type === 'ed25519' && policy.derived ? derivedEd25519(policy, version, context).publicKey : undefined;
    return { valid: verifyWith(policy.type, entry, message, sigBytes, args.options, publicKey) };
  });
}

