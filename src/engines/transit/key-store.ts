/**
 * Transit keys in the mount's storage (`policy/<name>`), with a parsed copy
 * of each key cached in memory so encrypt and decrypt do not touch storage.
 * Every change (and every cache fill) runs under the key's lock, so a slow
 * storage read can never put an older policy back into the cache after a
 * rotate or config write has stored a newer one.
 */
import { getJson, putJson } from '../storage-json.ts';
import type { LogicalRequest, LogicalStorage } from '../types.ts';
import { KeyedLock } from '../../core/keyed-lock.ts';
import { fromStored, toStored, type KeyPolicy, type StoredKeyPolicy } from './key-policy.ts';

const POLICY_PREFIX = 'policy/';

/** The key store of a request's mount (one per mount storage, so its cache is shared). */
export type StoreFor = (req: LogicalRequest) => KeyStore;

export class KeyStore {
  private readonly cache = new Map<string, KeyPolicy>();
  private readonly lock = new KeyedLock();

  constructor(private readonly storage: LogicalStorage) {}

  /** The key, or undefined when there is none. */
  async get(name: string): Promise<KeyPolicy | undefined> {
    return this.cache.get(name) ?? this.lock.run(name, () => this.load(name));
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
        await putJson(this.storage, POLICY_PREFIX + name, toStored(next));
        this.cache.set(name, next);
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

  /** Key names, sorted. */
  async list(): Promise<string[]> {
    const names = await this.storage.list(POLICY_PREFIX);
    return names.filter((name) => !name.endsWith('/'));
  }

  /** Cached copy, else storage (filling the cache). Call only under the key's lock. */
  private async load(name: string): Promise<KeyPolicy | undefined> {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const stored = await getJson<StoredKeyPolicy>(this.storage, POLICY_PREFIX + name);
    if (stored === undefined) return undefined;
    const policy = fromStored(stored);
    this.cache.set(name, policy);
    return policy;
  }
}
