import type { StorageBackend } from './backend.ts';
import { assertValidKey, compareKeys, listingEntry, prefixSuccessor } from './keys.ts';
import { validateOps, type TransactionalBackend, type TxOp } from './transactional.ts';

/**
 * A volatile backend for tests and `-dev` mode: a map plus a sorted key
 * array so listing can seek like the file backend does. Buffers are copied
 * in and out so callers can never alter what is stored.
 */
export class InmemBackend implements TransactionalBackend {
  private readonly values = new Map<string, Buffer>();
  private readonly sortedKeys: string[] = [];
  private closed = false;

  async get(key: string): Promise<Buffer | undefined> {
    this.check(key);
    const value = this.values.get(key);
    return value === undefined ? undefined : Buffer.from(value);
  }

  async put(key: string, value: Buffer): Promise<void> {
    this.check(key);
    this.putNow(key, value);
  }

  async delete(key: string): Promise<void> {
    this.check(key);
    this.deleteNow(key);
  }

  async list(prefix: string): Promise<string[]> {
    this.check(prefix);
    const out: string[] = [];
    let i = this.lowerBound(prefix);
    while (i < this.sortedKeys.length && this.sortedKeys[i].startsWith(prefix)) {
      const entry = listingEntry(prefix, this.sortedKeys[i]);
      out.push(entry.name);
      if (!entry.isFolder) {
        i++;
        continue;
      }
      // Skip the folder's whole subtree in one seek.
      const after = prefixSuccessor(prefix + entry.name);
      i = after === undefined ? this.sortedKeys.length : this.lowerBound(after);
    }
    return out.sort(compareKeys);
  }

  async transaction(ops: TxOp[]): Promise<void> {
    this.ensureOpen();
    validateOps(ops, assertValidKey);
    for (const op of ops) {
      if (op.op === 'put') this.putNow(op.key, op.value!);
      else this.deleteNow(op.key);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private putNow(key: string, value: Buffer): void {
    if (!this.values.has(key)) this.sortedKeys.splice(this.lowerBound(key), 0, key);
    this.values.set(key, Buffer.from(value));
  }

  private deleteNow(key: string): void {
    if (!this.values.delete(key)) return;
    this.sortedKeys.splice(this.lowerBound(key), 1);
  }

  /** Index of the first key not less than `target`. */
  private lowerBound(target: string): number {
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sortedKeys[mid], target) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private check(key: string): void {
    this.ensureOpen();
    assertValidKey(key);
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('storage backend is closed');
  }
}
