import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runBackendConformance } from '../src/storage/conformance.ts';
import { EtcdBackend, etcdOptionsFrom } from '../src/storage/etcd.ts';
import { createStorage } from '../src/storage/index.ts';
import { TestEtcd } from './helpers/etcd.ts';

let etcd: TestEtcd;
before(async () => {
  etcd = await TestEtcd.start();
});
after(async () => {
  await etcd?.destroy();
});

/** A backend on its own fresh prefix, so every case starts empty. */
function fresh(extra: Record<string, string> = {}): EtcdBackend {
  return createStorage('etcd', { address: etcd.address, path: `/t-${crypto.randomUUID()}/`, ...extra }, {}) as EtcdBackend;
}

runBackendConformance('etcd', async () => fresh());

describe('etcd storage', () => {
  it('reads Vault options and the ETCD_* environment overrides', () => {
    const o = etcdOptionsFrom({ address: 'http://a:1', ha_enabled: 'false', request_timeout: '3s', lock_timeout: '4s' }, {
      ETCD_ADDR: 'http://x:2379, http://y:2379',
      ETCD_HA_ENABLED: 'true',
      ETCD_USERNAME: 'u',
    });
    assert.deepEqual(o.addresses, ['http://x:2379', 'http://y:2379']);
    assert.equal(o.haEnabled, true);
    assert.equal(o.path, '/vault/');
    assert.equal(o.requestTimeoutMs, 3000);
    assert.equal(o.lockTtlSeconds, 4);
    assert.equal(o.username, 'u');
    assert.equal(etcdOptionsFrom({}, {}).lockTtlSeconds, 2);
    assert.throws(() => etcdOptionsFrom({ etcd_api: 'v2' }, {}), /etcd_api must be "v3"/);
    assert.throws(() => etcdOptionsFrom({ address: 'not a url' }, {}), /comma-separated list of URLs/);
    assert.throws(() => etcdOptionsFrom({ ha_enabled: 'maybe' }, {}), /ha_enabled must be "true" or "false"/);
    assert.throws(() => etcdOptionsFrom({ password: 'hunter2', request_timeout: 'soon' }, {}), (err: Error) => {
      assert.match(err.message, /request_timeout must be a positive duration/);
      assert.doesNotMatch(err.message, /soon|hunter2/);
      return true;
    });
  });

  it('stores entries under the configured path prefix as raw bytes', async () => {
    const b = fresh();
    try {
      await b.put('core/x', Buffer.from([0, 1, 2, 255]));
      const raw = await b.client.get(`${b.options.path}core/x`).buffer();
      assert.deepEqual(raw, Buffer.from([0, 1, 2, 255]));
    } finally {
      await b.close();
    }
  });

  it('refuses a value over the etcd request limit with 413 and writes nothing', async () => {
    const b = fresh();
    try {
      await b.put('big', Buffer.from('old'));
      const huge = crypto.randomBytes(1536 * 1024);
      await assert.rejects(b.put('big', huge), (err: { status?: number; message: string }) => {
        assert.equal(err.status, 413);
        assert.match(err.message, /over the etcd request limit/);
        return true;
      });
      await assert.rejects(
        b.transaction([
          { op: 'put', key: 'a', value: crypto.randomBytes(900 * 1024) },
          { op: 'put', key: 'b', value: crypto.randomBytes(900 * 1024) },
        ]),
        (err: { status?: number }) => err.status === 413,
      );
      assert.deepEqual(await b.get('big'), Buffer.from('old'));
      assert.deepEqual(await b.list(''), ['big']);
      // Right under the limit still round-trips.
      const edge = crypto.randomBytes(1536 * 1024 - 4096);
      await b.put('edge', edge);
      assert.ok(edge.equals((await b.get('edge'))!));
    } finally {
      await b.close();
    }
  });

  it('a transaction is one etcd Txn: one revision for all of its ops', async () => {
    const b = fresh();
    try {
      await b.transaction([
        { op: 'put', key: 'x/1', value: Buffer.from('1') },
        { op: 'put', key: 'x/2', value: Buffer.from('2') },
      ]);
      const res = await b.client.getAll().prefix(`${b.options.path}x/`).exec();
      assert.equal(res.kvs.length, 2);
      assert.equal(res.kvs[0].mod_revision, res.kvs[1].mod_revision);
    } finally {
      await b.close();
    }
  });

  it('a fenced write applies only while the leader key has the fenced create revision', async () => {
    const b = fresh();
    try {
      const leaderKey = Buffer.from(`${b.options.path}-leader`);
      const put = await b.client.put(leaderKey).value('me').exec();
      let lost = 0;
      b.setWriteGuard({ mode: 'fenced', leaderKey, createRevision: put.header.revision, onLost: () => lost++ });
      await b.put('k', Buffer.from('mine'));
      // Another node takes over: the key is recreated with a new create revision.
      await b.client.delete().key(leaderKey).exec();
      await b.client.put(leaderKey).value('other').exec();
      await assert.rejects(b.put('k', Buffer.from('stale')), (err: { status?: number; message: string }) => {
        assert.equal(err.status, 503);
        assert.match(err.message, /no longer the active node/);
        return true;
      });
      await assert.rejects(b.delete('k'), /no longer the active node/);
      assert.equal(lost, 2);
      assert.deepEqual(await b.get('k'), Buffer.from('mine'));
      b.setWriteGuard({ mode: 'closed', reason: 'standby' });
      await assert.rejects(b.put('k', Buffer.from('x')), /standby/);
    } finally {
      await b.close();
    }
  });

  it('reports etcd down as a 503 naming etcd, and works again once it is back', async () => {
    const b = fresh({ request_timeout: '1s' });
    try {
      await b.put('k', Buffer.from('v'));
      await etcd.stop();
      await assert.rejects(b.get('k'), (err: { status?: number; message: string }) => {
        assert.equal(err.status, 503);
        assert.match(err.message, /etcd is unavailable/);
        return true;
      });
      await etcd.start();
      let value: Buffer | undefined;
      for (let i = 0; i < 50 && value === undefined; i++) {
        value = await b.get('k').catch(() => undefined);
        if (value === undefined) await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(value, Buffer.from('v'));
    } finally {
      await b.close();
    }
  });
});
