/**
 * Key management: `keys/` (list), `keys/<name>` (create, read, delete),
 * `keys/<name>/config` and `keys/<name>/rotate`. Create, config and rotate
 * answer with the key's description, as Vault 1.14+ does.
 */
import { badRequest, notFound } from '../../core/errors.ts';
import type { RandomSource } from '../../core/entropy.ts';
import type { LogicalResponse } from '../types.ts';
import { optionalBool, optionalDurationMs, optionalNonNegativeInt, type JsonObject } from '../../core/request-fields.ts';
import { keysResponse } from '../kv/responses.ts';
import { refuseEnabled } from './fields.ts';
import { describeKey, newKeyPolicy, parseKeyType, rotatedPolicy, type KeyPolicy } from './key-policy.ts';
import type { KeyStore } from './key-store.ts';

const MIN_AUTO_ROTATE_SECONDS = 3600;

/** Keys never leave Tresor, so the options that would let them are refused. */
function refuseKeyExport(data: JsonObject): void {
  refuseEnabled(data.exportable, 'exportable', 'transit keys never leave Tresor');
  refuseEnabled(data.allow_plaintext_backup, 'allow_plaintext_backup', 'transit keys never leave Tresor');
}

/** Refuses the key options Tresor does not implement (exportable, derived, convergent keys). */
export function refuseUnsupportedKeyOptions(data: JsonObject): void {
  refuseKeyExport(data);
  refuseEnabled(data.derived, 'derived', 'key derivation is not implemented');
  refuseEnabled(data.convergent_encryption, 'convergent_encryption', 'convergent encryption is not implemented');
}

/** `LIST keys/` → `{keys: [names]}`, 404 when there are none. */
export async function listKeys(store: KeyStore): Promise<LogicalResponse> {
  return keysResponse(await store.list());
}

/** `GET keys/<name>` → the key's description; 404 when absent. */
export async function readKey(store: KeyStore, name: string): Promise<LogicalResponse> {
  const policy = await store.get(name);
  if (policy === undefined) throw notFound();
  return { data: describeKey(policy) };
}

/**
 * `POST keys/<name>` `{type?, auto_rotate_period?}`: creates the key with
 * version 1; an existing key is left as it is (Vault's create is idempotent).
 */
export async function createKey(store: KeyStore, name: string, data: JsonObject, random: RandomSource): Promise<LogicalResponse> {
  const type = parseKeyType(data.type);
  refuseUnsupportedKeyOptions(data);
  const autoRotatePeriodSeconds = parseAutoRotatePeriod(data.auto_rotate_period) ?? 0;
  const policy = await store.update(name, async (current) =>
    current ?? { ...(await newKeyPolicy(name, type, random)), autoRotatePeriodSeconds });
  return { data: describeKey(policy) };
}

/** `DELETE keys/<name>`: only once `deletion_allowed` has been set through config. */
export async function deleteKey(store: KeyStore, name: string): Promise<LogicalResponse> {
  await store.delete(name, (current) => {
    if (current === undefined) throw badRequest('could not delete key: not found');
    if (!current.deletionAllowed) throw badRequest(`error deleting policy ${name}: deletion is not allowed for this key`);
  });
  return { status: 204 };
}

/** `POST keys/<name>/rotate`: adds a new latest version drawn from the request's random source. */
export async function rotateKey(store: KeyStore, name: string, random: RandomSource): Promise<LogicalResponse> {
  const policy = await store.update(name, async (current) => {
    if (current === undefined) throw badRequest('key not found');
    return rotatedPolicy(current, random);
  });
  return { data: describeKey(policy) };
}

/**
 * `POST keys/<name>/config` `{min_decryption_version?, min_encryption_version?,
 * deletion_allowed?, auto_rotate_period?}`. min_decryption_version 0 means 1,
 * min_encryption_version 0 means "latest"; neither may pass the latest
 * version, and a pinned encryption version may not be below the decryption floor.
 */
export async function configureKey(store: KeyStore, name: string, data: JsonObject): Promise<LogicalResponse> {
  refuseKeyExport(data);
  const minDecryption = optionalNonNegativeInt(data.min_decryption_version, 'min_decryption_version');
  const minEncryption = optionalNonNegativeInt(data.min_encryption_version, 'min_encryption_version');
  const deletionAllowed = optionalBool(data.deletion_allowed, 'deletion_allowed');
  const autoRotate = parseAutoRotatePeriod(data.auto_rotate_period);
  const policy = await store.update(name, async (current) => {
    if (current === undefined) throw badRequest(`no existing key named "${name}" could be found`);
    const next: KeyPolicy = {
      ...current,
      minDecryptionVersion: minDecryption === undefined ? current.minDecryptionVersion : Math.max(minDecryption, 1),
      minEncryptionVersion: minEncryption ?? current.minEncryptionVersion,
      deletionAllowed: deletionAllowed ?? current.deletionAllowed,
      autoRotatePeriodSeconds: autoRotate ?? current.autoRotatePeriodSeconds,
    };
    checkVersionFloors(next);
    return isSameConfig(current, next) ? current : next;
  });
  return { data: describeKey(policy) };
}

function checkVersionFloors(policy: KeyPolicy): void {
  const latest = policy.latestVersion;
  if (policy.minDecryptionVersion > latest) {
    throw badRequest(`cannot set min_decryption_version to ${policy.minDecryptionVersion}: the latest key version is ${latest}`);
  }
  if (policy.minEncryptionVersion > latest) {
    throw badRequest(`cannot set min_encryption_version to ${policy.minEncryptionVersion}: the latest key version is ${latest}`);
  }
  if (policy.minEncryptionVersion > 0 && policy.minEncryptionVersion < policy.minDecryptionVersion) {
    throw badRequest('min_encryption_version must not be below min_decryption_version');
  }
}

function isSameConfig(a: KeyPolicy, b: KeyPolicy): boolean {
  return a.minDecryptionVersion === b.minDecryptionVersion && a.minEncryptionVersion === b.minEncryptionVersion &&
    a.deletionAllowed === b.deletionAllowed && a.autoRotatePeriodSeconds === b.autoRotatePeriodSeconds;
}

/** Whole seconds; 0 disables, anything else must be at least an hour (Vault's floor). */
function parseAutoRotatePeriod(value: unknown): number | undefined {
  const ms = optionalDurationMs(value, 'auto_rotate_period');
  if (ms === undefined) return undefined;
  const seconds = Math.floor(ms / 1000);
  if (seconds !== 0 && seconds < MIN_AUTO_ROTATE_SECONDS) throw badRequest('"auto_rotate_period" must be 0 (disabled) or at least 1h');
  return seconds;
}
