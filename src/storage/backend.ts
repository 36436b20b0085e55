/**
 * The physical storage seam. Everything below the barrier is untrusted: a
 * backend only ever sees ciphertext (except the few plaintext entries that
 * must be readable while sealed, such as the seal configuration).
 *
 * Listing rule (as in Vault's physical backends): `list(prefix)` returns one
 * level below `prefix`, sorted: plain keys, and folder names ending in "/".
 * Listing "" over {foo, foo/bar} gives ["foo", "foo/"].
 */
export interface StorageBackend {
  get(key: string): Promise<Buffer | undefined>;
  /** Resolves only once the write is durable (it survives kill -9). */
  put(key: string, value: Buffer): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Config stanza values as parsed from `storage "<type>" { ... }`. */
export type StorageOptions = Record<string, string | number | boolean | undefined>;
