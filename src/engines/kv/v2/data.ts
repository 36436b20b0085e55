/**
 * `data/<path>`: read a version, write a new one, patch the current one,
 * soft-delete the current one.
 */
import { badRequest, notFound } from '../../../core/errors.ts';
import type { LogicalResponse, LogicalStorage } from '../../types.ts';
import { isAbsent, isPlainObject, optionalNonNegativeInt, type JsonObject } from '../../../core/request-fields.ts';
import { applyMergePatch } from './merge-patch.ts';
import {
  deleteVersionData, effectiveMaxVersions, isUnreadable, loadConfig, loadMetadata, loadVersionData, newMetadata,
  saveMetadata, saveVersionData, versionView, type StoredConfig, type StoredMetadata,
} from './model.ts';
import { checkCas, findReadTarget } from './versions.ts';

/**
 * Read: `{data: {data: {...}, metadata: {created_time, custom_metadata,
 * deletion_time, destroyed, version}}}`. A deleted or destroyed version
 * answers 404 with `{data: null, metadata}` so clients can tell why.
 */
export async function readData(storage: LogicalStorage, path: string, body: JsonObject, nowMs: number): Promise<LogicalResponse> {
  const target = await findReadTarget(storage, path, body.version, nowMs);
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
function parseWriteBody(body: JsonObject): WriteBody {
  if (isAbsent(body.data)) throw badRequest('no data provided');
  if (!isPlainObject(body.data)) throw badRequest('"data" must be a JSON object');
  if (!isAbsent(body.options) && !isPlainObject(body.options)) throw badRequest('"options" must be a JSON object');
  const options = isPlainObject(body.options) ? body.options : {};
  return { data: body.data, cas: optionalNonNegativeInt(options.cas, 'options.cas') };
}

/** Write: stores `data` as a new version; answers `{data: <version metadata>}`. */
export async function writeData(storage: LogicalStorage, path: string, body: JsonObject, nowMs: number): Promise<LogicalResponse> {
  const { data, cas } = parseWriteBody(body);
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
export async function patchData(storage: LogicalStorage, path: string, body: JsonObject, nowMs: number): Promise<LogicalResponse> {
  const { data: patch, cas } = parseWriteBody(body);
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
 * Stores the next version, then trims the oldest versions beyond max_versions.
 * The version's data is written before the metadata that points at it, so a
 * crash in between leaves only an unreferenced entry the next write replaces.
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
  const deleteAfterMs = metadata.deleteVersionAfterMs || config.deleteVersionAfterMs;
  await saveVersionData(storage, path, version, data);
  metadata.versions[String(version)] = {
    createdMs: nowMs,
    deletionMs: deleteAfterMs > 0 ? nowMs + deleteAfterMs : null,
    destroyed: false,
  };
  metadata.currentVersion = version;
  metadata.updatedMs = nowMs;
  const trimmed = trimVersions(metadata, effectiveMaxVersions(metadata, config));
  await saveMetadata(storage, path, metadata);
  for (const old of trimmed) await deleteVersionData(storage, path, old);
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
export async function deleteLatestData(storage: LogicalStorage, path: string, nowMs: number): Promise<LogicalResponse> {
  const metadata = await loadMetadata(storage, path);
  const current = metadata?.versions[String(metadata.currentVersion)];
  if (metadata !== undefined && current !== undefined && !isUnreadable(current, nowMs)) {
    current.deletionMs = nowMs;
    await saveMetadata(storage, path, metadata);
  }
  return { status: 204 };
}
