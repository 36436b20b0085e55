/**
 * KV v2 storage layout (inside the mount's storage view):
 *
 *   config                    mount-wide settings (StoredConfig JSON)
 *   meta/<secret path>        one StoredMetadata JSON per secret, holding
 *                             the state of every kept version
 *   versions/<secret path>/<n> the data object of version n (JSON)
 *
 * A read is two gets (metadata, then the version's data); listing
 * `meta/<prefix>` is listing secrets. Times are stored as epoch milliseconds
 * and formatted only on the way out.
 */
import { getJson, jsonPut, putJson } from '../../storage-json.ts';
import type { LogicalStorage, LogicalWrite } from '../../types.ts';
import { type JsonObject } from '../../../core/request-fields.ts';
import { formatGoDuration, formatTimestamp } from '../params.ts';

/** Vault keeps 10 versions when neither the secret nor the mount says otherwise. */
export const DEFAULT_MAX_VERSIONS = 10;

export interface StoredConfig {
  maxVersions: number;
  casRequired: boolean;
  /** 0: not set; DELETE_VERSION_AFTER_DISABLED: no version is ever deleted by age. */
  deleteVersionAfterMs: number;
}

/** What a negative `config` delete_version_after stores: Vault's -1s, "never delete by age". */
export const DELETE_VERSION_AFTER_DISABLED = -1000;

export interface StoredVersion {
  createdMs: number;
  /** Set by a soft delete, or in advance by delete_version_after; null when live. */
  deletionMs: number | null;
  destroyed: boolean;
}

export interface StoredMetadata {
  createdMs: number;
  updatedMs: number;
  currentVersion: number;
  /** 0 until trimming first removes a version, as in Vault. */
  oldestVersion: number;
  /** 0 means "use the mount's setting". */
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterMs: number;
  customMetadata: Record<string, string> | null;
  versions: Record<string, StoredVersion>;
}

const CONFIG_KEY = 'config';
export const METADATA_PREFIX = 'meta/';
const metadataKey = (path: string) => `${METADATA_PREFIX}${path}`;
const versionKey = (path: string, version: number) => `versions/${path}/${version}`;

export async function loadConfig(storage: LogicalStorage): Promise<StoredConfig> {
  return (await getJson<StoredConfig>(storage, CONFIG_KEY)) ?? { maxVersions: 0, casRequired: false, deleteVersionAfterMs: 0 };
}

export const saveConfig = (storage: LogicalStorage, config: StoredConfig) => putJson(storage, CONFIG_KEY, config);

export const loadMetadata = (storage: LogicalStorage, path: string) => getJson<StoredMetadata>(storage, metadataKey(path));

export const saveMetadata = (storage: LogicalStorage, path: string, metadata: StoredMetadata) =>
  putJson(storage, metadataKey(path), metadata);

export function newMetadata(nowMs: number): StoredMetadata {
  return {
    createdMs: nowMs, updatedMs: nowMs, currentVersion: 0, oldestVersion: 0,
    maxVersions: 0, casRequired: false, deleteVersionAfterMs: 0, customMetadata: null, versions: {},
  };
}

export const loadVersionData = (storage: LogicalStorage, path: string, version: number) =>
  getJson<JsonObject>(storage, versionKey(path, version));

export const deleteVersionData = (storage: LogicalStorage, path: string, version: number) =>
  storage.delete(versionKey(path, version));

/** The writes of a new version, in one transaction: its data, the metadata that points at it, the trimmed versions' removal. */
export function newVersionWrites(path: string, version: number, data: JsonObject, metadata: StoredMetadata, trimmed: number[]): LogicalWrite[] {
  return [
    jsonPut(versionKey(path, version), data),
    jsonPut(metadataKey(path), metadata),
    ...trimmed.map((old): LogicalWrite => ({ op: 'delete', key: versionKey(path, old) })),
  ];
}

/** Removes the secret's metadata and every kept version's data. */
export async function deleteSecret(storage: LogicalStorage, path: string, metadata: StoredMetadata): Promise<void> {
  for (const version of Object.keys(metadata.versions)) await deleteVersionData(storage, path, Number(version));
  await storage.delete(metadataKey(path));
}

export function isDeleted(version: StoredVersion, nowMs: number): boolean {
  return version.deletionMs !== null && version.deletionMs <= nowMs;
}

/** The version's data can no longer be read (soft-deleted or destroyed). */
export function isUnreadable(version: StoredVersion, nowMs: number): boolean {
  return version.destroyed || isDeleted(version, nowMs);
}

/**
 * When a version written at `createdMs` is due for deletion, as Vault
 * decides: the shorter of the mount's and the secret's non-zero
 * delete_version_after, none when both are unset or the mount disables it.
 */
export function deletionDeadline(createdMs: number, metadata: StoredMetadata, config: StoredConfig): number | null {
  if (config.deleteVersionAfterMs < 0) return null;
  const set = [config.deleteVersionAfterMs, metadata.deleteVersionAfterMs].filter((ms) => ms > 0);
  return set.length === 0 ? null : createdMs + Math.min(...set);
}

export function effectiveMaxVersions(metadata: StoredMetadata, config: StoredConfig): number {
  return metadata.maxVersions || config.maxVersions || DEFAULT_MAX_VERSIONS;
}

/** Wire form of one version's state inside `metadata.versions`. */
function versionStateView(version: StoredVersion) {
  return {
    created_time: formatTimestamp(version.createdMs),
    deletion_time: version.deletionMs === null ? '' : formatTimestamp(version.deletionMs),
    destroyed: version.destroyed,
  };
}

/**
 * Wire form of a version as data reads and writes return it:
 * `{created_time, custom_metadata, deletion_time, destroyed, version}`.
 */
export function versionView(metadata: StoredMetadata, version: number): JsonObject {
  const { created_time, deletion_time, destroyed } = versionStateView(metadata.versions[String(version)]);
  return { created_time, custom_metadata: metadata.customMetadata, deletion_time, destroyed, version };
}

/** Wire form of `metadata/<path>` reads. */
export function metadataView(metadata: StoredMetadata): JsonObject {
  const versions: Record<string, ReturnType<typeof versionStateView>> = {};
  for (const [number, state] of Object.entries(metadata.versions)) versions[number] = versionStateView(state);
  return {
    cas_required: metadata.casRequired,
    created_time: formatTimestamp(metadata.createdMs),
    current_version: metadata.currentVersion,
    custom_metadata: metadata.customMetadata,
    delete_version_after: formatGoDuration(metadata.deleteVersionAfterMs),
    max_versions: metadata.maxVersions,
    oldest_version: metadata.oldestVersion,
    updated_time: formatTimestamp(metadata.updatedMs),
    versions,
  };
}

/** Wire form of `config` reads. */
export function configView(config: StoredConfig): JsonObject {
  return {
    cas_required: config.casRequired,
    delete_version_after: signedGoDuration(config.deleteVersionAfterMs),
    max_versions: config.maxVersions,
  };
}

/** Go's time.Duration text, negative values included ("-1s"). */
function signedGoDuration(ms: number): string {
  return ms < 0 ? `-${formatGoDuration(-ms)}` : formatGoDuration(ms);
}
