/**
 * Adversarial suite for ACL policies against a real `tresor server -dev`:
 * each case is a token trying to do more than its policy lets it, through a
 * constraint Vault enforces besides capabilities (allowed, denied and
 * required parameters, min/max wrapping TTL), a list path without its
 * trailing slash, or a list endpoint read with a plain GET. Every refusal
 * is checked for Vault's status and error text, and for leaving the stored
 * state as it was (read back as root).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { Api, TestServer, type ApiResponse } from './helpers/server.ts';

const DENIED = { errors: ['permission denied'] };

describe('ACL constraints and list paths (-dev server)', () => {
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

  const writePolicy = (name: string, text: string) => api.writePolicy(name, text);

  async function tokenWith(...policies: string[]): Promise<string> {
    const res = await api.post('auth/token/create', { policies });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.auth.client_token;
  }

  /** A request with extra headers (the shared client sends only the token). */
  async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const res = await fetch(`${api.addr}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Vault's LIST verb, sent as is (fetch refuses unknown methods). */
  function listVerb(path: string, token: string): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'LIST', path: `/v1/${path}`, headers: { 'X-Vault-Token': token } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function assertDenied(res: ApiResponse, what: string): void {
    assert.equal(res.status, 403, `${what}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(res.body, DENIED, what);
  }

  async function kv2Value(path: string): Promise<{ data: unknown; version: number }> {
    const res = await api.get(`secret/data/${path}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { data: res.body.data.data, version: res.body.data.metadata.version };
  }

  async function accessorCount(): Promise<number> {
    const res = await api.list('auth/token/accessors');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.keys.length;
  }

  describe('parameter constraints', () => {
    it('denied_parameters = { "data" = [] } refuses a kv v2 write carrying data, in the body or the query', async () => {
      await api.put('secret/data/cfg', { data: { v: 'original' } });
      await writePolicy('cfg-no-data', [
        'path "secret/data/cfg" {',
        '  capabilities = ["create", "read", "update", "patch"]',
        '  denied_parameters = { "data" = [] }',
        '}',
      ].join('\n'));
      const token = await tokenWith('cfg-no-data');
      assertDenied(await api.put('secret/data/cfg', { data: { v: 'attacker' } }, token), 'PUT with data');
      assertDenied(await api.post('secret/data/cfg', { data: { v: 'attacker' }, options: { cas: 1 } }, token), 'POST with data and options');
      assertDenied(await call('PUT', 'secret/data/cfg?data=attacker', token), 'data in the query string');
      assertDenied(await call('PATCH', 'secret/data/cfg', token, { data: { v: 'attacker' } }, { 'Content-Type': 'application/merge-patch+json' }), 'PATCH with data');
      assert.deepEqual(await kv2Value('cfg'), { data: { v: 'original' }, version: 1 });
      // The rest of the policy still works: a read without parameters.
      const read = await api.get('secret/data/cfg', token);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body.data.data, { v: 'original' });
    });

    it('allowed_parameters = { "policies" = ["p1"] } on auth/token/create limits what a token may create', async () => {
      await writePolicy('p1', 'path "secret/data/p1/*" {\n  capabilities = ["read"]\n}\n');
      await writePolicy('p2', 'path "secret/data/p2/*" {\n  capabilities = ["read"]\n}\n');
      await writePolicy('mint-p1', [
        'path "auth/token/create" {',
        '  capabilities = ["create", "update"]',
        '  allowed_parameters = { "policies" = ["p1"] }',
        '}',
      ].join('\n'));
      // The parent holds p1 and p2, so only the policy constraint stands between it and a p2 child.
      const parent = await tokenWith('mint-p1', 'p1', 'p2');
      const before = await accessorCount();
      assertDenied(await api.post('auth/token/create', { policies: ['p2'] }, parent), 'a child with p2');
      assertDenied(await api.post('auth/token/create', { policies: ['p1', 'p2'] }, parent), 'a child with p1 and p2');
      assertDenied(await api.post('auth/token/create', { policies: 'p1,p2' }, parent), 'policies as a comma-separated string');
      assertDenied(await api.post('auth/token/create', { policies: ['p1'], ttl: '87600h' }, parent), 'a parameter not listed (ttl)');
      assertDenied(await api.post('auth/token/create', { policies: ['p1'], no_default_policy: true }, parent), 'another unlisted parameter');
      assert.equal(await accessorCount(), before, 'no token was created by a refused request');
      const ok = await api.post('auth/token/create', { policies: ['p1'] }, parent);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body.auth.token_policies, ['default', 'p1']);
      assert.equal(await accessorCount(), before + 1);
    });

    it('required_parameters refuses a write that leaves one out (kv v1)', async () => {
      assert.equal((await api.post('sys/mounts/kv1req', { type: 'kv' })).status, 204);
      await writePolicy('need-owner', 'path "kv1req/*" {\n  capabilities = ["create", "update", "read"]\n  required_parameters = ["owner"]\n}\n');
      const token = await tokenWith('need-owner');
      assertDenied(await api.put('kv1req/app', { password: 'x' }, token), 'write without owner');
      assert.equal((await api.get('kv1req/app')).status, 404, 'nothing was written');
      assert.equal((await api.put('kv1req/app', { owner: 'team-a', password: 'x' }, token)).status, 204);
      assert.deepEqual((await api.get('kv1req/app')).body.data, { owner: 'team-a', password: 'x' });
    });

    it('checks sys routes too: a denied policy value cannot be written to sys/policies/acl', async () => {
      await writePolicy('team-admin', [
        'path "sys/policies/acl/team-*" {',
        '  capabilities = ["create", "update", "read"]',
        '  denied_parameters = { "policy" = ["*sudo*"] }',
        '}',
      ].join('\n'));
      const token = await tokenWith('team-admin');
      const escalation = 'path "sys/*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}\n';
      assertDenied(await api.put('sys/policies/acl/team-x', { policy: escalation }, token), 'a policy with sudo');
      assert.equal((await api.get('sys/policies/acl/team-x')).status, 404, 'the policy was not stored');
      const harmless = 'path "secret/data/team-x/*" {\n  capabilities = ["read"]\n}\n';
      assert.equal((await api.put('sys/policies/acl/team-x', { policy: harmless }, token)).status, 204);
      assert.equal((await api.get('sys/policies/acl/team-x')).body.data.policy, harmless);
    });
  });

  describe('wrapping TTL bounds (X-Vault-Wrap-TTL)', () => {
    /** Within the bounds the answer is wrapped: only wrap_info, never the secret in the clear. */
    const assertWrapped = (res: { status: number; body: any }) => {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data, null);
      assert.match(res.body.wrap_info.token, /^hvs\./);
    };
    it('min_wrapping_ttl refuses an unwrapped request and a shorter wrap', async () => {
      await api.put('secret/data/wrapped', { data: { v: 'secret' } });
      await writePolicy('wrap-min', 'path "secret/data/wrapped" {\n  capabilities = ["read"]\n  min_wrapping_ttl = "1m"\n}\n');
      const token = await tokenWith('wrap-min');
      assertDenied(await call('GET', 'secret/data/wrapped', token), 'no wrap header');
      assertDenied(await call('GET', 'secret/data/wrapped', token, undefined, { 'X-Vault-Wrap-TTL': '30s' }), 'wrap for 30s');
      assertDenied(await call('GET', 'secret/data/wrapped', token, undefined, { 'X-Vault-Wrap-TTL': '0' }), 'wrap TTL 0 (no wrapping)');
      for (const ttl of ['5m', '60']) assertWrapped(await call('GET', 'secret/data/wrapped', token, undefined, { 'X-Vault-Wrap-TTL': ttl }));
    });

    it('max_wrapping_ttl refuses an unwrapped write and a longer wrap (the secret stays as it was), and lets a shorter one write', async () => {
      await api.put('secret/data/maxwrap', { data: { v: 'original' } });
      await writePolicy('wrap-max', 'path "secret/data/maxwrap" {\n  capabilities = ["create", "update"]\n  max_wrapping_ttl = "5m"\n}\n');
      const token = await tokenWith('wrap-max');
      const body = { data: { v: 'changed' } };
      assertDenied(await call('PUT', 'secret/data/maxwrap', token, body), 'no wrap header');
      assertDenied(await call('PUT', 'secret/data/maxwrap', token, body, { 'X-Vault-Wrap-TTL': '10m' }), 'wrap for 10m');
      assertDenied(await call('PUT', 'secret/data/maxwrap', token, body, { 'X-Vault-Wrap-TTL': '301' }), 'wrap for 301s');
      assert.deepEqual(await kv2Value('maxwrap'), { data: { v: 'original' }, version: 1 });
      assertWrapped(await call('PUT', 'secret/data/maxwrap', token, body, { 'X-Vault-Wrap-TTL': '2m' }));
      assert.deepEqual(await kv2Value('maxwrap'), { data: { v: 'changed' }, version: 2 }, 'within the bounds the write is done');
    });

    it('refuses an unparsable or negative X-Vault-Wrap-TTL with a 400', async () => {
      const bad = await call('GET', 'secret/data/wrapped', 'root', undefined, { 'X-Vault-Wrap-TTL': 'soon' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.errors[0], /^error parsing X-Vault-Wrap-TTL header: /);
      const negative = await call('GET', 'secret/data/wrapped', 'root', undefined, { 'X-Vault-Wrap-TTL': '-5m' });
      assert.deepEqual(negative, { status: 400, body: { errors: ['error parsing X-Vault-Wrap-TTL header: requested wrap ttl cannot be negative'] } });
    });
  });

  describe('lists always name a folder', () => {
    let kvToken: string;

    before(async () => {
      assert.equal((await api.post('sys/mounts/kv1', { type: 'kv' })).status, 204);
      for (const key of ['hidden/one', 'hidden/two', 'pub/a']) assert.equal((await api.put(`kv1/${key}`, { v: key })).status, 204);
      for (const key of ['hidden/one', 'pub/a']) await api.put(`secret/data/${key}`, { data: { v: key } });
      await writePolicy('list-but-hidden', [
        'path "kv1/*" {\n  capabilities = ["read", "list"]\n}',
        'path "kv1/hidden/*" {\n  capabilities = ["deny"]\n}',
        'path "secret/metadata/*" {\n  capabilities = ["list"]\n}',
        'path "secret/metadata/hidden/*" {\n  capabilities = ["deny"]\n}',
      ].join('\n'));
      kvToken = await tokenWith('list-but-hidden');
    });

    it('kv v1: a deny on kv1/hidden/* refuses listing kv1/hidden with or without the slash, by GET ?list=true or LIST', async () => {
      assertDenied(await api.list('kv1/hidden/', kvToken), 'GET kv1/hidden/?list=true');
      assertDenied(await api.list('kv1/hidden', kvToken), 'GET kv1/hidden?list=true');
      assertDenied(await listVerb('kv1/hidden', kvToken), 'LIST kv1/hidden');
      assertDenied(await listVerb('kv1/hidden/', kvToken), 'LIST kv1/hidden/');
      // The grant on the parent still lists what it should.
      assert.deepEqual((await api.list('kv1', kvToken)).body.data.keys, ['hidden/', 'pub/']);
      assert.deepEqual((await listVerb('kv1/pub', kvToken)).body.data.keys, ['a']);
      // Root sees the same folder either way; nothing changed.
      assert.deepEqual((await api.list('kv1/hidden')).body.data.keys, ['one', 'two']);
      assert.deepEqual((await api.list('kv1/hidden/')).body.data.keys, ['one', 'two']);
    });

    it('kv v2 metadata: a deny on secret/metadata/hidden/* refuses listing secret/metadata/hidden', async () => {
      assertDenied(await api.list('secret/metadata/hidden', kvToken), 'GET secret/metadata/hidden?list=true');
      assertDenied(await listVerb('secret/metadata/hidden', kvToken), 'LIST secret/metadata/hidden');
      assertDenied(await api.list('secret/metadata/hidden/', kvToken), 'with the slash');
      assert.deepEqual((await api.list('secret/metadata/pub', kvToken)).body.data.keys, ['a']);
      assert.deepEqual((await api.list('secret/metadata/hidden')).body.data.keys, ['one']);
    });

    it('other list endpoints answer with or without the slash (token accessors, transit keys, cubbyhole)', async () => {
      for (const path of ['auth/token/accessors', 'auth/token/accessors/']) {
        const res = await api.list(path);
        assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
        assert.ok(res.body.data.keys.length > 0);
      }
      assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
      assert.equal((await api.post('transit/keys/k1', {})).status, 200);
      for (const path of ['transit/keys', 'transit/keys/']) assert.deepEqual((await api.list(path)).body.data.keys, ['k1'], path);
      // The default policy's cubbyhole/* now also covers a list of the mount itself.
      const token = await tokenWith('default');
      assert.equal((await api.put('cubbyhole/note', { v: 1 }, token)).status, 204);
      assert.deepEqual((await listVerb('cubbyhole', token)).body.data.keys, ['note']);
    });
  });

  describe('policy list endpoints', () => {
    it('a token with only read on sys/policies/acl cannot list policies: LIST is 403, a plain GET is 405', async () => {
      await writePolicy('acl-read-only', 'path "sys/policies/acl" {\n  capabilities = ["read"]\n}\n');
      const token = await tokenWith('acl-read-only');
      assertDenied(await api.list('sys/policies/acl', token), 'GET ?list=true');
      assertDenied(await listVerb('sys/policies/acl', token), 'LIST');
      // Vault has no read handler there: the ACL passes the read, the endpoint answers 405 and names no policy.
      assert.deepEqual(await api.get('sys/policies/acl', token), { status: 405, body: { errors: ['unsupported operation'] } });
      // Without read either, the plain GET is refused by the ACL first.
      assertDenied(await api.get('sys/policies/acl', await tokenWith('default')), 'GET without any grant');
      // A token with list gets the names.
      await writePolicy('acl-lister', 'path "sys/policies/acl" {\n  capabilities = ["list"]\n}\n');
      const lister = await tokenWith('acl-lister');
      assert.ok((await api.list('sys/policies/acl', lister)).body.data.keys.includes('acl-lister'));
    });

    it('a deny on sys/policies/acl/* governs a list of sys/policies/acl over a grant on sys/policies/*', async () => {
      await writePolicy('policies-but-acl', 'path "sys/policies/*" {\n  capabilities = ["list"]\n}\npath "sys/policies/acl/*" {\n  capabilities = ["deny"]\n}\n');
      const token = await tokenWith('policies-but-acl');
      assertDenied(await api.list('sys/policies/acl', token), 'GET ?list=true');
      assertDenied(await listVerb('sys/policies/acl', token), 'LIST');
    });

    it('sys/policy keeps Vault\'s older API: GET is a read (lists under read), LIST needs list', async () => {
      await writePolicy('old-read', 'path "sys/policy" {\n  capabilities = ["read"]\n}\n');
      const token = await tokenWith('old-read');
      const read = await api.get('sys/policy', token);
      assert.equal(read.status, 200);
      assert.ok(read.body.data.policies.includes('old-read'));
      assertDenied(await api.list('sys/policy', token), 'GET sys/policy?list=true');
      assertDenied(await listVerb('sys/policy', token), 'LIST sys/policy');
    });
  });
});
