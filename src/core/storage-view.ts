import { createHash } from 'node:crypto';
import type { LogicalStorage } from '../engines/types.ts';
import type { SealWrapper } from '../seal/seal.ts';

/**
 * A mount's window onto barrier storage: every key is prefixed, so an engine
 * can neither name nor list another mount's keys.
 */
export class PrefixedStorage implements LogicalStorage {
  constructor(
    private readonly inner: LogicalStorage,
    readonly prefix: string,
  ) {
    if (!prefix.endsWith('/')) throw new Error('storage prefix must end with "/"');
  }

  private key(k: string): string {
    // Keys are opaque strings, but ".." segments or a leading "/" would be a way out of the prefix in a listing view.
    if (k.startsWith('/') || k.split('/').includes('..')) throw new Error(`invalid storage key "${k}"`);
    return this.prefix + k;
  }

  get(k: string) {
    return this.inner.get(this.key(k));
  }
  put(k: string, v: Buffer) {
    return this.inner.put(this.key(k), v);
  }
  delete(k: string) {
    return this.inner.delete(this.key(k));
  }
  list(p: string) {
    return this.inner.list(this.key(p));
  }
}

/** Removes every key below `prefix` (disabling a mount erases its data). */
export async function deleteTree(storage: LogicalStorage, prefix = ''): Promise<void> {
  for (const name of await storage.list(prefix)) {
    if (name.endsWith('/')) await deleteTree(storage, prefix + name);
    else await storage.delete(prefix + name);
  }
}

const SEAL_WRAP_CACHE_ENTRIES = 4096;

/**
 * Seal wrap: values are encrypted by the HSM before the barrier encrypts
 * them, and decrypted by the HSM on read. A bounded cache of unwrapped values,
 * keyed by the digest of the wrapped blob, spares the HSM on repeated reads;
 * writes always reach the HSM. The storage path is bound into each wrap.
 * A value wrapped by an older HSM key is re-wrapped under the current key when read.
 */
export class SealWrappedStorage implements LogicalStorage {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly inner: LogicalStorage,
    private readonly seal: SealWrapper,
    /** Full path prefix for the AAD, so a wrapped value cannot be moved between mounts. */
    private readonly aadPrefix: string,
  ) {}

  async get(k: string): Promise<Buffer | undefined> {
    const blob = await this.inner.get(k);
    if (blob === undefined) return undefined;
    const digest = createHash('sha256').update(k).update('\0').update(blob).digest('base64');
    const hit = this.cache.get(digest);
    if (hit) {
      this.cache.delete(digest);
      this.cache.set(digest, hit);
      return Buffer.from(hit);
    }
    const plain = await this.seal.unwrap(blob, this.aad(k));
    if (this.seal.needsRewrap(blob)) await this.inner.put(k, await this.seal.wrap(plain, this.aad(k)));
    this.cache.set(digest, Buffer.from(plain));
    if (this.cache.size > SEAL_WRAP_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return plain;
  }

  async put(k: string, v: Buffer): Promise<void> {
    const blob = await this.seal.wrap(v, this.aad(k));
    await this.inner.put(k, blob);
  }

  delete(k: string) {
    return this.inner.delete(k);
  }

  list(p: string) {
    return this.inner.list(p);
  }

  private aad(k: string): Buffer {
    return Buffer.from(this.aadPrefix + k);
  }
}
