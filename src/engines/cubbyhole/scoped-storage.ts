import { createHash } from 'node:crypto';
import type { LogicalStorage } from '../types.ts';

/**
 * The storage folder of one token's cubbyhole: "<sha256(tokenId) hex>/".
 * Hashing gives every token a fixed-shape folder name, so no token id (even
 * one containing "/") can name a folder inside another token's.
 */
export function cubbyholePrefix(tokenId: string): string {
  return `${createHash('sha256').update(tokenId, 'utf8').digest('hex')}/`;
}

/** A view of `storage` confined to keys under `prefix`; keys it hands out are relative. */
export function scopedStorage(storage: LogicalStorage, prefix: string): LogicalStorage {
  return {
    get: (key) => storage.get(prefix + key),
    put: (key, value) => storage.put(prefix + key, value),
    delete: (key) => storage.delete(prefix + key),
    list: (listPrefix) => storage.list(prefix + listPrefix),
  };
}

/** Deletes every key under `prefix`, descending into sub-folders. */
export async function deleteTree(storage: LogicalStorage, prefix: string): Promise<void> {
  for (const child of await storage.list(prefix)) {
    if (child.endsWith('/')) await deleteTree(storage, prefix + child);
    else await storage.delete(prefix + child);
  }
}
