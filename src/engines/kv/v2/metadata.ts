/**
 * `metadata/<path>`: read, write or patch a secret's settings, delete the
 * secret with all its versions, list secrets.
 */
import { badRequest, notFound } from '../../../core/errors.ts';
import type { FieldData, PathDeclaration } from '../../../framework/index.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage } from '../../types.ts';
import { type JsonObject } from '../../../core/request-fields.ts';
import { isValidSecretPath, listPrefix } from '../params.ts';
import { applyMergePatch } from './merge-patch.ts';
import {
  deleteSecret, loadMetadata, METADATA_PREFIX, metadataView, newMetadata, saveMetadata, type StoredMetadata,
} from './model.ts';
import { keysResponse } from '../responses.ts';
import { changeSecret, nonNegativeInt, readSecret, SECRET_PATH_FIELD, secretPattern, type KvV2Mount } from './shared.ts';

// Vault's limits on custom_metadata.
const MAX_CUSTOM_KEYS = 64;
const MAX_CUSTOM_KEY_LENGTH = 128;
const MAX_CUSTOM_VALUE_LENGTH = 512;

export function metadataPath(mount: KvV2Mount): PathDeclaration<LogicalRequest> {
  return {
    pattern: secretPattern('metadata'),
    fields: {
      path: SECRET_PATH_FIELD,
      max_versions: { type: 'int', description: 'How many versions of this secret to keep; 0 uses the mount\'s setting.' },
      cas_required: { type: 'bool', description: 'Whether every write of this secret must carry the check-and-set option "cas"; false defers to the mount.' },
      delete_version_after: {
        type: 'duration',
        description: 'How long after it is written a version of this secret is deleted; the mount\'s setting wins when shorter. 0 clears it.',
      },
      custom_metadata: {
        type: 'map',
        description: `Free-form string pairs describing the secret (at most ${MAX_CUSTOM_KEYS} keys of up to ${MAX_CUSTOM_KEY_LENGTH} characters, values up to ${MAX_CUSTOM_VALUE_LENGTH}).`,
      },
      exclude_deleted: { type: 'bool', description: 'On a list, leave out secrets whose current version is deleted.' },
    },
    synopsis: 'The settings and version history of a secret; listing secrets.',
    description: 'A read returns the secret\'s settings and the state of every kept version; a write changes the given settings (creating the metadata if needed), a patch merges them; a delete removes the secret with all its versions; a list returns the secrets under a folder.',
    existenceCheck: async (req, fields) => {
      const path = fields.get<string>('path');
      return isValidSecretPath(path) && (await loadMetadata(req.storage, path)) !== undefined;
    },
    operations: {
      read: {
        summary: 'Read the secret\'s settings and versions.',
        handler: (req, fields) => readSecret(fields, (path) => readMetadata(req.storage, path)),
      },
      list: {
        summary: 'List the secrets under a folder.',
        handler: (req, fields) => listMetadata(req.storage, fields.get('path'), fields.get('exclude_deleted')),
      },
      update: {
        summary: 'Write the secret\'s settings.',
        handler: (req, fields) => changeSecret(mount, fields, (path, nowMs) => writeMetadata(req.storage, path, fields, nowMs, false)),
      },
      patch: {
        summary: 'Merge changes into the secret\'s settings.',
        handler: (req, fields) => changeSecret(mount, fields, (path, nowMs) => writeMetadata(req.storage, path, fields, nowMs, true)),
      },
      delete: {
        summary: 'Delete the secret with every version.',
        handler: (req, fields) => changeSecret(mount, fields, (path) => deleteMetadata(req.storage, path)),
      },
    },
  };
}

/** Read: `{data: {cas_required, created_time, current_version, ..., versions: {"1": {...}}}}`. */
async function readMetadata(storage: LogicalStorage, path: string): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  if (metadata === undefined) throw notFound();
  return { data: metadataView(metadata) };
}

/**
 * List: `{data: {keys: [...]}}` one level below `path`; 404 when empty.
 * With exclude_deleted, a secret whose current version carries a deletion
 * time is left out (as Vault does, a scheduled one counts too).
 */
async function listMetadata(storage: LogicalStorage, path: string, excludeDeleted: boolean): Promise<LogicalResponse> {
  const prefix = listPrefix(path);
  const keys = await storage.list(METADATA_PREFIX + prefix);
  if (!excludeDeleted) return keysResponse(keys);
  const kept: string[] = [];
  for (const key of keys) {
    if (!key.endsWith('/')) {
      const metadata = await loadMetadata(storage, prefix + key);
      const current = metadata?.versions[String(metadata.currentVersion)];
      if (current !== undefined && current.deletionMs !== null) continue;
    }
    kept.push(key);
  }
  return keysResponse(kept);
}

/**
 * Write (`merge` false) or patch (`merge` true). Fields: max_versions,
 * cas_required, delete_version_after, custom_metadata (string values). Absent
 * fields keep their value. A write replaces custom_metadata whole; a patch
 * merges it (null removes a key). Creates the metadata if needed; 204.
 */
async function writeMetadata(
  storage: LogicalStorage,
  path: string,
  fields: FieldData,
  nowMs: number,
  merge: boolean,
): Promise<LogicalResponse> {
  const maxVersions = nonNegativeInt(fields, 'max_versions');
  const casRequired = fields.getOk<boolean>('cas_required');
  const deleteVersionAfter = fields.getOk<number>('delete_version_after');
  const existing = await loadMetadata(storage, path);
  if (merge && existing === undefined) throw notFound();
  const metadata: StoredMetadata = existing ?? newMetadata(nowMs);
  const customMetadata = mergedCustomMetadata(metadata.customMetadata, fields.getOk<JsonObject>('custom_metadata'), merge);
  if (maxVersions !== undefined) metadata.maxVersions = maxVersions;
  if (casRequired !== undefined) metadata.casRequired = casRequired;
  if (deleteVersionAfter !== undefined) metadata.deleteVersionAfterMs = deleteVersionAfter * 1000;
  metadata.customMetadata = customMetadata;
  await saveMetadata(storage, path, metadata);
  return { status: 204 };
}

function mergedCustomMetadata(
  current: Record<string, string> | null,
  given: JsonObject | undefined,
  merge: boolean,
): Record<string, string> | null {
  if (given === undefined) return current;
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
async function deleteMetadata(storage: LogicalStorage, path: string): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  if (metadata !== undefined) await deleteSecret(storage, path, metadata);
  return { status: 204 };
}
