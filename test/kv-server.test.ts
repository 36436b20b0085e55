/**
 * KV v1, KV v2 and cubbyhole against a real `tresor server -dev` child
 * process, over HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';

describe('KV and cubbyhole over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/kv1', { type: 'kv' })).status, 204);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const patch = (path: string, body: unknown) => api.call('PATCH', path, body);

  describe('kv v1', () => {
    it('writes, reads, lists folders and deletes', async () => {
      assert.equal((await api.put('kv1/app/db', { user: 'u', port: 5432 })).status, 204);
      await api.put('kv1/app/api/key', { k: 'v' });
      await api.put('kv1/top', { t: '1' });
      const read = await api.get('kv1/app/db');
      assert.equal(read.status, 200);
      assert.deepEqual(read.body.data, { user: 'u', port: 5432 });
      assert.deepEqual((await api.list('kv1/')).body.data.keys, ['app/', 'top']);
      assert.deepEqual((await api.list('kv1/app')).body.data.keys, ['api/', 'db']);
      assert.equal((await api.delete('kv1/app/db')).status, 204);
      assert.equal((await api.get('kv1/app/db')).status, 404);
      assert.equal((await api.list('kv1/nothing/')).status, 404);
    });

    it('a write replaces the whole secret; an empty write is a 400', async () => {
      await api.put('kv1/replace', { a: '1', b: '2' });
      await api.put('kv1/replace', { c: '3' });
      assert.deepEqual((await api.get('kv1/replace')).body.data, { c: '3' });
      assert.equal((await api.put('kv1/empty', {})).status, 400);
      assert.equal((await api.get('kv1/empty')).status, 404);
    });

    it('reports a stored ttl as the lease duration', async () => {
      await api.put('kv1/with-ttl', { v: 'x', ttl: '30m' });
      assert.equal((await api.get('kv1/with-ttl')).body.lease_duration, 1800);
      assert.equal((await api.put('kv1/bad-ttl', { v: 'x', ttl: 'soon' })).status, 400);
    });
  });

  describe('kv v2 (secret/)', () => {
    it('versions each write and reads any version', async () => {
      const first = await api.put('secret/data/v/app', { data: { a: '1' } });
      assert.equal(first.status, 200);
      assert.equal(first.body.data.version, 1);
      const second = await api.put('secret/data/v/app', { data: { a: '2' } });
      assert.equal(second.body.data.version, 2);
      const latest = await api.get('secret/data/v/app');
      assert.deepEqual(latest.body.data.data, { a: '2' });
      assert.equal(latest.body.data.metadata.version, 2);
      assert.deepEqual((await api.get('secret/data/v/app?version=1')).body.data.data, { a: '1' });
      assert.equal((await api.get('secret/data/v/app?version=9')).status, 404);
      assert.equal((await api.get('secret/data/v/missing')).status, 404);
    });

    it('check-and-set: cas=0 only creates, cas=N must match the current version', async () => {
      assert.equal((await api.put('secret/data/cas/x', { options: { cas: 0 }, data: { v: '1' } })).status, 200);
      const stale = await api.put('secret/data/cas/x', { options: { cas: 0 }, data: { v: 'again' } });
      assert.equal(stale.status, 400);
      assert.match(stale.body.errors[0], /check-and-set/);
      assert.equal((await api.put('secret/data/cas/x', { options: { cas: 2 }, data: { v: 'wrong' } })).status, 400);
      assert.equal((await api.put('secret/data/cas/x', { options: { cas: 1 }, data: { v: '2' } })).status, 200);
      assert.deepEqual((await api.get('secret/data/cas/x')).body.data.data, { v: '2' });
    });

    it('PATCH merges into the latest version (null removes a key); patching a missing secret is 404', async () => {
      await api.put('secret/data/p/x', { data: { keep: 'k', drop: 'd', nested: { a: 1 } } });
      const res = await patch('secret/data/p/x', { data: { drop: null, added: 'n', nested: { b: 2 } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data.version, 2);
      assert.deepEqual((await api.get('secret/data/p/x')).body.data.data, { keep: 'k', added: 'n', nested: { a: 1, b: 2 } });
      assert.equal((await patch('secret/data/p/none', { data: { a: '1' } })).status, 404);
    });

    it('delete, undelete and destroy act on versions; metadata shows their state', async () => {
      for (const v of ['1', '2', '3']) await api.put('secret/data/life/x', { data: { v } });
      assert.equal((await api.delete('secret/data/life/x')).status, 204);
      const deleted = await api.get('secret/data/life/x');
      assert.equal(deleted.status, 404);
      assert.notEqual(deleted.body.data.metadata.deletion_time, '');
      assert.equal((await api.post('secret/undelete/life/x', { versions: [3] })).status, 204);
      assert.deepEqual((await api.get('secret/data/life/x')).body.data.data, { v: '3' });
      assert.equal((await api.post('secret/delete/life/x', { versions: [2] })).status, 204);
      assert.equal((await api.post('secret/destroy/life/x', { versions: [1] })).status, 204);
      assert.equal((await api.post('secret/undelete/life/x', { versions: [1] })).status, 204);
      assert.equal((await api.get('secret/data/life/x?version=1')).status, 404, 'a destroyed version stays gone');
      const meta = (await api.get('secret/metadata/life/x')).body.data;
      assert.equal(meta.current_version, 3);
      assert.equal(meta.versions['1'].destroyed, true);
      assert.notEqual(meta.versions['2'].deletion_time, '');
      assert.equal(meta.versions['3'].deletion_time, '');
      assert.equal((await api.post('secret/destroy/life/x', {})).status, 400, 'versions are required');
    });

    it('metadata: custom_metadata and max_versions apply; list; delete removes every version', async () => {
      await api.put('secret/data/meta/a', { data: { v: '1' } });
      await api.put('secret/data/meta/b/c', { data: { v: '1' } });
      assert.equal((await api.post('secret/metadata/meta/a', { max_versions: 2, custom_metadata: { owner: 'ops' } })).status, 204);
      for (const v of ['2', '3']) await api.put('secret/data/meta/a', { data: { v } });
      const meta = (await api.get('secret/metadata/meta/a')).body.data;
      assert.deepEqual(meta.custom_metadata, { owner: 'ops' });
      assert.equal(meta.max_versions, 2);
      assert.deepEqual(Object.keys(meta.versions).sort(), ['2', '3']);
      assert.deepEqual((await api.list('secret/metadata/meta')).body.data.keys, ['a', 'b/']);
      assert.equal((await api.delete('secret/metadata/meta/a')).status, 204);
      assert.equal((await api.get('secret/metadata/meta/a')).status, 404);
      assert.equal((await api.get('secret/data/meta/a?version=3')).status, 404);
      assert.deepEqual((await api.list('secret/metadata/meta')).body.data.keys, ['b/']);
    });

    it('subkeys shows the structure without values', async () => {
      await api.put('secret/data/sub/x', { data: { user: 'secret-user', nested: { pass: 'secret-pass' } } });
      const res = await api.get('secret/subkeys/sub/x');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.subkeys, { user: null, nested: { pass: null } });
      assert.ok(!JSON.stringify(res.body).includes('secret-pass'));
    });

    it('config cas_required makes every write need cas', async () => {
      await api.post('sys/mounts/kvcas', { type: 'kv-v2' });
      assert.equal((await api.post('kvcas/config', { cas_required: true, max_versions: 5 })).status, 204);
      assert.deepEqual((await api.get('kvcas/config')).body.data, { cas_required: true, delete_version_after: '0s', max_versions: 5 });
      assert.equal((await api.put('kvcas/data/x', { data: { v: '1' } })).status, 400);
      assert.equal((await api.put('kvcas/data/x', { options: { cas: 0 }, data: { v: '1' } })).status, 200);
    });

    it('paths outside data/metadata/... and wrong operations are refused', async () => {
      assert.equal((await api.get('secret/unknown/x')).status, 404);
      assert.equal((await api.get('secret/delete/x')).status, 405);
      assert.equal((await api.put('secret/data/', { data: { v: '1' } })).status, 400);
      assert.equal((await api.put('secret/data/x', { data: 'not-an-object' })).status, 400);
    });
  });

  describe('cubbyhole', () => {
    const newToken = async (body: Record<string, unknown> = {}) =>
      (await api.post('auth/token/create', { policies: ['default'], ...body })).body.auth as { client_token: string; accessor: string };

    it('two tokens writing the same path each see only their own value', async () => {
      const alice = (await newToken()).client_token;
      const bob = (await newToken()).client_token;
      assert.equal((await api.put('cubbyhole/shared', { owner: 'alice' }, alice)).status, 204);
      assert.equal((await api.put('cubbyhole/shared', { owner: 'bob' }, bob)).status, 204);
      await api.put('cubbyhole/alice-only', { x: '1' }, alice);
      assert.deepEqual((await api.get('cubbyhole/shared', alice)).body.data, { owner: 'alice' });
      assert.deepEqual((await api.get('cubbyhole/shared', bob)).body.data, { owner: 'bob' });
      assert.equal((await api.get('cubbyhole/alice-only', bob)).status, 404);
      assert.deepEqual((await api.list('cubbyhole/', bob)).body.data.keys, ['shared']);
      assert.equal((await api.delete('cubbyhole/alice-only', undefined, bob)).status, 204);
      assert.deepEqual((await api.get('cubbyhole/alice-only', alice)).body.data, { x: '1' });
      assert.equal((await api.get('cubbyhole/shared')).status, 404, 'root has its own cubbyhole too');
    });

    it('a revoked token\'s cubbyhole is erased (a new token with the same id finds it empty)', async () => {
      const id = 'cubby-reuse-token';
      const first = await newToken({ id });
      assert.equal(first.client_token, id);
      await api.put('cubbyhole/note', { v: 'from-first' }, id);
      assert.equal((await api.get('cubbyhole/note', id)).status, 200);
      assert.equal((await api.post('auth/token/revoke-accessor', { accessor: first.accessor })).status, 204);
      assert.equal((await api.get('cubbyhole/note', id)).status, 403);
      await newToken({ id });
      assert.equal((await api.get('cubbyhole/note', id)).status, 404);
      assert.equal((await api.list('cubbyhole/', id)).status, 404);
    });
  });
});
