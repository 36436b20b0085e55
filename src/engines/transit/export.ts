/**
 * `export/<type>/<name>[/<version>]` (Vault's export): the key material of
 * an exportable key, one entry per version (or the one asked for: a
 * number, "v<number>" or "latest"). Types: encryption-key, signing-key,
 * hmac-key, and public-key (which needs no exportable flag). Formats as
 * Vault's: by default raw base64 for symmetric and Ed25519 keys, PEM for
 * the others (SEC1 for ECDSA and PKCS#1 for RSA private keys); `der` and
 * `pem` give PKCS#8 / SubjectPublicKeyInfo for asymmetric keys.
 */
import { badRequest, notFound, quoted } from '../../core/errors.ts';
import { genericName, optionalSegment, type FieldData, type PathDeclaration } from '../../framework/index.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { keyNameField } from './fields.ts';
import { isPrivateKeyMissing, type KeyVersion } from './key-material.ts';
import type { KeyPolicy } from './key-policy.ts';
import { isEcdsa, isRsa, isSymmetricCipher, supportsEncryption, supportsSigning } from './key-types.ts';
import type { StoreFor } from './key-store.ts';
import { parseGoInt } from './ciphertext.ts';

const EXPORT_TYPES = new Set(['encryption-key', 'signing-key', 'hmac-key', 'public-key']);
const FORMATS = new Set(['', 'raw', 'der', 'pem']);

/** The `export/<type>/<name>[/<version>]` path. */
export function exportPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `export/${genericName('type')}/${genericName('name')}${optionalSegment('version')}`,
      fields: {
        type: { type: 'string', description: 'What to export: encryption-key, signing-key, hmac-key or public-key.' },
        name: keyNameField(),
        version: { type: 'string', description: 'The version to export: a number, "v<number>" or "latest" (default: every version).' },
        format: {
          type: 'string',
          description: '"" (the default for the key type), "raw" (base64 of symmetric and Ed25519 keys), "der" (base64 PKCS#8 or SubjectPublicKeyInfo) or "pem".',
        },
      },
      synopsis: 'Export the key material of a named transit key.',
      description: 'Private material needs a key created or configured with exportable=true; public keys are always exportable.',
      operations: {
        read: { summary: 'Export the key.', handler: async (req, f) => exportKey(await storeFor(req).get(f.get('name')), f) },
      },
    },
  ];
}

const SYMMETRIC_FORMAT_ERROR = 'unknown format for HMAC key; supported values are `` or `raw`';

function unknownType(policy: KeyPolicy, exportType: string): never {
  throw badRequest(`unknown key type ${policy.type} for export type ${exportType}`);
}

/** Vault's getExportKey for one version. */
function exportOne(policy: KeyPolicy, entry: KeyVersion, exportType: string, format: string): string {
  const type = policy.type;
  switch (exportType) {
    case 'hmac-key':
      if (format === 'der' || format === 'pem') throw badRequest(SYMMETRIC_FORMAT_ERROR);
      return (type === 'hmac' && entry.key ? entry.key : entry.hmacKey).toString('base64');
    case 'encryption-key':
      if (isSymmetricCipher(type)) {
        if (format === 'der' || format === 'pem') throw badRequest(SYMMETRIC_FORMAT_ERROR);
        return entry.key!.toString('base64');
      }
      if (isRsa(type)) return rsaPrivate(entry, format);
      return unknownType(policy, exportType);
    case 'signing-key':
      if (isEcdsa(type)) {
        if (format === 'raw') throw badRequest('unknown key format for ec key; supported values are ``, `der`, or `pem`');
        if (isPrivateKeyMissing(entry)) return '';
        if (format === '') return (entry.privateKey!.export({ type: 'sec1', format: 'pem' }) as string).trim();
        return pkcs8(entry, format).trim();
      }
      if (type === 'ed25519') {
        if (!entry.key) return '';
        if (format === '' || format === 'raw') return entry.key.toString('base64');
        return pkcs8(entry, format).trim();
      }
      if (isRsa(type)) return rsaPrivate(entry, format);
      return unknownType(policy, exportType);
    case 'public-key':
      if (isEcdsa(type)) {
        if (format === 'raw') throw badRequest('unknown key format for ec key; supported values are ``, `der`, or `pem`');
        return spki(entry, format).trim();
      }
      if (type === 'ed25519') {
        if (format === '' || format === 'raw') return entry.formattedPublicKey.trim();
        return spki(entry, format).trim();
      }
      if (isRsa(type)) {
        if (format === 'raw') throw badRequest('unknown key format for rsa key; supported values are ``, `der`, or `pem`');
        return spki(entry, format);
      }
      return unknownType(policy, exportType);
    default:
      return unknownType(policy, exportType);
  }
}

function rsaPrivate(entry: KeyVersion, format: string): string {
  if (format === 'raw') throw badRequest('unknown key format for rsa key; supported values are ``, `der`, or `pem`');
  if (isPrivateKeyMissing(entry)) return '';
  if (format === '') return entry.privateKey!.export({ type: 'pkcs1', format: 'pem' }) as string;
  return pkcs8(entry, format);
}

function pkcs8(entry: KeyVersion, format: string): string {
  const key = entry.privateKey!;
  if (format === 'der') return (key.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64');
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function spki(entry: KeyVersion, format: string): string {
  if (format === 'der') return (entry.publicKey!.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
  return entry.publicKey!.export({ type: 'spki', format: 'pem' }) as string;
}

function exportKey(policy: KeyPolicy | undefined, fields: FieldData): LogicalResponse {
  const exportType = fields.get<string>('type');
  const format = fields.get<string>('format');
  if (!EXPORT_TYPES.has(exportType)) throw badRequest(`invalid export type: ${quoted(exportType)}`);
  if (!FORMATS.has(format)) throw badRequest(`invalid format: ${quoted(format)}`);
  if (policy === undefined) throw notFound();
  if (!policy.exportable && exportType !== 'public-key') throw badRequest('private key material is not exportable');
  if (exportType === 'encryption-key' && !supportsEncryption(policy.type)) throw badRequest('encryption not supported for the key');
  if (exportType === 'signing-key' && !supportsSigning(policy.type)) throw badRequest('signing not supported for the key');
  const keys: Record<string, string> = {};
  const requested = fields.get<string>('version');
  if (requested === '') {
    for (const [version, entry] of policy.versions) {
      if (version >= policy.minDecryptionVersion) keys[String(version)] = exportOne(policy, entry, exportType, format);
    }
  } else {
    const version = requested === 'latest' ? policy.latestVersion : parseGoInt(requested.replace(/^v/, ''));
    if (version === undefined) throw badRequest('invalid key version');
    if (version < policy.minDecryptionVersion) throw badRequest('version for export is below minimum decryption version');
    const entry = policy.versions.get(version);
    if (entry === undefined) throw badRequest('version does not exist or cannot be found');
    keys[String(version)] = exportOne(policy, entry, exportType, format);
  }
  return { data: { name: policy.name, type: policy.type, keys } };
}
