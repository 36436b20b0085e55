/**
 * Transit keys in the mount's storage (`policy/<name>`, Vault's policy
 * JSON), with the parsed form of each key cached in memory so encrypt,
 * decrypt, sign and verify neither touch storage nor parse key material.
 * Every change (and every cache fill) runs under the key's lock, so a slow
 * storage read can never put an older policy back into the cache after a
 * rotate or config write has stored a newer one.
 *
 * The cache holds every key by default; `cache-config` can bound it (Vault's
 * LRU, at least 10 entries). The bound is kept in `config/cache`.
 */
import { getJson, putJson } from '../storage-json.ts';
import type { LogicalRequest, LogicalStorage } from '../types.ts';
import { KeyedLock } from '../../core/keyed-lock.ts';
import { internalError } from '../../core/errors.ts';
import { fromStored, toStored, type KeyPolicy, type StoredPolicy } from './key-policy.ts';
import { parseBigJson, stringifyBigJson } from './vault-json.ts';

const POLICY_PREFIX = 'policy/';
export const CACHE_CONFIG_PATH = 'config/cache';

/** The key store of a request's mount (one per mount storage, so its cache is shared). */
export type StoreFor = (req: { storage: LogicalStorage }) => KeyStore;

export class KeyStore {
  private readonly cache = new Map<string, KeyPolicy>();
  private readonly lock = new KeyedLock();
  /** 0: unbounded. */
  private cacheLimit = 0;
  private cacheLimitLoaded = false;

  constructor(private readonly storage: LogicalStorage) {}

  /** The key, or undefined when there is none. */
  async get(name: string): Promise<KeyPolicy | undefined> {
    const cached = this.cache.get(name);
    if (cached !== undefined) {
      if (this.cacheLimit > 0) this.touch(name, cached);
      return cached;
    }
    return this.lock.run(name, () => this.load(name));
  }

  /**
   * Runs `change` on the current key (undefined when absent) under the key's
   * lock and stores what it returns; returning the same object stores nothing.
   */
  async update(name: string, change: (current: KeyPolicy | undefined) => Promise<KeyPolicy>): Promise<KeyPolicy> {
    return this.lock.run(name, async () => {
      const current = await this.load(name);
      const next = await change(current);
      if (next !== current) {
        await this.write(name, next);
        this.remember(name, next);
      }
      return next;
    });
  }

  /** Deletes the key after `check` (run under the lock) accepts the current one. */
  async delete(name: string, check: (current: KeyPolicy | undefined) => void): Promise<void> {
    await this.lock.run(name, async () => {
      check(await this.load(name));
      this.cache.delete(name);
      await this.storage.delete(POLICY_PREFIX + name);
    });
  }

  /** Key names, sorted (the import wrapping key, under import/, is not one). */
  async list(): Promise<string[]> {
    const names = await this.storage.list(POLICY_PREFIX);
    return names.filter((name) => !name.endsWith('/'));
  }

  /** The configured cache bound (0: unbounded). */
  async cacheSize(): Promise<number> {
    await this.loadCacheLimit();
    return this.cacheLimit;
  }

  /** Stores and applies a new cache bound. */
  async setCacheSize(size: number): Promise<void> {
    await putJson(this.storage, CACHE_CONFIG_PATH, { size });
    this.cacheLimit = size;
    this.cacheLimitLoaded = true;
    this.evict();
  }

  private async loadCacheLimit(): Promise<void> {
    if (this.cacheLimitLoaded) return;
    const stored = await getJson<{ size?: number }>(this.storage, CACHE_CONFIG_PATH);
    this.cacheLimit = typeof stored?.size === 'number' && stored.size > 0 ? stored.size : 0;
    this.cacheLimitLoaded = true;
  }

  private async write(name: string, policy: KeyPolicy): Promise<void> {
    await this.storage.put(POLICY_PREFIX + name, Buffer.from(stringifyBigJson(toStored(policy)), 'utf8'));
  }

  /** Cached copy, else storage (filling the cache). Call only under the key's lock. */
  private async load(name: string): Promise<KeyPolicy | undefined> {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    await this.loadCacheLimit();
    const raw = await this.storage.get(POLICY_PREFIX + name);
    if (raw === undefined) return undefined;
    let stored: StoredPolicy;
    try {
      stored = parseBigJson(raw.toString('utf8')) as StoredPolicy;
    } catch {
      throw internalError(`stored entry "${POLICY_PREFIX}${name}" is not valid JSON`);
    }
    let policy: KeyPolicy;
    try {
      policy = fromStored(stored);
    } catch {
      throw internalError(`stored transit key "${name}" could not be loaded`);
    }
    this.remember(name, policy);
    return policy;
  }

  private remember(name: string, policy: KeyPolicy): void {
    this.cache.delete(name);
    this.cache.set(name, policy);
    this.evict();
  }

  /** Marks a key as recently used (bounded caches only). */
  private touch(name: string, policy: KeyPolicy): void {
    this.cache.delete(name);
    this.cache.set(name, policy);
  }

  private evict(): void {
    if (this.cacheLimit <= 0) return;
    while (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** One key store per mount storage, so every request of a mount shares the cache. */
export function keyStores(): StoreFor {
  const stores = new WeakMap<LogicalStorage, KeyStore>();
  return (req: Pick<LogicalRequest, 'storage'>) => {
    let store = stores.get(req.storage);
    if (store === undefined) {
      store = new KeyStore(req.storage);
      stores.set(req.storage, store);
    }
    return store;
  };
}
