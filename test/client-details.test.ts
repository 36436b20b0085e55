/**
 * Details of Vault's HTTP behaviour that real clients depend on, each found by
 * driving hvac or node-vault against Tresor: the exact Content-Type, JSON
 * null taken as "not given", sys/unseal's key check, the rekey backup answer,
 * and a wrapped answer carrying only wrap_info, never the answer in the clear.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';

async function raw(addr: string, method: string, apiPath: string, body?: unknown, token?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${addr}/v1/${apiPath}`, {
    method,
    headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

describe('client-facing HTTP details (Shamir file server)', () => {
  let server: TestServer;
  let api: Api;
  let rootToken: string;
  let keys: string[];

  before(async () => {
    server = await TestServer.start();
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('sys/init takes null for every optional field, as hvac sends them', async () => {
    const res = await raw(api.addr, 'PUT', 'sys/init', {
      secret_shares: 3, secret_threshold: 2, pgp_keys: null, root_token_pgp_key: null,
      stored_shares: null, recovery_shares: null, recovery_threshold: null, recovery_pgp_keys: null,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.contentType, 'application/json');
    assert.equal(res.body.keys.length, 3);
    rootToken = res.body.root_token;
    keys = res.body.keys;
    for (const key of keys.slice(0, 2)) assert.equal((await api.put('sys/unseal', { key })).status, 200);
    api.token = rootToken;
  });

  it('errors carry Content-Type exactly application/json', async () => {
    for (const [method, p, token] of [['GET', 'secret/nothing', rootToken], ['GET', 'sys/mounts', 'bogus'], ['PUT', 'sys/unseal', undefined]] as const) {
      const res = await raw(api.addr, method, p, method === 'PUT' ? { key: '' } : undefined, token);
      assert.ok(res.status >= 400, `${method} ${p}: ${res.status}`);
      assert.equal(res.contentType, 'application/json', `${method} ${p}`);
      assert.ok(Array.isArray(res.body.errors));
    }
  });

  it('sys/unseal refuses an empty or undecodable key with 400 also once unsealed', async () => {
    const empty = await api.put('sys/unseal', { key: '' });
    assert.equal(empty.status, 400);
    assert.match(empty.body.errors[0], /'key' must be specified/);
    const missing = await api.put('sys/unseal', {});
    assert.equal(missing.status, 400);
    const junk = await api.put('sys/unseal', { key: 'not-a-key!!' });
    assert.equal(junk.status, 400);
    assert.equal((await api.get('sys/seal-status')).body.sealed, false);
    // As in Vault, there is nothing to reset once unsealed.
    assert.deepEqual(await api.put('sys/unseal', { reset: true }), { status: 400, body: { errors: ['vault is unsealed'] } });
  });

  it('sys/mounts takes null description, config and local, as hvac sends them', async () => {
    const res = await api.post('sys/mounts/hv', {
      type: 'kv', description: null, config: null, options: { version: '2' }, plugin_name: null, local: null, seal_wrap: null, external_entropy_access: null,
    });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const mounts = await api.get('sys/mounts');
    assert.equal(mounts.body.data['hv/'].type, 'kv');
    assert.equal(mounts.body.data['hv/'].description, '');
  });

  it('GET sys/rekey/backup with no backup answers 400 "no backed-up keys found"', async () => {
    const res = await raw(api.addr, 'GET', 'sys/rekey/backup', undefined, rootToken);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { errors: ['no backed-up keys found'] });
  });

  it('a wrapped answer carries only wrap_info: the new token and the mount table are not sent in the clear', async () => {
    const before = await api.list('auth/token/accessors');
    const res = await raw(api.addr, 'POST', 'auth/token/create', { policies: ['default'] }, rootToken, { 'X-Vault-Wrap-TTL': '60s' });
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    assert.equal(res.body.auth, null);
    assert.equal(res.body.data, null);
    assert.equal(res.body.wrap_info.creation_path, 'auth/token/create');
    const afterList = await api.list('auth/token/accessors');
    assert.equal(afterList.body.data.keys.length, before.body.data.keys.length + 2, 'the new token and its wrapping token');
    const read = await raw(api.addr, 'GET', 'sys/mounts', undefined, rootToken, { 'X-Vault-Wrap-TTL': '5m' });
    assert.equal(read.status, 200);
    assert.equal(read.body.data, null);
    assert.equal(read.body['sys/'], undefined, 'no mount at the top level either');
    const unwrapped = await raw(api.addr, 'PUT', 'sys/wrapping/unwrap', { token: read.body.wrap_info.token }, rootToken);
    assert.equal(unwrapped.status, 200);
    assert.equal(unwrapped.body.data['sys/'].type, 'system');
    assert.equal(unwrapped.body['sys/'].type, 'system', 'the stored answer is the whole body sys/mounts would have sent');
  });
});
