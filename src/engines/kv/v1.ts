/**
 * KV version 1: one JSON entry per secret, stored under the secret's own path
 * (so storage listing is secret listing). Cubbyhole declares the same path
 * over a per-token view of the storage.
 */
import { badRequest, notFound } from '../../core/errors.ts';
import { matchAll, type PathDeclaration } from '../../framework/index.ts';
import { getJson, putJson } from '../storage-json.ts';
import type { LogicalRequest, LogicalResponse, LogicalStorage } from '../types.ts';
import { optionalDurationMs, type JsonObject } from '../../core/request-fields.ts';
import { isValidSecretPath, listPrefix, requireSecretPath } from './params.ts';
import { keysResponse } from './responses.ts';

export interface PlainKvOptions {
  /** KV v1 reports a stored `ttl` field back as the lease duration (a refresh hint). */
  ttlAsLeaseHint: boolean;
  /** The storage the request's secrets live in (cubbyhole narrows it to the caller's folder). */
  storageFor(req: LogicalRequest): LogicalStorage;
  synopsis: string;
}

/**
 * The one path of a plain KV store: read answers `{data: <stored object>}`,
 * list answers `{data: {keys}}` (404 when empty), writes and deletes 204.
 * The body is the secret itself, so any field is accepted.
 */
export function plainKvPaths(options: PlainKvOptions): PathDeclaration<LogicalRequest>[] {
  const { storageFor } = options;
  return [
    {
      pattern: matchAll('path'),
      fields: { path: { type: 'string', description: 'Location of the secret.' } },
      takesArbitraryInput: true,
      synopsis: options.synopsis,
      description: 'Writing replaces the whole secret with the request body; reading returns it; listing returns the keys under a folder.',
      existenceCheck: async (req, fields) => {
        const path = fields.get<string>('path');
        return isValidSecretPath(path) && (await storageFor(req).get(path)) !== undefined;
      },
      operations: {
        read: { summary: 'Read a secret.', handler: (req, f) => readSecret(storageFor(req), f.get('path'), options, req.defaultLeaseTtl) },
        list: { summary: 'List the secrets under a folder.', handler: async (req, f) => keysResponse(await storageFor(req).list(listPrefix(f.get('path')))) },
        update: { summary: 'Store a secret.', handler: (req, f) => writeSecret(storageFor(req), f.get('path'), req.data, options) },
        delete: {
          summary: 'Delete a secret.',
          handler: async (req, f) => {
            const path = f.get<string>('path');
            if (isValidSecretPath(path)) await storageFor(req).delete(path);
            return { status: 204 };
          },
        },
      },
    },
  ];
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
