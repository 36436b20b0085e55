/**
 * What the route framework gives every path, over HTTP against a real
 * server: help from the declarations, the OpenAPI document, Vault's
 * envelope with mount_type, the unknown-field warning, and `tresor path-help`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, TestServer, type Api } from './helpers/server.ts';

describe('route framework over HTTP', () => {
  let server: TestServer;
  let api: Api;
  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/kv1', { type: 'kv' })).status, 204);
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
  });
  after(() => server.stop());

  it('?help=1 describes a mount path and a sys path, for any valid token, and needs one', async () => {
    const kv = await api.get('kv1/some/secret?help=1');
    assert.equal(kv.status, 200);
    assert.match(kv.body.help, /^Request: {8}kv1\/some\/secret$/m);
    assert.equal(kv.body.see_also, null);
    assert.ok(kv.body.openapi.paths['/kv1/{path}']);

    const sys = await api.get('sys/mounts/kv1/tune?help=1');
    assert.equal(sys.status, 200);
    assert.match(sys.body.help, /default_lease_ttl \(string\)/);

    // A token with only the default policy may ask too (help is not an ACL operation).
    const limited = await api.createToken({ policies: ['default'] });
    assert.equal((await api.get('sys/mounts?help=1', limited.client_token)).status, 200);
    assert.equal((await api.get('sys/mounts?help=1', '')).status, 403);
    assert.equal((await api.get('kv1?help=1', 'not-a-token')).status, 403);
    assert.equal((await api.get('nomount/x?help=1')).status, 404);
  });

  it('GET sys/internal/specs/openapi lists every path, but only unauthenticated ones without a token', async () => {
    const full = await api.get('sys/internal/specs/openapi');
    assert.equal(full.status, 200);
    assert.equal(full.body.openapi, '3.0.2');
    const paths = Object.keys(full.body.paths);
    for (const p of ['/sys/mounts', '/sys/init', '/kv1/{path}', '/transit/encrypt/{name}', '/auth/token/create', '/cubbyhole/{path}']) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(' ')}`);
    }
    assert.equal(full.body.paths['/sys/seal']['x-vault-sudo'], true);
    assert.ok(full.body.paths['/sys/init'].post.requestBody.content['application/json'].schema.properties.secret_shares);

    const anonymous = await api.get('sys/internal/specs/openapi', '');
    assert.equal(anonymous.status, 200);
    const anonPaths = Object.keys(anonymous.body.paths);
    assert.ok(anonPaths.includes('/sys/seal-status'));
    assert.ok(!anonPaths.some((p) => p.startsWith('/kv1') || p === '/sys/mounts'), anonPaths.join(' '));
  });

  it("answers with Vault's envelope, mount_type included", async () => {
    assert.equal((await api.put('kv1/a', { v: '1' })).status, 204);
    const read = await api.get('kv1/a');
    assert.equal(read.body.mount_type, 'kv');
    for (const key of ['request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth']) {
      assert.ok(key in read.body, key);
    }
    assert.equal((await api.get('auth/token/lookup-self')).body.mount_type, 'token');
    assert.equal((await api.get('sys/mounts')).body.mount_type, 'system');
    const missing = await api.get('kv1/none');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { errors: [] });
    assert.equal((await api.call('PATCH', 'kv1/a', { v: 2 })).status, 405);
  });

  it('warns about parameters a path ignored, and stays silent on arbitrary-input paths', async () => {
    const caps = await api.put('sys/capabilities-self', { paths: ['kv1/a'], bogus: 1, also: 'x' });
    assert.equal(caps.status, 200);
    assert.deepEqual(caps.body.warnings, ['Endpoint ignored these unrecognized parameters: [also bogus]']);
    assert.equal((await api.put('kv1/b', { anything: 'goes' })).status, 204);
  });

  it('takes JSON null as absent and string spellings of numbers and booleans on sys paths', async () => {
    const res = await api.post('sys/mounts/kv2', { type: 'kv', description: null, config: null, options: { version: 2 }, local: 'false', seal_wrap: null });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const tune = await api.get('sys/mounts/kv2/tune');
    assert.equal(tune.body.options.version, '2');
    const bad = await api.post('sys/mounts/kv3', { type: 'kv', local: 'maybe' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { errors: ['local must be a boolean'] });
    assert.equal((await api.get('sys/mounts/kv3')).status, 400);
  });

  it('`tresor path-help PATH` prints the help text', async () => {
    const out = await runCli(['path-help', 'transit/encrypt/k'], { addr: api.addr, token: "root" });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Request: {8}transit\/encrypt\/k/);
    const missing = await runCli(['path-help', 'nomount/x'], { addr: api.addr, token: "root" });
    assert.notEqual(missing.code, 0);
  });
});

describe('DELETE takes its parameters from the query, as Vault', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.startDev();
    assert.equal((await server.api.post('sys/mounts/kv1', { type: 'kv' })).status, 204);
  });
  after(() => server.stop());

  it('ignores a DELETE body on a mount path (even one that is not an object)', async () => {
    assert.equal((await server.api.put('kv1/gone', { v: '1' })).status, 204);
    assert.equal((await server.api.delete('kv1/gone', [])).status, 204);
    assert.equal((await server.api.get('kv1/gone')).status, 404);
  });
});
