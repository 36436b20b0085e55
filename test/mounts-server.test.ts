/**
 * Mount management against a real `tresor server -dev` child process:
 * sys/mounts listing, enabling kv v1/v2, refused paths and types, disable,
 * tune, remount, and isolation between mounts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';

const MOUNT_FIELDS = ['accessor', 'config', 'description', 'external_entropy_access', 'local', 'options', 'seal_wrap', 'type', 'uuid'];

describe('sys/mounts over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const enable = (path: string, body: Record<string, unknown>) => api.post(`sys/mounts/${path}`, body);
  const mounts = async () => {
    const res = await api.get('sys/mounts');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data as Record<string, any>;
  };

  it('lists sys/, cubbyhole/, identity/ and the -dev secret/ mount with every field', async () => {
    const table = await mounts();
    assert.deepEqual(['cubbyhole/', 'identity/', 'secret/', 'sys/'].filter((p) => table[p]), ['cubbyhole/', 'identity/', 'secret/', 'sys/']);
    for (const [path, type] of [['sys/', 'system'], ['cubbyhole/', 'cubbyhole'], ['identity/', 'identity'], ['secret/', 'kv']]) {
      const m = table[path];
      for (const field of MOUNT_FIELDS) assert.ok(field in m, `${path} lacks ${field}`);
      assert.equal(m.type, type);
      assert.match(m.uuid, /^[0-9a-f-]{36}$/);
      assert.equal(typeof m.accessor, 'string');
      assert.ok(m.accessor.length > 0);
      assert.equal(typeof m.config.default_lease_ttl, 'number');
      assert.equal(typeof m.config.max_lease_ttl, 'number');
      assert.equal(typeof m.seal_wrap, 'boolean');
      assert.equal(typeof m.external_entropy_access, 'boolean');
      assert.equal(typeof m.local, 'boolean');
    }
    assert.equal(table['cubbyhole/'].local, true);
    assert.deepEqual(table['secret/'].options, { version: '2' });
    // The same table is also at the top level for older clients.
    assert.equal((await api.get('sys/mounts')).body['sys/'].type, 'system');
  });

  it('enables kv v1, kv-v2 and kv with options.version=2, each behaving as its version', async () => {
    assert.equal((await enable('m-v1', { type: 'kv', description: 'plain' })).status, 204);
    assert.equal((await enable('m-v2', { type: 'kv-v2' })).status, 204);
    assert.equal((await enable('m-opt', { type: 'kv', options: { version: 2 } })).status, 204);
    const table = await mounts();
    assert.deepEqual(table['m-v1/'].options, { version: '1' });
    assert.equal(table['m-v1/'].description, 'plain');
    assert.equal(table['m-v2/'].type, 'kv');
    assert.deepEqual(table['m-v2/'].options, { version: '2' });
    assert.deepEqual(table['m-opt/'].options, { version: '2' });

    assert.equal((await api.put('m-v1/k', { a: 'b' })).status, 204);
    assert.deepEqual((await api.get('m-v1/k')).body.data, { a: 'b' });
    for (const v2 of ['m-v2', 'm-opt']) {
      assert.equal((await api.put(`${v2}/data/k`, { data: { a: 'b' } })).status, 200);
      const read = await api.get(`${v2}/data/k`);
      assert.deepEqual(read.body.data.data, { a: 'b' });
      assert.equal(read.body.data.metadata.version, 1);
    }
  });

  it('refuses a second mount at the same path with 400', async () => {
    assert.equal((await enable('dup', { type: 'kv' })).status, 204);
    const again = await enable('dup', { type: 'kv-v2' });
    assert.equal(again.status, 400);
    assert.match(again.body.errors[0], /already in use/);
    assert.deepEqual((await mounts())['dup/'].options, { version: '1' });
  });

  it('refuses nested and overlapping mounts in both directions with 400', async () => {
    assert.equal((await enable('outer', { type: 'kv' })).status, 204);
    assert.equal((await enable('outer/inner', { type: 'kv' })).status, 400);
    assert.equal((await enable('deep/leaf', { type: 'kv' })).status, 204);
    assert.equal((await enable('deep', { type: 'kv' })).status, 400);
    // A shared name prefix without a shared segment is not an overlap.
    assert.equal((await enable('outerx', { type: 'kv' })).status, 204);
    const table = await mounts();
    assert.equal(table['outer/inner/'], undefined);
    assert.equal(table['deep/'], undefined);
  });

  it('refuses reserved paths (sys/, auth/, cubbyhole/, identity/, audit/ and below) with 400', async () => {
    for (const path of ['sys', 'sys/x', 'auth', 'auth/token', 'auth/foo', 'cubbyhole', 'cubbyhole/x', 'identity', 'audit', 'audit/x']) {
      const res = await enable(path, { type: 'kv' });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors[0].length > 0);
    }
    const table = await mounts();
    assert.equal(table['auth/foo/'], undefined);
    assert.equal(table['sys/'].type, 'system');
  });

  it('refuses an unknown engine type or a missing type with 400 and mounts nothing', async () => {
    const unknown = await enable('mystery', { type: 'no-such-engine' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.errors[0], /no-such-engine/);
    assert.equal((await enable('mystery', {})).status, 400);
    assert.equal((await enable('mystery', { type: 'kv', options: { version: '3' } })).status, 400);
    assert.equal((await mounts())['mystery/'], undefined);
  });

  it('disable deletes the data: re-enabling at the same path starts empty', async () => {
    await enable('gone', { type: 'kv' });
    await api.put('gone/secret', { password: 'p1' });
    assert.equal((await api.get('gone/secret')).status, 200);
    assert.equal((await api.delete('sys/mounts/gone')).status, 204);
    assert.equal((await mounts())['gone/'], undefined);
    assert.equal((await api.get('gone/secret')).status, 404);
    await enable('gone', { type: 'kv' });
    assert.equal((await api.get('gone/secret')).status, 404);
    assert.equal((await api.list('gone/')).status, 404);
  });

  it('disabling a reserved mount is refused and it keeps working', async () => {
    assert.equal((await api.delete('sys/mounts/cubbyhole')).status, 400);
    assert.equal((await api.put('cubbyhole/still', { ok: 'yes' })).status, 204);
  });

  it('tune changes description and lease TTLs; seal_wrap cannot be tuned (400)', async () => {
    await enable('tuned', { type: 'kv', description: 'before' });
    const tune = await api.post('sys/mounts/tuned/tune', { description: 'after', default_lease_ttl: '1h', max_lease_ttl: 7200 });
    assert.equal(tune.status, 204, JSON.stringify(tune.body));
    const read = await api.get('sys/mounts/tuned/tune');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.description, 'after');
    assert.equal(read.body.data.default_lease_ttl, 3600);
    assert.equal(read.body.data.max_lease_ttl, 7200);
    const listed = (await mounts())['tuned/'];
    assert.equal(listed.description, 'after');
    assert.equal(listed.config.default_lease_ttl, 3600);

    const sealWrap = await api.post('sys/mounts/tuned/tune', { seal_wrap: true });
    assert.equal(sealWrap.status, 400);
    assert.equal((await mounts())['tuned/'].seal_wrap, false);
    assert.equal((await api.post('sys/mounts/tuned/tune', { default_lease_ttl: 'soon' })).status, 400);
    assert.equal((await api.post('sys/mounts/not-mounted/tune', { description: 'x' })).status, 400);
  });

  it('remount moves the data with the mount; the old path no longer answers', async () => {
    await enable('move-from', { type: 'kv' });
    await api.put('move-from/app', { key: 'moved-value' });
    const uuid = (await mounts())['move-from/'].uuid;
    const res = await api.post('sys/remount', { from: 'move-from', to: 'move-to' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const status = await api.get(`sys/remount/status/${res.body.data.migration_id}`);
    assert.equal(status.body.data.migration_info.status, 'success');
    const table = await mounts();
    assert.equal(table['move-from/'], undefined);
    assert.equal(table['move-to/'].uuid, uuid);
    assert.deepEqual((await api.get('move-to/app')).body.data, { key: 'moved-value' });
    assert.equal((await api.get('move-from/app')).status, 404);
  });

  it('remount refuses reserved, overlapping and missing paths with 400', async () => {
    await enable('stay', { type: 'kv' });
    for (const [from, to] of [['stay', 'sys/stay'], ['stay', 'auth/stay'], ['stay', 'secret/stay'], ['cubbyhole', 'cubby2'], ['nothing-here', 'x']]) {
      assert.equal((await api.post('sys/remount', { from, to })).status, 400, `${from} -> ${to}`);
    }
    assert.equal((await mounts())['stay/'].type, 'kv');
  });

  it('an engine sees only its own mount\'s keys', async () => {
    await enable('iso-a', { type: 'kv' });
    await enable('iso-b', { type: 'kv' });
    await api.put('iso-a/only-in-a', { v: 'a' });
    await api.put('iso-b/only-in-b', { v: 'b' });
    await api.put('iso-b/shared', { v: 'b' });
    await api.put('iso-a/shared', { v: 'a' });
    assert.deepEqual((await api.list('iso-a/')).body.data.keys, ['only-in-a', 'shared']);
    assert.deepEqual((await api.list('iso-b/')).body.data.keys, ['only-in-b', 'shared']);
    assert.equal((await api.get('iso-a/only-in-b')).status, 404);
    assert.deepEqual((await api.get('iso-a/shared')).body.data, { v: 'a' });
    assert.deepEqual((await api.get('iso-b/shared')).body.data, { v: 'b' });
  });
});
