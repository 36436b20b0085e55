/**
 * The expiry sweep works from an expiry index: it revokes exactly the
 * expired tokens, reads only their entries (not every token stored), moves
 * with renewals, builds the index once on a store written before it, and
 * yields to the event loop while it works.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { InmemBackend } from '../../storage/inmem.ts';
import { TokenStore } from './token-store.ts';

const START_MS = Date.UTC(2026, 0, 1, 12, 0, 30);

/** Counts reads of token entries (id/...), the costly part of a sweep (a barrier decrypt each). */
class CountingStorage extends InmemBackend {
  entryReads = 0;
  override async get(key: string) {
    if (key.startsWith('id/')) this.entryReads++;
    return super.get(key);
  }
}

function setup() {
  const storage = new CountingStorage();
  const clock = { ms: START_MS };
  const revoked = new Set<string>();
  const store = new TokenStore({
    storage,
    randomBytes: async (n) => crypto.randomBytes(n),
    now: () => clock.ms,
    onRevoke: async (entry) => { revoked.add(entry.id); },
  });
  const make = (ttl: number, parent = '') =>
    store.create({
      policies: ['a'], parent, path: 'auth/token/create', displayName: 'token', meta: null, numUses: 0,
      ttl, explicitMaxTtl: 0, period: 0, renewable: true, entityId: '',
    });
  return { storage, store, clock, revoked, make };
}

describe('token expiry sweep', () => {
  it('revokes exactly the tokens whose expiry has passed, step after step (random TTLs)', async () => {
    const { store, clock, revoked, make } = setup();
    const tokens: Array<{ id: string; expireTime: number }> = [];
    for (let i = 0; i < 300; i++) {
      const { entry } = await make(1 + crypto.randomInt(4 * 3600)); // up to four hours: several hour buckets
      tokens.push({ id: entry.id, expireTime: entry.expireTime });
    }
    for (let step = 0; step < 12; step++) {
      clock.ms += crypto.randomInt(1, 40 * 60) * 1000;
      await store.sweepExpired();
      const expected = new Set(tokens.filter((t) => clock.ms >= t.expireTime).map((t) => t.id));
      assert.deepEqual([...revoked].sort(), [...expected].sort(), `after step ${step}`);
    }
  });

  it('reads only the entries of expired tokens, however many live ones are stored', async () => {
    const { storage, store, clock, revoked, make } = setup();
    for (let i = 0; i < 2000; i++) await make(24 * 3600);
    const short = await Promise.all([make(60), make(90), make(120)]);
    clock.ms += 5 * 60_000;
    storage.entryReads = 0;
    assert.equal(await store.sweepExpired(), 3);
    assert.deepEqual([...revoked].sort(), short.map((t) => t.entry.id).sort());
    // Three expired tokens: a few reads each (sweep, revocation), never one per stored token.
    assert.ok(storage.entryReads <= 12, `${storage.entryReads} entry reads`);
    storage.entryReads = 0;
    assert.equal(await store.sweepExpired(), 0);
    assert.equal(storage.entryReads, 0, 'a sweep with nothing due reads no entry');
  });

  it('a renewed token is not revoked at its old expiry but at its new one', async () => {
    const { store, clock, revoked, make } = setup();
    const { entry } = await make(120);
    clock.ms += 60_000;
    await store.renew(entry, 3600);
    clock.ms += 10 * 60_000; // past the original expiry
    assert.equal(await store.sweepExpired(), 0);
    assert.equal(revoked.size, 0);
    clock.ms += 3600_000;
    assert.equal(await store.sweepExpired(), 1);
    assert.ok(revoked.has(entry.id));
  });

  it('a child expiring after its parent is revoked with the parent, and its marker is dropped later', async () => {
    const { storage, store, clock, revoked, make } = setup();
    const parent = await make(60);
    const child = await make(3 * 3600, parent.entry.id);
    clock.ms += 2 * 60_000;
    assert.equal(await store.sweepExpired(), 1);
    assert.deepEqual([...revoked].sort(), [parent.entry.id, child.entry.id].sort());
    clock.ms += 4 * 3600_000;
    assert.equal(await store.sweepExpired(), 0);
    assert.deepEqual(await storage.list('expiry/'), []);
  });

  it('on a store written before the index, the first sweep builds it and revokes what has expired', async () => {
    const { storage, store, clock, revoked, make } = setup();
    const old = await make(60);
    const keep = await make(7200);
    // What an older Tresor left: the entries without expiry markers or the index marker.
    const drop = async (prefix: string): Promise<void> => {
      for (const name of await storage.list(prefix)) {
        if (name.endsWith('/')) await drop(prefix + name);
        else await storage.delete(prefix + name);
      }
    };
    await drop('expiry/');
    await storage.delete('expiry-index');
    clock.ms += 5 * 60_000;
    assert.equal(await store.sweepExpired(), 1);
    assert.deepEqual([...revoked], [old.entry.id]);
    assert.ok(await store.lookup(keep.token));
    clock.ms += 3 * 3600_000;
    assert.equal(await store.sweepExpired(), 1, 'the rebuilt index holds the long-lived token too');
  });

  it('yields to the event loop while it revokes a large batch', async () => {
    const { store, clock, make } = setup();
    for (let i = 0; i < 400; i++) await make(60);
    clock.ms += 2 * 60_000;
    let ticks = 0;
    let running = true;
    const tick = () => { if (running) { ticks++; setImmediate(tick); } };
    setImmediate(tick);
    assert.equal(await store.sweepExpired(), 400);
    running = false;
    assert.ok(ticks >= 400 / 64 - 1, `the loop ran ${ticks} times during the sweep`);
  });
});
