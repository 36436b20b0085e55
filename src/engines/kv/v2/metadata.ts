/**
 * `metadata/<path>`: read, write or patch a secret's settings, delete the
 * secret with all its versions, list secrets.
 */
import { badRequest, notFound } from '../../../core/errors.ts';
import type { LogicalResponse, LogicalStorage } from '../../types.ts';
import { isAbsent, isPlainObject, optionalBool, optionalDurationMs, optionalNonNegativeInt, type JsonObject } from '../../../core/request-fields.ts';
import { listPrefix } from '../params.ts';
import { applyMergePatch } from './merge-patch.ts';
import {
  deleteSecret, loadMetadata, METADATA_PREFIX, metadataView, newMetadata, saveMetadata, type StoredMetadata,
} from './model.ts';
import { keysResponse } from '../responses.ts';

// Vault's limits on custom_metadata.
const MAX_CUSTOM_KEYS = 64;
const MAX_CUSTOM_KEY_LENGTH = 128;
const MAX_CUSTOM_VALUE_LENGTH = 512;

/** Read: `{data: {cas_required, created_time, current_version, ..., versions: {"1": {...}}}}`. */
export async function readMetadata(storage: LogicalStorage, path: string): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  if (metadata === undefined) throw notFound();
  return { data: metadataView(metadata) };
}

/** List: `{data: {keys: [...]}}` one level below `path`; 404 when empty. */
export async function listMetadata(storage: LogicalStorage, path: string): Promise<LogicalResponse> {
  return keysResponse(await storage.list(METADATA_PREFIX + listPrefix(path)));
}

/**
 * Write (`merge` false) or patch (`merge` true). Fields: max_versions,
 * cas_required, delete_version_after, custom_metadata (string values). Absent
 * fields keep their value. A write replaces custom_metadata whole; a patch
 * merges it (null removes a key). Creates the metadata if needed; 204.
 */
export async function writeMetadata(
  storage: LogicalStorage,
  path: string,
  body: JsonObject,
  nowMs: number,
  merge: boolean,
): Promise<LogicalResponse> {
  const maxVersions = optionalNonNegativeInt(body.max_versions, 'max_versions');
  const casRequired = optionalBool(body.cas_required, 'cas_required');
  const deleteVersionAfterMs = optionalDurationMs(body.delete_version_after, 'delete_version_after');
  const existing = await loadMetadata(storage, path);
  if (merge && existing === undefined) throw notFound();
  const metadata: StoredMetadata = existing ?? newMetadata(nowMs);
  const customMetadata = mergedCustomMetadata(metadata.customMetadata, body.custom_metadata, merge);
  if (maxVersions !== undefined) metadata.maxVersions = maxVersions;
  if (casRequired !== undefined) metadata.casRequired = casRequired;
  if (deleteVersionAfterMs !== undefined) metadata.deleteVersionAfterMs = deleteVersionAfterMs;
  metadata.customMetadata = customMetadata;
  await saveMetadata(storage, path, metadata);
  return { status: 204 };
}

function mergedCustomMetadata(
  current: Record<string, string> | null,
  given: unknown,
  merge: boolean,
): Record<string, string> | null {
  if (isAbsent(given)) return current;
  if (!isPlainObject(given)) throw badRequest('"custom_metadata" must be a JSON object of strings');
  const result = (merge ? applyMergePatch(current ?? {}, given) : given) as JsonObject;
  validateCustomMetadata(result);
  return Object.keys(result).length === 0 ? null : (result as Record<string, string>);
}

function validateCustomMetadata(customMetadata: JsonObject): void {
  const entries = Object.entries(customMetadata);
  if (entries.length > MAX_CUSTOM_KEYS) throw badRequest(`"custom_metadata" may hold at most ${MAX_CUSTOM_KEYS} keys`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_CUSTOM_KEY_LENGTH) {
      throw badRequest(`"custom_metadata" keys must be 1 to ${MAX_CUSTOM_KEY_LENGTH} characters`);
    }
    if (typeof value !== 'string') throw badRequest('"custom_metadata" values must be strings');
    if (value.length > MAX_CUSTOM_VALUE_LENGTH) {
      throw badRequest(`"custom_metadata" values must be at most ${MAX_CUSTOM_VALUE_LENGTH} characters`);
    }
  }
}

/** Delete: removes the metadata and every version's data; 204 even when absent. */
export async function deleteMetadata(storage: LogicalStorage, path: string): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  if (metadata !== undefined) await deleteSecret(storage, path, metadata);
  return { status: 204 };
}
