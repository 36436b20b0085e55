/**
 * `subkeys/<path>`: the shape of a version's data without its values. Every
 * leaf becomes null; nested objects are followed up to `depth` levels
 * (0 = no limit). Answers `{data: {subkeys, metadata}}`; a deleted or
 * destroyed version answers 404 with `{subkeys: null, metadata}`.
 */
import { notFound } from '../../../core/errors.ts';
import type { FieldData, PathDeclaration } from '../../../framework/index.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage } from '../../types.ts';
import { isPlainObject, type JsonObject } from '../../../core/request-fields.ts';
import { setOwn } from './merge-patch.ts';
import { loadVersionData, versionView } from './model.ts';
import { nonNegativeInt, readSecret, SECRET_PATH_FIELD, secretPattern } from './shared.ts';
import { findReadTarget } from './versions.ts';

export function subkeysPath(): PathDeclaration<LogicalRequest> {
  return {
    pattern: secretPattern('subkeys'),
    fields: {
      path: SECRET_PATH_FIELD,
      version: { type: 'int', description: 'The version to describe; 0 or absent describes the current one.' },
      depth: { type: 'int', description: 'How many levels of nested objects to follow; 0 or absent follows all.' },
    },
    synopsis: 'The keys of a version of a secret, without their values.',
    description: 'Returns the version\'s data with every value replaced by null, nested objects followed down to "depth" levels, and the version\'s metadata.',
    operations: {
      read: {
        summary: 'Read the keys of a version.',
        handler: (req, fields) => readSecret(fields, (path, nowMs) => readSubkeys(req.storage, path, fields, nowMs)),
      },
    },
  };
}

async function readSubkeys(storage: LogicalStorage, path: string, fields: FieldData, nowMs: number): Promise<LogicalResponse> {
  const depth = nonNegativeInt(fields, 'depth') ?? 0;
  const target = await findReadTarget(storage, path, nonNegativeInt(fields, 'version') ?? 0, nowMs);
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
