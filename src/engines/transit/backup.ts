/**
 * `backup/<name>` and `restore[/<name>]` (Vault's plaintext key backups).
 * A backup is base64 of Vault's KeyData JSON: `{policy: <the policy JSON,
 * versions from min_decryption_version on>, archived_keys: {keys: [<every
 * version from min_available_version on, Vault's archive>]}}`, so a backup
 * taken from Vault restores here and the reverse. Backups need a key that
 * is both exportable and allow_plaintext_backup; restoring over an
 * existing key needs `force`.
 */
import { badRequest } from '../../core/errors.ts';
import { genericName, optionalSegment, type FieldData, type PathDeclaration } from '../../framework/index.ts';
import { rfc3339NanoNow } from '../../core/wrapping.ts';
import type { LogicalRequest, LogicalResponse } from '../types.ts';
import { keyNameField } from './fields.ts';
import { goBase64Decode } from './go-base64.ts';
import { archiveOf, fromStored, toStored, type KeyPolicy, type StoredKeyEntry, type StoredPolicy } from './key-policy.ts';
import type { KeyStore, StoreFor } from './key-store.ts';
import { parseBigJson, stringifyBigJson } from './vault-json.ts';

const KEY_NAME = new RegExp(`^${genericName('n')}$`);

/** The backup and restore paths. */
export function backupPaths(storeFor: StoreFor): PathDeclaration<LogicalRequest>[] {
  return [
    {
      pattern: `backup/${genericName('name')}`,
      fields: { name: keyNameField() },
      synopsis: 'Back up a named transit key.',
      description: 'Answers {backup}: every version with its key material, in Vault\'s format. Needs exportable and allow_plaintext_backup on the key.',
      operations: { read: { summary: 'Back up the key.', handler: (req, f) => backupKey(storeFor(req), f.get('name')) } },
    },
    {
      pattern: `restore${optionalSegment('name')}`,
      fields: {
        backup: { type: 'string', sensitive: true, description: 'The backup to restore, as backup/<name> answered it.' },
        name: keyNameField('The name to restore the key under (default: the name in the backup).'),
        force: { type: 'bool', default: false, description: 'Whether to replace an existing key of that name.' },
      },
      synopsis: 'Restore a transit key from a backup.',
      description: 'Refuses to replace an existing key unless force is set.',
      operations: { update: { summary: 'Restore the key.', handler: (req, f) => restoreKey(storeFor(req), f) } },
    },
  ];
}

async function backupKey(store: KeyStore, name: string): Promise<LogicalResponse> {
  let backup = '';
  await store.update(name, async (current) => {
    if (current === undefined) throw badRequest(`key "${name}" not found`);
    if (!current.exportable) throw badRequest('exporting is disallowed on the policy');
    if (!current.allowPlaintextBackup) throw badRequest('plaintext backup is disallowed on the policy');
    // The backup records itself in the policy, as Vault's does, before it is taken.
    const next: KeyPolicy = { ...current, backupInfo: { time: rfc3339NanoNow(), version: current.latestVersion } };
    const live = [...next.versions.keys()].filter((version) => version >= next.minDecryptionVersion);
    const keyData = { policy: toStored(next, live), archived_keys: { keys: archiveOf(next) } };
    backup = Buffer.from(stringifyBigJson(keyData), 'utf8').toString('base64');
    return next;
  });
  return { data: { backup } };
}

/** A backup's policy, or a 400 saying why it is not one (never echoing its content). */
function parseBackup(text: string): KeyPolicy {
  const decoded = goBase64Decode(text);
  if (!('bytes' in decoded)) throw badRequest(`illegal base64 data at input byte ${decoded.errorAt}`);
  let keyData: { policy?: StoredPolicy; archived_keys?: { keys?: StoredKeyEntry[] } | null };
  try {
    keyData = parseBigJson(decoded.bytes.toString('utf8')) as typeof keyData;
  } catch {
    throw badRequest('invalid backup: not JSON');
  }
  if (typeof keyData !== 'object' || keyData === null || typeof keyData.policy !== 'object' || keyData.policy === null) {
    throw badRequest('invalid backup: no policy');
  }
  const archived = Array.isArray(keyData.archived_keys?.keys) ? keyData.archived_keys.keys : undefined;
  return fromStored(keyData.policy, archived);
}

async function restoreKey(store: KeyStore, fields: FieldData): Promise<LogicalResponse> {
  const backup = fields.get<string>('backup');
  const force = fields.get<boolean>('force');
  if (backup === '') throw badRequest("'backup' must be supplied");
  const requested = fields.get<string>('name');
  if (requested.includes('/')) throw badRequest('key names cannot be paths');
  const parsed = parseBackup(backup);
  const name = requested || parsed.name;
  if (name.includes('/')) throw badRequest('key names cannot be paths');
  if (!KEY_NAME.test(name)) throw badRequest('invalid key name');
  await store.update(name, async (current) => {
    if (current !== undefined && !force) throw badRequest(`key "${name}" already exists`);
    return { ...parsed, name, restoreInfo: { time: rfc3339NanoNow(), version: parsed.latestVersion } };
  });
  return { status: 204 };
}
