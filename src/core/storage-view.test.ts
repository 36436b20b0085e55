import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FileBackend } from '../storage/file.ts';
import { AesGcmBarrier } from '../barrier/aes-gcm-barrier.ts';
import { MemoryLogicalStorage } from '../engines/testing-storage.ts';
import { CachingStorage, PrefixedStorage, SealWrappedStorage } from './storage-view.ts';
import { InmemBackend } from '../storage/inmem.ts';
import type { SealWrapper } from '../seal/seal.ts';
import { TokenStore } from './tokens/token-store.ts';

async function withFileBackend(fn: (fb: FileBackend) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tresor-cache-'));
  const fb = new FileBackend({ path: dir });
  try {
    await fn(fb);
  } finally {
    await fb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('CachingStorage', () => {
  it('a read racing a delete (group commit pending) never leaves the deleted value cached', async () => {
    await withFileBackend(async (fb) => {
      const cache = new CachingStorage(fb);
      await fb.put('id/abc', Buffer.from('token-entry'));
      const deleting = cache.delete('id/abc');
      const racing = cache.get('id/abc'); // reads the row still committed
      await Promise.all([deleting, racing]);
      assert.equal(await fb.get('id/abc'), undefined);
      assert.equal(await cache.get('id/abc'), undefined);
    });
  });

  it('a read racing a put never caches the old value', async () => {
    await withFileBackend(async (fb) => {
      const cache = new CachingStorage(fb);
      await fb.put('k', Buffer.from('old'));
      const writing = cache.put('k', Buffer.from('new'));
      const racing = cache.get('k');
      await Promise.all([writing, racing]);
      assert.equal((await cache.get('k'))!.toString(), 'new');
    });
  });

  it('a token revoked while it is being looked up is gone once the revocation returns', async () => {
    await withFileBackend(async (fb) => {
      const barrier = new AesGcmBarrier(fb);
      const rootKey = randomBytes(32);
      await barrier.initialize(rootKey);
      await barrier.unseal(rootKey);
      const store = new TokenStore({
        storage: new CachingStorage(new PrefixedStorage(barrier, 'sys/token/')),
        randomBytes: async (n) => randomBytes(n),
      });
      const { token, entry } = await store.createRoot();
      assert.ok(await store.lookup(token));
      const revoking = store.revokeTree(entry.id);
      let done = false;
      void revoking.then(() => (done = true));
      const lookups: Promise<unknown>[] = [];
      while (!done) {
        for (let i = 0; i < 3; i++) lookups.push(store.lookup(token));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(lookups);
      assert.equal(await store.lookup(token), undefined);
      assert.equal(await store.lookupAccessor(entry.accessor), undefined);
    });
  });
});

/** A seal stand-in whose wraps take the given times in turn (to order a race); XOR "encryption". */
function slowSeal(delaysMs: number[]): SealWrapper {
  let call = 0;
  const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  return {
    type: 'test',
    wrap: async (p) => {
      await new Promise((r) => setTimeout(r, delaysMs[call++] ?? 0));
      return xor(p);
    },
    unwrap: async (b) => xor(b),
    needsRewrap: () => false,
    keyInfo: () => ({ type: 'test', keyId: 'k' }),
    generateRandom: async (n) => randomBytes(n),
    health: () => ({ healthy: true }),
    close: async () => {},
  };
}

describe('CachingStorage eviction (CLOCK)', () => {
  it('keeps entries that are read while others come and go, and stays bounded', async () => {
    const inner = new MemoryLogicalStorage();
    let innerReads = 0;
    const counting = { ...inner, get: async (k: string) => (innerReads++, inner.get(k)), put: inner.put.bind(inner), delete: inner.delete.bind(inner), list: inner.list.bind(inner) };
    const cache = new CachingStorage(counting, 100);
    await cache.put('hot', Buffer.from('h'));
    for (let i = 0; i < 1000; i++) {
      await cache.put(`cold/${i}`, Buffer.from('c'));
      assert.equal((await cache.get('hot'))!.toString(), 'h');
    }
    assert.equal(innerReads, 0, 'the hot entry was never evicted');
    // Cold entries written long ago are gone from the cache (reads go to the store again), values intact.
    assert.equal((await cache.get('cold/0'))!.toString(), 'c');
    assert.equal(innerReads, 1);
    // A returned buffer is a copy: changing it does not change the cache.
    (await cache.get('hot'))!.fill(0);
    assert.equal((await cache.get('hot'))!.toString(), 'h');
  });
});

describe('SealWrappedStorage', () => {
  it('a re-wrap done on read never overwrites a write that finished meanwhile', async () => {
    const inner = new InmemBackend();
    // A value written while no HSM seal was configured (before a migration to the HSM).
    await new SealWrappedStorage(inner, undefined, 'logical/m/').put('k', Buffer.from('v1'));
    // The read re-wraps v1 slowly; the concurrent write of v2 wraps fast.
    const storage = new SealWrappedStorage(inner, slowSeal([30, 1]), 'logical/m/');
    const reading = storage.get('k');
    await new Promise((r) => setTimeout(r, 5));
    await storage.put('k', Buffer.from('v2'));
    assert.equal((await reading)!.toString(), 'v1');
    assert.equal((await new SealWrappedStorage(inner, slowSeal([]), 'logical/m/').get('k'))!.toString(), 'v2');
  });
});
