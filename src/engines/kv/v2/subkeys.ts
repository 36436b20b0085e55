/**
 * `subkeys/<path>`: the shape of a version's data without its values. Every
 * leaf becomes null; nested objects are followed up to `depth` levels
 * (0 = no limit). Answers `{data: {subkeys, metadata}}`; a deleted or
 * destroyed version answers 404 with `{subkeys: null, metadata}`.
 */
import { notFound } from '../../../core/errors.ts';
import type { LogicalResponse, LogicalStorage } from '../../types.ts';
import { isPlainObject, optionalNonNegativeInt, type JsonObject } from '../../../core/request-fields.ts';
import { setOwn } from './merge-patch.ts';
import { loadVersionData, versionView } from './model.ts';
import { findReadTarget } from './versions.ts';

export async function readSubkeys(storage: LogicalStorage, path: string, body: JsonObject, nowMs: number): Promise<LogicalResponse> {
  const depth = optionalNonNegativeInt(body.depth, 'depth') ?? 0;
  const target = await findReadTarget(storage, path, body.version, nowMs);
  const metadata = versionView(target.metadata, target.version);
  if (!target.readable) return { status: 404, data: { subkeys: null, metadata } };
  const data = await loadVersionData(storage, path, target.version);
  if (data === undefined) throw notFound();
  return { data: { subkeys: keysOnly(data, depth, 1), metadata } };
}

function keysOnly(object: JsonObject, maxDepth: number, level: number): JsonObject {
  const shape: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    const descend = isPlainObject(value) && (maxDepth === 0 || level < maxDepth);
    setOwn(shape, key, descend ? keysOnly(value as JsonObject, maxDepth, level + 1) : null);
  }
  return shape;
}
