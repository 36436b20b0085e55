/**
 * auth/token/ as declared paths, against a real `tresor server -dev` child
 * process: fields decoded by their declared types (null as absent, "3" and
 * "true" taken, wrong types refused with Vault's errors shape and nothing
 * stored), Vault's warning for unknown fields, prototype keys harmless, 405
 * for undeclared operations, and the sudo that revoke-orphan and accessors/
 * declare enforced by the core before the handler runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer, type ApiResponse } from './helpers/server.ts';

const IGNORED = (names: string) => `Endpoint ignored these unrecognized parameters: [${names}]`;

describe('auth/token declared fields over HTTP (-dev server)', () => {
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

  const accessors = async (): Promise<string[]> => {
    const res = await api.list('auth/token/accessors');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.keys;
  };

  function assertError(res: ApiResponse, status: number, message: string, what: string): void {
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(res.body, { errors: [message] }, what);
  }

  it('null fields are absent: Vault\'s defaults apply', async () => {
    const res = await api.post('auth/token/create', {
      policies: ['default'], ttl: '1h', meta: null, num_uses: null, renewable: null, display_name: null,
      no_parent: null, explicit_max_ttl: null, period: null, id: null, type: null,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.warnings, null);
    const auth = res.body.auth;
    assert.equal(auth.renewable, true);
    assert.equal(auth.lease_duration, 3600);
    assert.equal(auth.metadata, null);
    assert.equal(auth.orphan, false);
    assert.equal(auth.num_uses, 0);
    const renewed = await api.post('auth/token/renew-self', { increment: null }, auth.client_token);
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.auth.lease_duration, 3600);
  });

  it('"3", "true", "3600" and comma strings are taken as the CLI sends them', async () => {
    const res = await api.post('auth/token/create', {
      policies: 'default', num_uses: '3', renewable: 'false', no_parent: 'true', ttl: '3600', meta: ['team=blue'],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const auth = res.body.auth;
    assert.deepEqual(auth.policies, ['default']);
    assert.equal(auth.num_uses, 3);
    assert.equal(auth.renewable, false);
    assert.equal(auth.orphan, true);
    assert.equal(auth.lease_duration, 3600);
    assert.deepEqual(auth.metadata, { team: 'blue' });
    // A query string carries only strings.
    const looked = await api.get(`auth/token/lookup?token=${encodeURIComponent(auth.client_token)}`);
    assert.equal(looked.status, 200, JSON.stringify(looked.body));
    assert.equal(looked.body.data.num_uses, 3);
  });

  it('a wrong type is a 400 naming the field, never echoing it, and no token is stored', async () => {
    const victim = (await api.post('auth/token/create', { policies: ['default'], ttl: '1h' })).body.auth;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['auth/token/create', { policies: ['default'], num_uses: 'secret-many' }, 'num_uses must be an integer'],
      ['auth/token/create', { policies: ['default'], renewable: 'secret-perhaps' }, 'renewable must be a boolean'],
      ['auth/token/create', { policies: { secret: 'x' } }, 'policies must be a string'],
      ['auth/token/create', { policies: ['default'], meta: { k: ['secret'] } }, 'meta.k must be a string'],
      ['auth/token/create-orphan', { policies: ['default'], ttl: 'secret' }, 'ttl must be a non-negative duration such as "30s" or "1h"'],
      ['auth/token/revoke', { token: [victim.client_token] }, 'token must be a string'],
      ['auth/token/revoke-accessor', { accessor: { secret: victim.accessor } }, 'accessor must be a string'],
      ['auth/token/renew', { token: victim.client_token, increment: 'secret' }, 'increment must be a non-negative duration such as "30s" or "1h"'],
    ];
    for (const [path, body, message] of cases) {
      const before = await accessors();
      const res = await api.post(path, body);
      assertError(res, 400, message, `${path} ${JSON.stringify(body)}`);
      assert.ok(!JSON.stringify(res.body).includes('secret') && !JSON.stringify(res.body).includes(victim.client_token), 'value not echoed');
      assert.deepEqual(await accessors(), before, `${path}: no token stored or revoked`);
    }
    const self = await api.get('auth/token/lookup-self', victim.client_token);
    assert.equal(self.status, 200);
    assert.ok(self.body.data.ttl > 3500 && self.body.data.ttl <= 3600, 'the refused renew did not touch the TTL');
  });

  it('unknown fields draw Vault\'s warning and do nothing', async () => {
    const res = await api.post('auth/token/create', { policies: ['default'], ttl: '1h', lease: '5m', bogus: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.warnings, [IGNORED('bogus lease')]);
    assert.equal(res.body.auth.lease_duration, 3600);
    const lookup = await api.get('auth/token/lookup-self?whatever=1', res.body.auth.client_token);
    assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
    assert.deepEqual(lookup.body.warnings, [IGNORED('whatever')]);
  });

  it('__proto__ and constructor in the body grant nothing and break nothing', async () => {
    const minter = (await api.put('sys/policies/acl/fw-minter', { policy: 'path "auth/token/create" { capabilities = ["update"] }' })).status;
    assert.equal(minter, 204);
    const parent = (await api.post('auth/token/create', { policies: ['fw-minter'] })).body.auth.client_token;
    const body = '{"__proto__": {"policies": ["root"], "no_parent": true, "id": "proto-root"}, "constructor": {"prototype": {"x": 1}},'
      + ' "meta": {"__proto__": "p", "constructor": "c"}}';
    const res = await api.post('auth/token/create', body, parent);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.auth.policies, ['default', 'fw-minter']);
    assert.equal(res.body.auth.orphan, false);
    assert.deepEqual(res.body.auth.metadata, { constructor: 'c' });
    // The HTTP layer drops a "__proto__" key before routing; "constructor" is just unknown.
    assert.deepEqual(res.body.warnings, [IGNORED('constructor')]);
    assert.equal((await api.get('auth/token/lookup-self', 'proto-root')).status, 403);
    assert.equal((await api.get('auth/token/lookup-self')).status, 200, 'the server still answers');
  });

  it('an operation a known path does not declare is 405 with Vault\'s errors shape', async () => {
    const victim = (await api.post('auth/token/create', { policies: ['default'] })).body.auth;
    const before = await accessors();
    assertError(await api.delete('auth/token/create'), 405, 'unsupported operation', 'DELETE create');
    assertError(await api.get('auth/token/revoke'), 405, 'unsupported operation', 'GET revoke');
    assertError(await api.delete('auth/token/revoke-self'), 405, 'unsupported operation', 'DELETE revoke-self (root)');
    assertError(await api.get(`auth/token/revoke-orphan?token=${victim.client_token}`), 405, 'unsupported operation', 'GET revoke-orphan');
    assertError(await api.delete('auth/token/renew', { token: victim.client_token }), 405, 'unsupported operation', 'DELETE renew');
    assert.deepEqual(await accessors(), before);
  });

  it('revoke-orphan and accessors/ need sudo, refused by the core before any field is read', async () => {
    await api.writePolicy('fw-nosudo', 'path "auth/token/revoke-orphan" { capabilities = ["update"] }\n'
      + 'path "auth/token/accessors/" { capabilities = ["list"] }\n');
    await api.writePolicy('fw-sudo', 'path "auth/token/revoke-orphan" { capabilities = ["update", "sudo"] }\n'
      + 'path "auth/token/accessors/" { capabilities = ["list", "sudo"] }\n');
    const plain = (await api.post('auth/token/create', { policies: ['fw-nosudo'] })).body.auth.client_token;
    const admin = (await api.post('auth/token/create', { policies: ['fw-sudo'] })).body.auth.client_token;
    const victim = (await api.post('auth/token/create', { policies: ['default'] })).body.auth;
    // A malformed token field would be a 400 from the handler: the 403 shows the core refused first.
    assertError(await api.post('auth/token/revoke-orphan', { token: ['x'] }, plain), 403, 'permission denied', 'no sudo, bad field');
    assertError(await api.post('auth/token/revoke-orphan', { token: victim.client_token }, plain), 403, 'permission denied', 'no sudo');
    assertError(await api.list('auth/token/accessors', plain), 403, 'permission denied', 'list without sudo');
    assert.equal((await api.get('auth/token/lookup-self', victim.client_token)).status, 200, 'the victim lives');
    assertError(await api.post('auth/token/revoke-orphan', { token: ['x'] }, admin), 400, 'token must be a string', 'sudo, bad field');
    const listed = await api.list('auth/token/accessors', admin);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.ok(listed.body.data.keys.includes(victim.accessor));
    assert.equal((await api.post('auth/token/revoke-orphan', { token: victim.client_token }, admin)).status, 204);
    assert.equal((await api.get('auth/token/lookup-self', victim.client_token)).status, 403);
  });
});
