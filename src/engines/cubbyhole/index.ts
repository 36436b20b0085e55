/**
 * The `cubbyhole` secrets engine: a KV v1 store private to each token. The
 * core hands every request the mount's storage; this engine confines it to
 * the caller's own folder (see cubbyholePrefix), so one token can never read,
 * list or overwrite another's entries.
 */
import { badRequest } from '../../core/errors.ts';
import { defineBackend } from '../../framework/index.ts';
import { plainKvPaths } from '../kv/v1.ts';
import type { LogicalBackend, LogicalStorage } from '../types.ts';
import { cubbyholePrefix, deleteTree, scopedStorage } from './scoped-storage.ts';

export function createCubbyholeBackend(): LogicalBackend {
  return defineBackend('cubbyhole', plainKvPaths({
    ttlAsLeaseHint: false,
    storageFor: (req) => {
      const tokenId = req.auth?.tokenId;
      if (!tokenId) throw badRequest('client token empty');
      return scopedStorage(req.storage, cubbyholePrefix(tokenId));
    },
    synopsis: 'Secret storage private to the calling token, erased when the token is revoked.',
  }));
}

/** Erases one token's cubbyhole; the core calls this when the token is revoked. */
export async function destroyCubbyhole(storage: LogicalStorage, tokenId: string): Promise<void> {
  await deleteTree(storage, cubbyholePrefix(tokenId));
}
