/**
 * Attempts to reach a path a token's policy does not grant by dressing the
 * path up (dot segments, encodings, case, prefixes, query strings, NUL
 * bytes). Requests are sent byte for byte with node:http, since fetch would
 * normalise `..` away before the server saw it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { Api, TestServer } from './helpers/server.ts';

const OTHER_VALUE = 'other-original';

describe('ACL escapes (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  let appToken: string;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    await api.put('sys/policies/acl/app-only', {
      policy: 'path "secret/data/app/*" {\n  capabilities = ["create", "read", "update", "patch", "delete", "list"]\n}\n',
    });
    await api.put('secret/data/other', { data: { v: OTHER_VALUE } });
    await api.put('secret/data/app/ok', { data: { v: 'app' } });
    const res = await api.post('auth/token/create', { policies: ['app-only'] });
    appToken = res.body.auth.client_token;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  function raw(method: string, rawPath: string, body?: unknown): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { 'X-Vault-Token': appToken };
      if (payload) headers['Content-Type'] = 'application/json';
      const req = http.request({ host: '127.0.0.1', port: server.port, method, path: rawPath, headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  async function otherIsUntouched(): Promise<void> {
    const res = await api.get('secret/data/other');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.data, { v: OTHER_VALUE });
    assert.equal(res.body.data.metadata.version, 1);
  }

  it('the token can use its own path (the control case)', async () => {
    assert.equal((await raw('GET', '/v1/secret/data/app/ok')).status, 200);
    assert.equal((await raw('GET', '/v1/secret/data/other')).status, 403);
  });

  const tricks = [
    '/v1/secret/data/app/../other',
    '/v1/secret/data/app/%2e%2e/other',
    '/v1/secret/data/app/%2E%2E/other',
    '/v1/secret/data/app/.%2e/other',
    '/v1/secret/data/app%2F..%2Fother',
    '/v1/secret/data/app/x%2F..%2F..%2Fother',
    '/v1/secret/data/app/./../other',
    '/v1/secret/data/app\\..\\other',
    '/v1/secret/data/APP/x',
    '/v1/secret/data/app',
    '/v1/secret/data/app/x/',
    '/v1/secret/data/appx/y',
    '/v1//secret/data/other',
    '/v1/secret//data/other',
    '/v1/secret/data/other?x=app/',
    '/v1/secret/data/other?path=secret/data/app/x',
    '/v1/secret/data/app/%00/../other',
    '/v1/secret/data/other%00/app/x',
    '/v1/secret/data/app/x%00',
    '/v1/sys/../secret/data/other',
    '/v1/secret/data/other#app/x',
  ];

  for (const rawPath of tricks) {
    it(`refuses ${rawPath} for read, write and delete, and never touches secret/data/other`, async () => {
      const read = await raw('GET', rawPath);
      assert.ok(read.status === 403 || read.status === 400, `GET ${rawPath} → ${read.status} ${read.text}`);
      assert.ok(!read.text.includes(OTHER_VALUE), 'the other secret leaked');
      const write = await raw('PUT', rawPath, { data: { v: 'pwned' } });
      assert.ok(write.status === 403 || write.status === 400, `PUT ${rawPath} → ${write.status} ${write.text}`);
      const del = await raw('DELETE', rawPath);
      assert.ok(del.status === 403 || del.status === 400, `DELETE ${rawPath} → ${del.status} ${del.text}`);
      await otherIsUntouched();
    });
  }

  it('a list through a trick path does not list secret/metadata/', async () => {
    for (const rawPath of ['/v1/secret/metadata/app/../?list=true', '/v1/secret/metadata/?list=true&x=app/', '/v1/secret/metadata/app%2F..%2F?list=true']) {
      const res = await raw('GET', rawPath);
      assert.ok(res.status === 403 || res.status === 400, `${rawPath} → ${res.status}`);
      assert.ok(!res.text.includes('other'));
    }
  });

  it('an unknown path answers 403 to a token without access, so mounts cannot be probed', async () => {
    assert.equal((await raw('GET', '/v1/no-such-mount/x')).status, 403);
    assert.equal((await raw('GET', '/v1/secret/data/other')).status, 403);
    assert.equal((await api.get('no-such-mount/x')).status, 404, 'root still learns that nothing is there');
  });

  it('a policy on "secret/*" does not grant the mount "secretx/"', async () => {
    await api.post('sys/mounts/secretx', { type: 'kv' });
    await api.put('secretx/data', { v: 'x-value' });
    await api.put('sys/policies/acl/secret-all', { policy: 'path "secret/*" {\n  capabilities = ["create", "read", "update", "list"]\n}\n' });
    const token = (await api.post('auth/token/create', { policies: ['secret-all'] })).body.auth.client_token;
    assert.equal((await api.get('secret/data/other', token)).status, 200);
    assert.equal((await api.get('secretx/data', token)).status, 403);
    assert.equal((await api.put('secretx/data', { v: 'overwritten' }, token)).status, 403);
    assert.equal((await api.list('secretx/', token)).status, 403);
    assert.deepEqual((await api.get('secretx/data')).body.data, { v: 'x-value' });
  });

  it('a trailing slash does not get round an exact deny on a sys endpoint', async () => {
    await api.put('sys/policies/acl/sys-but-rotate', {
      policy: 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }\npath "sys/rotate" { capabilities = ["deny"] }\n',
    });
    const token = (await api.post('auth/token/create', { policies: ['sys-but-rotate'] })).body.auth.client_token;
    const term = (await api.get('sys/key-status')).body.term;
    for (const p of ['sys/rotate', 'sys/rotate/', 'sys/rotate//']) {
      const res = await api.put(p, {}, token);
      assert.ok(res.status === 403 || res.status === 400, `${p} answered ${res.status}`);
    }
    assert.equal((await api.get('sys/key-status')).body.term, term);
  });

  it('a "__proto__" key in the body is ignored, not turned into the request\'s prototype', async () => {
    const res = await api.call('POST', 'secret/data/app/proto', '{"__proto__":{"data":{"a":"1"}}}');
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal((await api.get('secret/data/app/proto')).status, 404);
  });

  it('sys/internal/ui/mounts answers only for mounts the token can reach', async () => {
    assert.equal((await api.post('sys/mounts/hidden', { type: 'kv' })).status, 204);
    const mine = await api.get('sys/internal/ui/mounts/secret/app/ok', appToken);
    assert.equal(mine.status, 200);
    assert.equal(mine.body.data.path, 'secret/');
    assert.equal((await api.get('sys/internal/ui/mounts/hidden', appToken)).status, 403);
    assert.equal((await api.get('sys/internal/ui/mounts/hidden')).status, 200, 'root sees every mount');
  });
});
