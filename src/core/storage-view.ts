import { createHash } from 'node:crypto';
import { writeAll, type LogicalStorage, type LogicalWrite } from '../engines/types.ts';
import type { SealWrapper } from '../seal/seal.ts';
import { ClockCache } from './clock-cache.ts';
import { KeyedLock } from './keyed-lock.ts';

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
  transaction(writes: LogicalWrite[]) {
    return writeAll(this.inner, writes.map((w) => ({ ...w, key: this.key(w.key) })));
  }
}

/**
 * A bounded read cache in front of a storage view that only this process
 * writes through (the token store: one lookup per request). Puts and deletes
 * go through it. A read caches what it found only if no write started or
 * finished while it was reading (a global write counter), so a read that
 * raced a write (e.g. a revocation still waiting for its commit) can never
 * leave the old value cached.
 */
export class CachingStorage implements LogicalStorage {
  private readonly cache: ClockCache<string, Buffer>;
  /** Bumped at the start and the end of every write. */
  private writeSeq = 0;

  constructor(
    private readonly inner: LogicalStorage,
    maxEntries = 10_000,
  ) {
    this.cache = new ClockCache(maxEntries);
  }

  async get(k: string): Promise<Buffer | undefined> {
    const hit = this.cache.get(k);
    if (hit) return Buffer.from(hit);
    const seq = this.writeSeq;
    const value = await this.inner.get(k);
    if (value !== undefined && seq === this.writeSeq) this.cache.set(k, Buffer.from(value));
    return value;
  }

  async put(k: string, v: Buffer): Promise<void> {
    await this.write(k, () => this.inner.put(k, v));
    this.cache.set(k, Buffer.from(v));
  }

  async delete(k: string): Promise<void> {
    await this.write(k, () => this.inner.delete(k));
  }

  list(p: string) {
    return this.inner.list(p);
  }

  private async write(k: string, op: () => Promise<void>): Promise<void> {
    this.writeSeq++;
    this.cache.delete(k);
    try {
      await op();
    } finally {
      this.writeSeq++;
      this.cache.delete(k);
    }
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

/** First byte of every value in a seal-wrapped mount: says whether the HSM wrapped it. */
const enum SealWrapEnvelope {
  /** Written while no HSM seal was configured (Shamir), or unwrapped for a migration to Shamir. */
  Plain = 0,
  HsmWrapped = 1,
}

/**
 * Seal wrap: under an HSM seal, values are encrypted by the HSM before the
 * barrier encrypts them, and decrypted by the HSM on read. The storage path
 * is bound into each wrap, so a wrapped value cannot be moved.
 *
 * Value layout: envelope (1 byte: 0 plain, 1 HSM-wrapped) || payload. The
 * envelope lets a mount survive seal migrations: a plain value read under an
 * HSM seal, or one wrapped by an older HSM key, is re-wrapped under the
 * current key on read; `unwrapAll` turns every value plain before a
 * migration away from the HSM.
 *
 * A bounded cache of unwrapped values, keyed by the digest of the stored
 * blob, spares the HSM on repeated reads; writes always reach the HSM.
 */
export class SealWrappedStorage implements LogicalStorage {
  private readonly cache = new Map<string, Buffer>();
  /** Orders writes with re-wraps done on read, so a re-wrap never overwrites a newer write. */
  private readonly locks = new KeyedLock();

  constructor(
    private readonly inner: LogicalStorage,
    private readonly seal: SealWrapper | undefined,
    /** Full path prefix for the AAD, so a wrapped value cannot be moved between mounts. */
    private readonly aadPrefix: string,
  ) {}

  async get(k: string): Promise<Buffer | undefined> {
    const stored = await this.inner.get(k);
    if (stored === undefined) return undefined;
    if (stored[0] === SealWrapEnvelope.Plain) {
      const plain = stored.subarray(1);
      if (this.seal) await this.rewrap(k, stored, plain);
      return Buffer.from(plain);
    }
    if (stored[0] !== SealWrapEnvelope.HsmWrapped) throw new Error(`value at "${this.aadPrefix}${k}" has an unknown seal-wrap envelope`);
    const digest = createHash('sha256').update(k).update('\0').update(stored).digest('base64');
    const hit = this.cache.get(digest);
    if (hit) {
      this.cache.delete(digest);
      this.cache.set(digest, hit);
      return Buffer.from(hit);
    }
    if (!this.seal) throw new Error(`value at "${this.aadPrefix}${k}" is HSM-wrapped but no HSM seal is configured`);
    const blob = stored.subarray(1);
    const plain = await this.seal.unwrap(blob, this.aad(k));
    if (this.seal.needsRewrap(blob)) await this.rewrap(k, stored, plain);
    this.cache.set(digest, Buffer.from(plain));
    if (this.cache.size > SEAL_WRAP_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return plain;
  }

  async put(k: string, v: Buffer): Promise<void> {
    await this.locks.run(k, async () => this.inner.put(k, await this.encode(k, v)));
  }

  /** Writes `plain` again under the current seal, unless the stored value changed since `seen` was read. */
  private async rewrap(k: string, seen: Buffer, plain: Buffer): Promise<void> {
    await this.locks.run(k, async () => {
      const now = await this.inner.get(k);
      if (now && now.equals(seen)) await this.inner.put(k, await this.encode(k, plain));
    });
  }

  private async encode(k: string, v: Buffer): Promise<Buffer> {
    return this.seal
      ? Buffer.concat([Buffer.from([SealWrapEnvelope.HsmWrapped]), await this.seal.wrap(v, this.aad(k))])
      : Buffer.concat([Buffer.from([SealWrapEnvelope.Plain]), v]);
  }

  delete(k: string) {
    return this.inner.delete(k);
  }

  list(p: string) {
    return this.inner.list(p);
  }

  /** Wraps every value (the HSM calls run side by side), then commits them together. */
  async transaction(writes: LogicalWrite[]): Promise<void> {
    const keys = [...new Set(writes.map((w) => w.key))];
    const commit = async () => {
      const encoded = await Promise.all(
        writes.map(async (w): Promise<LogicalWrite> => (w.op === 'put' ? { ...w, value: await this.encode(w.key, w.value) } : w)),
      );
      await writeAll(this.inner, encoded);
    };
    // Under every key's lock, taken in sorted order so two transactions cannot wait on each other.
    const locked = keys.sort().reduceRight<() => Promise<void>>((next, k) => () => this.locks.run(k, next), commit);
    await locked();
  }

  /** Rewrites every value below `prefix` as plain (before migrating away from the HSM). Idempotent. */
  async unwrapAll(prefix = ''): Promise<number> {
    let count = 0;
    for (const name of await this.inner.list(prefix)) {
      if (name.endsWith('/')) {
        count += await this.unwrapAll(prefix + name);
        continue;
      }
      const stored = await this.inner.get(prefix + name);
      if (!stored || stored[0] === SealWrapEnvelope.Plain) continue;
      if (!this.seal) throw new Error('unwrapAll needs the HSM seal the values were wrapped with');
      const plain = await this.seal.unwrap(stored.subarray(1), this.aad(prefix + name));
      await this.inner.put(prefix + name, Buffer.concat([Buffer.from([SealWrapEnvelope.Plain]), plain]));
      count++;
    }
    return count;
  }

  private aad(k: string): Buffer {
    return Buffer.from(this.aadPrefix + k);
  }
}
