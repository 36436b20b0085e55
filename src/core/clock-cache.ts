/**
 * A bounded map with CLOCK eviction: a hit only sets a flag, so a read costs
 * one Map lookup (moving an entry to the back of a 10k-entry Map on every hit,
 * as an LRU does, costs more than the lookup saves). When full, the oldest
 * entry goes unless it was used since eviction last passed it; a used one
 * moves to the back with its flag cleared.
 */
export class ClockCache<K, V> {
  private readonly entries = new Map<K, { value: V; used: boolean }>();

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new Error('a cache needs room for at least one entry');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    hit.used = true;
    return hit.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, used: false });
    if (this.entries.size > this.maxEntries) this.evictOne();
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose key `matches` (a change that touches only some entries). */
  deleteWhere(matches: (key: K) => boolean): void {
    for (const key of this.entries.keys()) if (matches(key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Each entry moves at most once per pass, so this ends. */
  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      if (!entry.used) {
        this.entries.delete(key);
        return;
      }
      entry.used = false;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
  }
}
