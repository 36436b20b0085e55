/**
 * KV version 1: one JSON entry per secret, stored under the secret's own path
 * (so storage listing is secret listing). Cubbyhole reuses this over a
 * per-token view of the storage.
 */
import { badRequest, notFound } from '../../core/errors.ts';
import { getJson, putJson } from '../storage-json.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage } from '../types.ts';
import { optionalDurationMs, type JsonObject } from '../../core/request-fields.ts';
import { isValidSecretPath, listPrefix, requireSecretPath } from './params.ts';
import { keysResponse, unsupportedOperation } from './responses.ts';

export interface PlainKvOptions {
  /** KV v1 reports a stored `ttl` field back as the lease duration (a refresh hint). */
  ttlAsLeaseHint: boolean;
}

/**
 * Handles read/list/create/update/delete on `req.path` against `storage`.
 * Read answers `{data: <stored object>}`; list answers `{data: {keys}}`
 * (404 when empty); writes and deletes answer 204.
 */
export async function handlePlainKv(
  req: LogicalRequest,
  storage: LogicalStorage,
  options: PlainKvOptions,
): Promise<LogicalResponse> {
  switch (req.operation) {
    case 'read':
      return readSecret(storage, req.path, options, req.defaultLeaseTtl);
    case 'list':
      return keysResponse(await storage.list(listPrefix(req.path)));
    case 'create':
    case 'update':
      return writeSecret(storage, req.path, req.data, options);
    case 'delete':
      if (isValidSecretPath(req.path)) await storage.delete(req.path);
      return { status: 204 };
    default:
      throw unsupportedOperation();
  }
}

async function readSecret(storage: LogicalStorage, path: string, options: PlainKvOptions, defaultLeaseTtl: number): Promise<LogicalResponse> {
  const secret = isValidSecretPath(path) ? await getJson<JsonObject>(storage, path) : undefined;
  if (secret === undefined) throw notFound();
  const response: LogicalResponse = { data: secret };
  if (options.ttlAsLeaseHint) {
    // A stored "ttl" is the lease hint; without one Vault answers with the mount's default lease TTL.
    const ttlMs = leaseHintMs(secret.ttl);
    response.leaseDuration = ttlMs !== undefined ? Math.floor(ttlMs / 1000) : defaultLeaseTtl;
  }
  return response;
}

async function writeSecret(
  storage: LogicalStorage,
  path: string,
  data: JsonObject,
  options: PlainKvOptions,
): Promise<LogicalResponse> {
  requireSecretPath(path);
  if (Object.keys(data).length === 0) throw badRequest('missing data fields');
  // Reject an unparseable ttl now rather than silently ignoring it on every read.
  if (options.ttlAsLeaseHint) optionalDurationMs(data.ttl, 'ttl');
  await putJson(storage, path, data);
  return { status: 204 };
}

/** Writes validate ttl; should a stored one not parse anyway, the read still succeeds without a hint. */
function leaseHintMs(ttl: unknown): number | undefined {
  try {
    return optionalDurationMs(ttl, 'ttl');
  } catch {
    return undefined;
  }
}
