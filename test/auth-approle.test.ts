/**
 * The approle auth method over HTTP against a real `tresor server -dev`:
 * roles, role IDs, secret IDs (generated and custom, listed by accessor,
 * looked up and destroyed both ways), login without a token and the token
 * it issues; use limits, TTLs and CIDR bounds refused without spending a
 * use; two concurrent logins with a one-use secret ID (exactly one wins);
 * refused fields changing nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, type Api } from './helpers/server.ts';
import { assertError, callFrom, enableAuth, must } from './helpers/auth.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe('approle auth method, -dev server', () => {
  let server: TestServer;
  let api: Api;
  const login = (body: Record<string, unknown>) => api.post('auth/approle/login', body, '');
  const roleId = async (role: string) => (await must(api.get(`auth/approle/role/${role}/role-id`), 200)).data.role_id as string;
  const secretId = async (role: string, body: Record<string, unknown> = {}) => (await must(api.post(`auth/approle/role/${role}/secret-id`, body), 200)).data;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    await enableAuth(api, 'approle', 'approle');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('create a role with Vault\'s defaults, read it, list roles, update part of it, delete it', async () => {
    await must(api.post('auth/approle/role/Web', { token_policies: 'dev', token_ttl: '1h' }));
    const read = (await must(api.get('auth/approle/role/web'), 200)).data;
    assert.deepEqual(read, {
      bind_secret_id: true, secret_id_bound_cidrs: [], secret_id_num_uses: 0, secret_id_ttl: 0, local_secret_ids: false,
      token_bound_cidrs: [], token_explicit_max_ttl: 0, token_max_ttl: 0, token_no_default_policy: false, token_num_uses: 0,
      token_period: 0, token_policies: ['dev'], token_type: 'default', token_ttl: 3600,
    });
    assert.match(await roleId('web'), UUID);
    await must(api.post('auth/approle/role/worker', { secret_id_num_uses: 3, secret_id_ttl: '10m', local_secret_ids: true }));
    assert.deepEqual((await must(api.list('auth/approle/role'), 200)).data.keys, ['web', 'worker']);
    const worker = (await must(api.get('auth/approle/role/worker'), 200)).data;
    assert.equal(worker.local_secret_ids, true);
    assert.equal(worker.secret_id_ttl, 600);
    await must(api.post('auth/approle/role/web', { token_num_uses: 2 }));
    const updated = (await must(api.get('auth/approle/role/web'), 200)).data;
    assert.equal(updated.token_num_uses, 2);
    assert.equal(updated.token_ttl, 3600, 'an update keeps what it does not give');
    const warned = await must(api.post('auth/approle/role/web', { token_type: 'default-service' }), 200);
    assert.deepEqual(warned.warnings, ['default-service has no useful meaning; adjusting to service']);
    assert.equal((await must(api.get('auth/approle/role/web'), 200)).data.token_type, 'service');
    await must(api.delete('auth/approle/role/worker'));
    assert.equal((await api.get('auth/approle/role/worker')).status, 404);
    assert.equal((await api.get('auth/approle/role/worker/role-id')).status, 404);
    await must(api.delete('auth/approle/role/worker'), 204, 'deleting again is fine');
  });

  it('role IDs: read, set, refused when another role holds one; logins follow the change', async () => {
    await must(api.post('auth/approle/role/ids', {}));
    await must(api.post('auth/approle/role/ids2', { role_id: 'fixed-role-id' }));
    assert.equal(await roleId('ids2'), 'fixed-role-id');
    const secret = await secretId('ids');
    const old = await roleId('ids');
    await must(api.post('auth/approle/role/ids/role-id', { role_id: 'chosen-role-id' }));
    assert.equal(await roleId('ids'), 'chosen-role-id');
    assertError(await login({ role_id: old, secret_id: secret.secret_id }), 400, 'invalid role or secret ID', 'the old role ID');
    assert.equal((await login({ role_id: 'chosen-role-id', secret_id: secret.secret_id })).status, 200);
    assertError(await api.post('auth/approle/role/ids/role-id', { role_id: 'fixed-role-id' }), 400, 'role_id already in use');
    assertError(await api.post('auth/approle/role/ids', { role_id: 'fixed-role-id' }), 400, 'role_id already in use');
    assertError(await api.post('auth/approle/role/ids/role-id', {}), 400, 'missing role_id');
    assertError(await api.post('auth/approle/role/none/role-id', { role_id: 'x' }), 404, 'unsupported path');
    assert.equal(await roleId('ids'), 'chosen-role-id', 'the refused changes changed nothing');
  });

  it('secret IDs: generate, list accessors, look up by secret and by accessor, destroy both ways', async () => {
    await must(api.post('auth/approle/role/svc', { token_policies: 'dev' }));
    const issued = await secretId('svc', { metadata: JSON.stringify({ team: 'blue' }), cidr_list: '127.0.0.0/8' });
    assert.deepEqual(Object.keys(issued).sort(), ['secret_id', 'secret_id_accessor', 'secret_id_num_uses', 'secret_id_ttl']);
    assert.match(issued.secret_id, UUID);
    assert.match(issued.secret_id_accessor, UUID);
    assert.equal(issued.secret_id_ttl, 0);
    assert.equal(issued.secret_id_num_uses, 0);
    const second = await secretId('svc');
    assert.deepEqual((await must(api.list('auth/approle/role/svc/secret-id'), 200)).data.keys.sort(), [issued.secret_id_accessor, second.secret_id_accessor].sort());

    const looked = (await must(api.post('auth/approle/role/svc/secret-id/lookup', { secret_id: issued.secret_id }), 200)).data;
    assert.equal(looked.secret_id_accessor, issued.secret_id_accessor);
    assert.deepEqual(looked.metadata, { team: 'blue' });
    assert.deepEqual(looked.cidr_list, ['127.0.0.0/8']);
    assert.deepEqual(looked.token_bound_cidrs, []);
    assert.match(looked.creation_time, ISO);
    assert.match(looked.last_updated_time, ISO);
    assert.equal(looked.expiration_time, '0001-01-01T00:00:00Z', "Go's zero time, as Vault answers for no expiry");
    assert.equal(looked.secret_id, undefined, 'a lookup never answers the secret ID');
    const byAccessor = (await must(api.post('auth/approle/role/svc/secret-id-accessor/lookup', { secret_id_accessor: issued.secret_id_accessor }), 200)).data;
    assert.deepEqual(byAccessor, looked);

    await must(api.post('auth/approle/role/svc/secret-id/destroy', { secret_id: issued.secret_id }));
    await must(api.post('auth/approle/role/svc/secret-id/lookup', { secret_id: issued.secret_id }), 204, 'a gone secret ID looks up empty');
    assertError(await api.post('auth/approle/role/svc/secret-id-accessor/lookup', { secret_id_accessor: issued.secret_id_accessor }), 404, 'failed to find accessor entry for secret_id_accessor');
    // A DELETE carries its parameters in the query (Vault reads no DELETE body).
    await must(api.delete(`auth/approle/role/svc/secret-id-accessor/destroy?secret_id_accessor=${encodeURIComponent(second.secret_id_accessor)}`));
    assert.equal((await api.list('auth/approle/role/svc/secret-id')).status, 404);
    assertError(await api.post('auth/approle/role/svc/secret-id-accessor/destroy', { secret_id_accessor: second.secret_id_accessor }), 400, 'failed to find accessor entry for secret_id_accessor');
    assertError(await login({ role_id: await roleId('svc'), secret_id: second.secret_id }), 400, 'invalid role or secret ID');
    await must(api.post('auth/approle/role/svc/secret-id/destroy', { secret_id: 'never-issued' }), 204);
    assertError(await api.post('auth/approle/role/svc/secret-id/lookup', {}), 400, 'missing secret_id');
    assertError(await api.post('auth/approle/role/svc/secret-id-accessor/lookup', {}), 400, 'missing secret_id_accessor');
    assertError(await api.list('auth/approle/role/ghost/secret-id'), 400, 'role "ghost" does not exist');
  });

  it('custom-secret-id; deleting a role takes its secret IDs with it', async () => {
    await must(api.post('auth/approle/role/custom', {}));
    const custom = (await must(api.post('auth/approle/role/custom/custom-secret-id', { secret_id: 'my-own-secret-id', num_uses: 0 }), 200)).data;
    assert.equal(custom.secret_id, 'my-own-secret-id');
    assertError(await api.post('auth/approle/role/custom/custom-secret-id', { secret_id: 'my-own-secret-id' }), 400, 'SecretID is already registered');
    const id = await roleId('custom');
    assert.equal((await login({ role_id: id, secret_id: 'my-own-secret-id' })).status, 200);
    await must(api.delete('auth/approle/role/custom'));
    await must(api.post('auth/approle/role/custom', { role_id: id }));
    assertError(await login({ role_id: id, secret_id: 'my-own-secret-id' }), 400, 'invalid role or secret ID', 'a re-created role has none of the old secret IDs');
  });

  it('login: Vault\'s auth block with role_name (and the secret ID\'s metadata); refusals say nothing about which part was wrong', async () => {
    await must(api.post('auth/approle/role/app', { token_policies: 'dev,ops', token_ttl: '15m', token_num_uses: 3 }));
    const id = await roleId('app');
    const secret = await secretId('app', { metadata: '{"host":"h1"}' });
    const res = await must(login({ role_id: id, secret_id: secret.secret_id }), 200);
    assert.equal(res.mount_type, 'approle');
    const auth = res.auth;
    assert.match(auth.client_token, /^hvs\./);
    assert.deepEqual(auth.policies, ['default', 'dev', 'ops']);
    assert.deepEqual(auth.token_policies, ['default', 'dev', 'ops']);
    assert.deepEqual(auth.metadata, { host: 'h1', role_name: 'app' });
    assert.equal(auth.lease_duration, 900);
    assert.equal(auth.renewable, true);
    assert.equal(auth.orphan, true);
    assert.equal(auth.token_type, 'service');
    assert.match(auth.entity_id, /^[0-9a-f-]{36}$/, 'the login found or made its identity entity');
    assert.equal(auth.mfa_requirement, null);
    assert.equal(auth.num_uses, 3);
    const self = (await must(api.get('auth/token/lookup-self', auth.client_token), 200)).data;
    assert.equal(self.path, 'auth/approle/login');
    assert.equal(self.display_name, 'approle');
    assertError(await login({ role_id: 'wrong', secret_id: secret.secret_id }), 400, 'invalid role or secret ID');
    assertError(await login({ role_id: id, secret_id: 'wrong' }), 400, 'invalid role or secret ID');
    assertError(await login({ secret_id: secret.secret_id }), 400, 'missing role_id');
    assertError(await login({ role_id: id }), 400, 'missing secret_id');
    assertError(await login({ role_id: '  ' }), 400, 'missing role_id');
    assertError(await api.get('auth/approle/login', ''), 405, 'unsupported operation');
  });

  it('a role without bind_secret_id logs in by role ID from its secret_id_bound_cidrs only', async () => {
    await must(api.post('auth/approle/role/open', { bind_secret_id: false, secret_id_bound_cidrs: '127.0.0.2/32' }));
    const id = await roleId('open');
    assertError(await login({ role_id: id }), 400, 'source address "127.0.0.1" unauthorized by CIDR restrictions on the role');
    assert.equal((await callFrom(api, '127.0.0.2', 'POST', 'auth/approle/login', { role_id: id })).status, 200);
    assertError(await api.post('auth/approle/role/open/secret-id', {}), 400, 'bind_secret_id is not set on the role');
  });

  it('a secret ID past its uses, past its TTL, or from outside its CIDRs is refused; a refusal spends no use', async () => {
    await must(api.post('auth/approle/role/limited', { secret_id_num_uses: 2, secret_id_ttl: '1h' }));
    const id = await roleId('limited');
    const twice = await secretId('limited');
    assert.equal(twice.secret_id_num_uses, 2);
    assert.equal(twice.secret_id_ttl, 3600);
    assert.equal((await login({ role_id: id, secret_id: twice.secret_id })).status, 200);
    assert.equal((await must(api.post('auth/approle/role/limited/secret-id/lookup', { secret_id: twice.secret_id }), 200)).data.secret_id_num_uses, 1);
    assert.equal((await login({ role_id: id, secret_id: twice.secret_id })).status, 200);
    assertError(await login({ role_id: id, secret_id: twice.secret_id }), 400, 'invalid role or secret ID', 'the third use');
    await must(api.post('auth/approle/role/limited/secret-id/lookup', { secret_id: twice.secret_id }), 204, 'the last use deleted it');
    assertError(await api.post('auth/approle/role/limited/secret-id', { num_uses: 3 }), 400, "num_uses cannot be higher than the role's secret_id_num_uses");
    assertError(await api.post('auth/approle/role/limited/secret-id', { ttl: '2h' }), 400, "ttl cannot be longer than the role's secret_id_ttl");

    const brief = await secretId('limited', { ttl: '1s', num_uses: 1 });
    assert.equal(brief.secret_id_ttl, 1);
    await new Promise((r) => setTimeout(r, 1500));
    assertError(await login({ role_id: id, secret_id: brief.secret_id }), 400, 'invalid role or secret ID', 'past its TTL');
    await must(api.post('auth/approle/role/limited/secret-id/lookup', { secret_id: brief.secret_id }), 204);

    const bound = await secretId('limited', { cidr_list: '127.0.0.2/32', num_uses: 1 });
    assertError(await login({ role_id: id, secret_id: bound.secret_id }), 400, 'source address "127.0.0.1" unauthorized by CIDR restrictions on the secret ID');
    assert.equal((await must(api.post('auth/approle/role/limited/secret-id/lookup', { secret_id: bound.secret_id }), 200)).data.secret_id_num_uses, 1, 'the refusal spent nothing');
    assert.equal((await callFrom(api, '127.0.0.2', 'POST', 'auth/approle/login', { role_id: id, secret_id: bound.secret_id })).status, 200);

    // A role bound to CIDRs: secret IDs must narrow them, logins must come from them.
    await must(api.post('auth/approle/role/fenced', { secret_id_bound_cidrs: '127.0.0.0/30', token_bound_cidrs: '127.0.0.0/8' }));
    const fencedId = await roleId('fenced');
    assertError(await api.post('auth/approle/role/fenced/secret-id', { cidr_list: '10.0.0.0/8' }), 400, 'failed to verify subset relationship between CIDR blocks on the role and CIDR blocks on the secret ID');
    assertError(await api.post('auth/approle/role/fenced/secret-id', { token_bound_cidrs: '10.0.0.0/8' }), 400, 'failed to verify subset relationship between CIDR blocks on the role and CIDR blocks on the secret ID');
    const fenced = await secretId('fenced', { cidr_list: '127.0.0.2/32', token_bound_cidrs: '127.0.0.2/32' });
    const ok = await callFrom(api, '127.0.0.2', 'POST', 'auth/approle/login', { role_id: fencedId, secret_id: fenced.secret_id });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // The secret ID's token_bound_cidrs override the role's: the token works from 127.0.0.2 only.
    assertError(await api.get('auth/token/lookup-self', ok.body.auth.client_token), 403, 'permission denied');
    assert.equal((await callFrom(api, '127.0.0.2', 'GET', 'auth/token/lookup-self', undefined, ok.body.auth.client_token)).status, 200);
  });

  it('two concurrent logins with a one-use secret ID: exactly one gets a token', async () => {
    await must(api.post('auth/approle/role/race', { secret_id_num_uses: 1 }));
    const id = await roleId('race');
    for (let round = 0; round < 3; round++) {
      const once = await secretId('race');
      const results = await Promise.all(Array.from({ length: 8 }, () => login({ role_id: id, secret_id: once.secret_id })));
      const winners = results.filter((r) => r.status === 200);
      assert.equal(winners.length, 1, `round ${round}: ${results.map((r) => r.status).join(' ')}`);
      for (const r of results.filter((x) => x.status !== 200)) assertError(r, 400, 'invalid role or secret ID');
      await must(api.post('auth/approle/role/race/secret-id/lookup', { secret_id: once.secret_id }), 204);
    }
    // The same with a two-use secret ID: exactly two.
    await must(api.post('auth/approle/role/race', { secret_id_num_uses: 2 }));
    const two = await secretId('race');
    const results = await Promise.all(Array.from({ length: 8 }, () => login({ role_id: id, secret_id: two.secret_id })));
    assert.equal(results.filter((r) => r.status === 200).length, 2);
  });

  it('refused role writes change nothing; wrong types name the field', async () => {
    await must(api.post('auth/approle/role/stable', { token_policies: 'dev', secret_id_num_uses: 4 }));
    const before = (await must(api.get('auth/approle/role/stable'), 200)).data;
    const beforeId = await roleId('stable');
    for (const [body, message] of [
      [{ secret_id_num_uses: 'four' }, /secret_id_num_uses/],
      [{ bind_secret_id: 'maybe' }, /bind_secret_id/],
      [{ secret_id_ttl: 'a while' }, /secret_id_ttl/],
      [{ token_ttl: '2h', token_max_ttl: '1h' }, /'token_ttl' cannot be greater than 'token_max_ttl'/],
      [{ secret_id_bound_cidrs: '300.0.0.0/8' }, /^invalid CIDR blocks$/],
      [{ bind_secret_id: false }, /^at least one constraint should be enabled on the role$/],
      [{ local_secret_ids: true }, /^local_secret_ids can only be modified during role creation$/],
      [{ token_type: 'batch', role_id: 'new-id' }, /^unsupported token type/],
      [{ role_id: '' }, /^invalid role_id supplied/],
      [{ period: '9999h' }, /is greater than the backend's maximum lease TTL/],
    ] as const) {
      const res = await api.post('auth/approle/role/stable', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.errors[0], message);
    }
    assert.deepEqual((await must(api.get('auth/approle/role/stable'), 200)).data, before);
    assert.equal(await roleId('stable'), beforeId);
    assertError(await api.post(`auth/approle/role/${'r'.repeat(4097)}`, {}), 400, 'role_name is longer than maximum of 4096 bytes');
  });
});

describe('approle on file storage (SQLite, writes wait for fsync): the one-use race, and a restart', () => {
  let server: TestServer;
  let api: Api;
  let unsealKey: string;

  before(async () => {
    server = await TestServer.start();
    api = server.api;
    const init = await must(api.put('sys/init', { secret_shares: 1, secret_threshold: 1 }), 200);
    unsealKey = init.keys[0];
    await must(api.put('sys/unseal', { key: init.keys[0] }), 200);
    api.token = init.root_token;
    await server.until(async () => (await api.get('auth/token/lookup-self')).status === 200, 15_000, 'unsealed');
    await enableAuth(api, 'approle', 'approle');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('of 8 concurrent logins with a one-use secret ID exactly one gets a token, and only one token exists', async () => {
    await must(api.post('auth/approle/role/race', { secret_id_num_uses: 1 }));
    const id = (await must(api.get('auth/approle/role/race/role-id'), 200)).data.role_id;
    const tokensBefore = (await must(api.list('auth/token/accessors'), 200)).data.keys.length;
    for (let round = 0; round < 3; round++) {
      const once = (await must(api.post('auth/approle/role/race/secret-id', {}), 200)).data;
      const results = await Promise.all(Array.from({ length: 8 }, () => api.post('auth/approle/login', { role_id: id, secret_id: once.secret_id }, '')));
      assert.equal(results.filter((r) => r.status === 200).length, 1, `round ${round}: ${results.map((r) => r.status).join(' ')}`);
    }
    assert.equal((await must(api.list('auth/token/accessors'), 200)).data.keys.length, tokensBefore + 3);
  });

  it('auth mounts, roles, secret IDs, users and login tokens survive a restart; the limiter starts afresh', async () => {
    await enableAuth(api, 'people', 'userpass');
    await must(api.post('auth/people/users/pat', { password: 'pw-pat' }));
    await must(api.post('auth/approle/role/kept', { secret_id_num_uses: 2 }));
    const id = (await must(api.get('auth/approle/role/kept/role-id'), 200)).data.role_id;
    const secret = (await must(api.post('auth/approle/role/kept/secret-id', {}), 200)).data.secret_id;
    const token = (await must(api.post('auth/approle/login', { role_id: id, secret_id: secret }, ''), 200)).auth.client_token;
    const rootToken = api.token;

    await server.stop();
    server = await TestServer.start({ dir: server.dir });
    api = server.api;
    await must(api.put('sys/unseal', { key: unsealKey }), 200);
    api.token = rootToken;
    assert.deepEqual(Object.keys((await must(api.get('sys/auth'), 200)).data).sort(), ['approle/', 'people/', 'token/']);
    assert.equal((await api.get('auth/token/lookup-self', token)).status, 200, 'the login token is still valid');
    assert.equal((await api.post('auth/approle/login', { role_id: id, secret_id: secret }, '')).status, 200, 'the second use');
    assertError(await api.post('auth/approle/login', { role_id: id, secret_id: secret }, ''), 400, 'invalid role or secret ID', 'no third use');
    assert.equal((await api.post('auth/people/login/pat', { password: 'pw-pat' }, '')).status, 200);
    await must(api.delete('sys/auth/approle'));
    assertError(await api.get('auth/token/lookup-self', token), 403, 'permission denied');
  });
});
