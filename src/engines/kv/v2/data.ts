/**
 * `data/<path>`: read a version, write a new one, patch the current one,
 * soft-delete the current one.
 */
import { badRequest, notFound } from '../../../core/errors.ts';
import { decodeField, type FieldData, type FieldSchema, type PathDeclaration } from '../../../framework/index.ts';
import { writeAll, type LogicalRequest, type LogicalResponse, type LogicalStorage } from '../../types.ts';
import { isValidSecretPath } from '../params.ts';
import { type JsonObject } from '../../../core/request-fields.ts';
import { applyMergePatch } from './merge-patch.ts';
import {
  deletionDeadline, effectiveMaxVersions, isUnreadable, loadConfig, loadMetadata, loadVersionData,
  newMetadata, newVersionWrites, saveMetadata, versionView, type StoredConfig, type StoredMetadata,
} from './model.ts';
import { changeSecret, nonNegativeInt, readSecret, SECRET_PATH_FIELD, secretPattern, type KvV2Mount } from './shared.ts';
import { checkCas, findReadTarget } from './versions.ts';

export function dataPath(mount: KvV2Mount): PathDeclaration<LogicalRequest> {
  return {
    pattern: secretPattern('data'),
    fields: {
      path: SECRET_PATH_FIELD,
      version: { type: 'int', description: 'On a read, the version to return; 0 or absent returns the current one.' },
      options: {
        type: 'map',
        description: 'Write options. "cas" (check-and-set): the write succeeds only if the current version equals it; 0 means only if the secret has no version yet.',
      },
      data: { type: 'map', description: 'The secret: stored as given on a write, merged into the current version on a patch (JSON merge patch).' },
    },
    synopsis: 'Read and write the versions of a secret.',
    description: 'A write stores "data" as a new version and returns its metadata; a read returns a version with its metadata (404 with the metadata when it is deleted or destroyed); a patch merges into the current version; a delete soft-deletes the current version.',
    existenceCheck: async (req, fields) => {
      const path = fields.get<string>('path');
      return isValidSecretPath(path) && (await loadMetadata(req.storage, path)) !== undefined;
    },
    operations: {
      read: {
        summary: 'Read a version of the secret.',
        handler: (req, fields) => readSecret(fields, (path, nowMs) => readData(req.storage, path, fields, nowMs)),
      },
      update: {
        summary: 'Write a new version of the secret.',
        handler: (req, fields) => changeSecret(mount, fields, (path, nowMs) => writeData(req.storage, path, fields, nowMs)),
      },
      patch: {
        summary: 'Merge changes into the current version, as a new version.',
        handler: (req, fields) => changeSecret(mount, fields, (path, nowMs) => patchData(req.storage, path, fields, nowMs)),
      },
      delete: {
        summary: 'Soft-delete the current version.',
        handler: (req, fields) => changeSecret(mount, fields, (path, nowMs) => deleteLatestData(req.storage, path, nowMs)),
      },
    },
  };
}

/**
 * Read: `{data: {data: {...}, metadata: {created_time, custom_metadata,
 * deletion_time, destroyed, version}}}`. A deleted or destroyed version
 * answers 404 with `{data: null, metadata}` so clients can tell why.
 */
async function readData(storage: LogicalStorage, path: string, fields: FieldData, nowMs: number): Promise<LogicalResponse> {
  const target = await findReadTarget(storage, path, nonNegativeInt(fields, 'version') ?? 0, nowMs);
  const metadata = versionView(target.metadata, target.version);
  if (!target.readable) return { status: 404, data: { data: null, metadata } };
  const data = await loadVersionData(storage, path, target.version);
  if (data === undefined) throw notFound();
  return { data: { data, metadata } };
}

interface WriteBody {
  data: JsonObject;
  cas: number | undefined;
}

/** Body of writes and patches: `{data: {...}, options: {cas: N}}`. */
function writeBody(fields: FieldData): WriteBody {
  const data = fields.getOk<JsonObject>('data');
  if (data === undefined) throw badRequest('no data provided');
  return { data, cas: casOption(fields.getOk<JsonObject>('options')) };
}

const CAS_SCHEMA: FieldSchema = { type: 'int', description: 'check-and-set version' };

/** The options map is free-form; its "cas" entry is decoded as an int field would be. */
function casOption(options: JsonObject | undefined): number | undefined {
  const raw = options === undefined || !Object.hasOwn(options, 'cas') ? undefined : options.cas;
  if (raw === undefined || raw === null || raw === '') return undefined;
  let cas: number;
  try {
    cas = decodeField(CAS_SCHEMA, 'options.cas', raw) as number;
  } catch {
    throw badRequest('error parsing check-and-set parameter');
  }
  if (cas < 0) throw badRequest('options.cas must be a non-negative integer');
  return cas;
}

/** Write: stores `data` as a new version; answers `{data: <version metadata>}`. */
async function writeData(storage: LogicalStorage, path: string, fields: FieldData, nowMs: number): Promise<LogicalResponse> {
  const { data, cas } = writeBody(fields);
  const config = await loadConfig(storage);
  const metadata = await loadMetadata(storage, path);
  checkCas(metadata, config, cas);
  return commitVersion(storage, path, metadata ?? newMetadata(nowMs), config, data, nowMs);
}

/**
 * Patch: merges `data` into the current version (RFC 7396, null removes a
 * key) and stores the result as a new version. 404 when there is no readable
 * current version.
 */
async function patchData(storage: LogicalStorage, path: string, fields: FieldData, nowMs: number): Promise<LogicalResponse> {
  const { data: patch, cas } = writeBody(fields);
  const config = await loadConfig(storage);
  const metadata = await loadMetadata(storage, path);
  const current = metadata?.versions[String(metadata.currentVersion)];
  if (metadata === undefined || current === undefined || isUnreadable(current, nowMs)) throw notFound();
  checkCas(metadata, config, cas);
  const currentData = await loadVersionData(storage, path, metadata.currentVersion);
  if (currentData === undefined) throw notFound();
  return commitVersion(storage, path, metadata, config, applyMergePatch(currentData, patch) as JsonObject, nowMs);
}

/**
 * Stores the next version and trims the oldest versions beyond max_versions,
 * in one storage transaction (one commit, one fsync). On a view without
 * transactions the same writes go in order: the version's data before the
 * metadata that points at it, so a crash in between leaves only an
 * unreferenced entry the next write replaces.
 */
async function commitVersion(
  storage: LogicalStorage,
  path: string,
  metadata: StoredMetadata,
  config: StoredConfig,
  data: JsonObject,
  nowMs: number,
): Promise<LogicalResponse> {
  const version = metadata.currentVersion + 1;
  metadata.versions[String(version)] = { createdMs: nowMs, deletionMs: deletionDeadline(nowMs, metadata, config), destroyed: false };
  metadata.currentVersion = version;
  metadata.updatedMs = nowMs;
  const trimmed = trimVersions(metadata, effectiveMaxVersions(metadata, config));
  await writeAll(storage, newVersionWrites(path, version, data, metadata, trimmed));
  return { data: versionView(metadata, version) };
}

/** Drops the oldest version states beyond `maxVersions`; returns the dropped numbers. */
function trimVersions(metadata: StoredMetadata, maxVersions: number): number[] {
  const kept = Object.keys(metadata.versions).map(Number).sort((a, b) => a - b);
  const dropped = kept.splice(0, Math.max(0, kept.length - maxVersions));
  for (const version of dropped) delete metadata.versions[String(version)];
  if (dropped.length > 0) metadata.oldestVersion = kept[0];
  return dropped;
}

/** Delete: soft-deletes the current version (204 even when there is nothing to delete). */
async function deleteLatestData(storage: LogicalStorage, path: string, nowMs: number): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  const current = metadata?.versions[String(metadata.currentVersion)];
  if (metadata !== undefined && current !== undefined && !isUnreadable(current, nowMs)) {
    current.deletionMs = nowMs;
    await saveMetadata(storage, path, metadata);
  }
  return { status: 204 };
}
