/**
 * Token roles (auth/token/roles/<name>, auth/token/create/<role_name>) and
 * batch tokens over HTTP against a real `tresor server -dev`: Vault's
 * fields, read shape and texts; a role's policies, orphan, period, use
 * limit, path suffix, bound CIDRs and token type applied at creation;
 * batch tokens' limits; every bad field a 400 that changes nothing; and
 * `tresor token create -role=NAME`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, runCli, TestServer, type ApiResponse } from './helpers/server.ts';

const SECRET_VALUE = 'hunter2-do-not-echo';

function assertRefused(res: ApiResponse, status: number, message: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(res.body, { errors: [message] });
  assert.ok(!JSON.stringify(res.body).includes(SECRET_VALUE), 'the value is not echoed');
}

describe('token roles and batch tokens over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  /** A non-root token holding only `minter` (auth/token/create*, and reading sec/). */
  let minter: string;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/sec', { type: 'kv' })).status, 204);
    await api.writePolicy('minter', `
path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create/*" { capabilities = ["update"] }
path "auth/token/create-orphan" { capabilities = ["update"] }
path "sec/*" { capabilities = ["read"] }
`);
    await api.writePolicy('reader', 'path "sec/*" { capabilities = ["read"] }');
    await api.writePolicy('app-a', 'path "sec/a" { capabilities = ["read"] }');
    await api.writePolicy('app-b', 'path "sec/b" { capabilities = ["read"] }');
    minter = (await api.createToken({ policies: ['minter'], ttl: '1h' })).client_token;
    assert.equal((await api.put('sec/a', { v: '1' })).status, 204);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const roleRead = async (name: string) => (await api.get(`auth/token/roles/${name}`)).body.data;

  describe('roles CRUD', () => {
    it('creates, reads (Vault\'s shape), lists, updates (keeping fields left out) and deletes a role', async () => {
      const put = await api.post('auth/token/roles/web', {
        allowed_policies: 'App-A, app-b', disallowed_policies: 'Root', orphan: true, token_period: '72h', path_suffix: 'v1x',
        token_explicit_max_ttl: '2h', token_num_uses: 123, token_bound_cidrs: '127.0.0.1,10.0.0.0/8',
      });
      assert.equal(put.status, 204, JSON.stringify(put.body));
      assert.deepEqual(await roleRead('web'), {
        allowed_entity_aliases: null,
        allowed_policies: ['app-a', 'app-b'],
        allowed_policies_glob: [],
        disallowed_policies: ['root'],
        disallowed_policies_glob: [],
        explicit_max_ttl: 0,
        name: 'web',
        orphan: true,
        path_suffix: 'v1x',
        period: 0,
        renewable: true,
        token_bound_cidrs: ['127.0.0.1', '10.0.0.0/8'],
        token_explicit_max_ttl: 7200,
        token_no_default_policy: false,
        token_num_uses: 123,
        token_period: 259200,
        token_type: 'default-service',
      });
      assert.deepEqual((await api.list('auth/token/roles')).body.data.keys, ['web']);

      assert.equal((await api.post('auth/token/roles/web', { allowed_policies: 'app-a', renewable: false, token_num_uses: 0 })).status, 204);
      const updated = await roleRead('web');
      assert.deepEqual(updated.allowed_policies, ['app-a']);
      assert.equal(updated.renewable, false);
      assert.equal(updated.orphan, true, 'left out: kept');
      assert.equal(updated.path_suffix, 'v1x');
      assert.equal(updated.token_num_uses, undefined, 'shown only when set');

      // The deprecated spellings fill both fields; with the new one too, a warning.
      const both = await api.post('auth/token/roles/web', { period: '1h', token_period: '2h' });
      assert.equal(both.status, 200);
      assert.deepEqual(both.body.warnings, ["Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value"]);
      assert.equal((await roleRead('web')).token_period, 7200);
      assert.equal((await api.post('auth/token/roles/old', { period: '1h', explicit_max_ttl: '3h', bound_cidrs: '127.0.0.1/32' })).status, 204);
      const old = await roleRead('old');
      assert.equal(old.period, 3600);
      assert.equal(old.token_period, 3600);
      assert.equal(old.explicit_max_ttl, 10800);
      assert.deepEqual(old.bound_cidrs, ['127.0.0.1']);
      assert.deepEqual(old.token_bound_cidrs, ['127.0.0.1']);

      assert.equal((await api.delete('auth/token/roles/old')).status, 204);
      assert.equal((await api.get('auth/token/roles/old')).status, 404);
      assert.equal((await api.delete('auth/token/roles/old')).status, 204, 'deleting a missing role is fine');
    });

    it('a policy granting only create may make a new role but not change one (existence check)', async () => {
      await api.writePolicy('role-creator', 'path "auth/token/roles/*" { capabilities = ["create", "read"] }');
      const creator = (await api.createToken({ policies: ['role-creator'], ttl: '1h' })).client_token;
      assert.equal((await api.post('auth/token/roles/fresh', { orphan: true }, creator)).status, 204);
      assertRefused(await api.post('auth/token/roles/fresh', { orphan: false }, creator), 403, 'permission denied');
      assert.equal((await roleRead('fresh')).orphan, true);
    });

    it('every bad field is a 400 with Vault\'s text, and the role is unchanged', async () => {
      assert.equal((await api.post('auth/token/roles/strict', { allowed_policies: 'app-a' })).status, 204);
      const before = await roleRead('strict');
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ token_type: SECRET_VALUE }, "invalid 'token_type' value"],
        [{ path_suffix: 'a/b' }, String.raw`given role path suffix contains invalid characters; must match \w[\w-.]+\w`],
        [{ path_suffix: 'ab..cd' }, 'error registering path suffix: path cannot contain parent references'],
        [{ token_bound_cidrs: [SECRET_VALUE] }, 'error parsing role fields: token_bound_cidrs: not a list of IP addresses or CIDR blocks'],
        [{ token_bound_cidrs: '10.0.0.0/33' }, 'error parsing role fields: token_bound_cidrs: not a list of IP addresses or CIDR blocks'],
        [{ bound_cidrs: 'nope' }, 'error parsing bound_cidrs: not a list of IP addresses or CIDR blocks'],
        [{ token_num_uses: -1 }, "error parsing role fields: 'token_num_uses' cannot be negative"],
        [{ token_type: 'batch' }, "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens"],
        [{ token_type: 'batch', orphan: true }, "'token_type' cannot be 'batch' when role is set to generate renewable tokens"],
        [{ token_type: 'batch', orphan: true, renewable: false, token_period: '1h' }, "'token_type' cannot be 'batch' when role is set to generate periodic tokens"],
        [{ token_type: 'batch', orphan: true, renewable: false, token_explicit_max_ttl: '1h' },
          "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL"],
        [{ token_type: 'default-batch', token_num_uses: 3 },
          "error parsing role fields: 'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens with limited use count"],
        [{ orphan: SECRET_VALUE }, 'orphan must be a boolean'],
        [{ token_period: SECRET_VALUE }, 'token_period must be a non-negative duration such as "30s" or "1h"'],
        [{ allowed_policies: { a: SECRET_VALUE } }, 'allowed_policies must be a string'],
      ];
      for (const [body, message] of cases) {
        const res = await api.post('auth/token/roles/strict', body);
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body.errors, [message], JSON.stringify(body));
        assert.ok(!JSON.stringify(res.body).includes(SECRET_VALUE));
        assert.deepEqual(await roleRead('strict'), before, `${JSON.stringify(body)} changed nothing`);
      }
      assert.equal((await api.get('auth/token/roles/never-made')).status, 404);
      for (const body of [{ token_type: 'bogus' }, { path_suffix: '../x' }]) {
        assert.equal((await api.post('auth/token/roles/never-made', body)).status, 400);
        assert.equal((await api.get('auth/token/roles/never-made')).status, 404, 'a refused create makes no role');
      }
      // Fields the role does not take (token_ttl is for auth methods' roles) are ignored; a 204 carries no warning.
      assert.equal((await api.post('auth/token/roles/strict', { zz: 1, token_ttl: '1h' })).status, 204);
      assert.deepEqual(await roleRead('strict'), before);
      const warned = await api.post('auth/token/roles/strict', { zz: 1, period: '1h', token_period: '1h' });
      assert.deepEqual(warned.body.warnings, [
        "Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value",
        'Endpoint ignored these unrecognized parameters: [zz]',
      ]);
    });
  });

  describe('create/<role_name>', () => {
    it('allowed_policies replaces the subset-of-parent rule, and bounds what may be asked', async () => {
      assert.equal((await api.post('auth/token/roles/apps', { allowed_policies: 'app-a,app-b' })).status, 204);
      // minter holds neither app-a nor app-b: the role grants them anyway.
      const made = await api.post('auth/token/create/apps', { policies: ['app-a'] }, minter);
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.deepEqual(made.body.auth.policies, ['app-a', 'default']);
      const lookup = (await api.post('auth/token/lookup', { token: made.body.auth.client_token })).body.data;
      assert.equal(lookup.path, 'auth/token/create/apps');
      assert.equal(lookup.role, 'apps');
      assert.equal((await api.get('sec/a', made.body.auth.client_token)).status, 200);

      const all = await api.post('auth/token/create/apps', {}, minter);
      assert.deepEqual(all.body.auth.policies, ['app-a', 'app-b', 'default'], 'nothing asked: the role\'s allowed policies');

      assertRefused(await api.post('auth/token/create/apps', { policies: ['reader'] }, minter), 400,
        'token policies (["default" "reader"]) must be subset of the role\'s allowed policies (["app-a" "app-b" "default"]) or glob policies ([])');
      // Without the role, minter may not hand out app-a.
      assertRefused(await api.post('auth/token/create', { policies: ['app-a'] }, minter), 400, 'child policies must be subset of parent');
      // Not even a role makes root tokens for a non-root parent.
      assert.equal((await api.post('auth/token/roles/rooty', { allowed_policies: 'root' })).status, 204);
      assertRefused(await api.post('auth/token/create/rooty', { policies: ['root'] }, minter), 400, 'root tokens may not be created without parent token being root');
      assertRefused(await api.post('auth/token/create/none-such', {}, minter), 400, 'unknown role none-such');
    });

    it('disallowed policies and globs', async () => {
      assert.equal((await api.post('auth/token/roles/noapp', { disallowed_policies_glob: 'app-*', disallowed_policies: 'reader' })).status, 204);
      const parent = (await api.createToken({ policies: ['minter', 'app-a', 'reader'], ttl: '1h' })).client_token;
      assertRefused(await api.post('auth/token/create/noapp', {}, parent), 400, 'token policy "app-a" is disallowed by this role');
      assertRefused(await api.post('auth/token/create/noapp', { policies: ['reader'] }, parent), 400, 'token policy "reader" is disallowed by this role');
      const ok = await api.post('auth/token/create/noapp', { policies: ['minter'] }, parent);
      assert.deepEqual(ok.body.auth.policies, ['default', 'minter']);
      assert.equal((await api.post('auth/token/roles/globby', { allowed_policies_glob: 'app-*' })).status, 204);
      assert.deepEqual((await api.post('auth/token/create/globby', { policies: ['app-b'] }, minter)).body.auth.policies, ['app-b', 'default']);
      assertRefused(await api.post('auth/token/create/globby', { policies: ['reader'] }, minter), 400,
        'token policies (["default" "reader"]) must be subset of the role\'s allowed policies (["default"]) or glob policies (["app-*"])');
      assert.equal((await api.post('auth/token/roles/nodefault', { allowed_policies: 'app-a', token_no_default_policy: true })).status, 204);
      assert.deepEqual((await api.post('auth/token/create/nodefault', {}, minter)).body.auth.policies, ['app-a']);
    });

    it('orphan, period, explicit max TTL, use limit, renewable and path suffix come from the role (no sudo needed)', async () => {
      assert.equal((await api.post('auth/token/roles/svc', {
        allowed_policies: 'app-a', orphan: true, token_period: '1h', token_explicit_max_ttl: '3h', token_num_uses: 5, path_suffix: 'rev2',
      })).status, 204);
      const made = await api.post('auth/token/create/svc', { explicit_max_ttl: '10h', num_uses: 9 }, minter);
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.deepEqual(made.body.warnings, ['Explicit max TTL specified both during creation call and in role; using the lesser value of 10800 seconds']);
      const auth = made.body.auth;
      assert.equal(auth.orphan, true);
      assert.equal(auth.lease_duration, 3600);
      assert.equal(auth.renewable, true);
      assert.equal(auth.num_uses, 5);
      const data = (await api.post('auth/token/lookup', { token: auth.client_token })).body.data;
      assert.equal(data.path, 'auth/token/create/svc/rev2');
      assert.equal(data.period, 3600);
      assert.equal(data.explicit_max_ttl, 10800);
      // Plainly, a periodic or orphan token needs sudo.
      assertRefused(await api.post('auth/token/create', { period: '1h' }, minter), 400, 'root or sudo privileges required to create periodic token');
      assertRefused(await api.post('auth/token/create', { no_parent: true }, minter), 400, 'root or sudo privileges required to create orphan token');

      assert.equal((await api.post('auth/token/roles/fixed', { allowed_policies: 'app-a', renewable: false })).status, 204);
      assert.equal((await api.post('auth/token/create/fixed', { renewable: true }, minter)).body.auth.renewable, false);
    });

    it('token_bound_cidrs: the token works only from those addresses', async () => {
      assert.equal((await api.post('auth/token/roles/far', { allowed_policies: 'app-a', token_bound_cidrs: '10.0.0.0/8' })).status, 204);
      assert.equal((await api.post('auth/token/roles/near', { allowed_policies: 'app-a', token_bound_cidrs: ['127.0.0.0/8'] })).status, 204);
      const far = (await api.post('auth/token/create/far', {}, minter)).body.auth.client_token;
      const near = (await api.post('auth/token/create/near', {}, minter)).body.auth.client_token;
      assertRefused(await api.get('sec/a', far), 403, 'permission denied');
      assert.equal((await api.get('sec/a', near)).status, 200);
      const data = (await api.post('auth/token/lookup', { token: near })).body.data;
      assert.deepEqual(data.bound_cidrs, ['127.0.0.0/8']);
      // A plain child of a bound token stays bound.
      await api.writePolicy('near-minter', 'path "auth/token/create" { capabilities = ["update"] }\npath "sec/*" { capabilities = ["read"] }');
      assert.equal((await api.post('auth/token/roles/farminter', { allowed_policies: 'near-minter', token_bound_cidrs: '10.1.0.0/16' })).status, 204);
      const bound = (await api.post('auth/token/create/farminter', {}, minter)).body.auth.client_token;
      assertRefused(await api.post('auth/token/create', {}, bound), 403, 'permission denied');
    });

    it('entity_alias needs a role that allows it', async () => {
      assertRefused(await api.post('auth/token/create', { entity_alias: 'x' }, minter), 400, "'entity_alias' is only allowed in combination with token role");
      assert.equal((await api.post('auth/token/roles/aliased', { allowed_policies: 'app-a', allowed_entity_aliases: 'svc-*' })).status, 204);
      assertRefused(await api.post('auth/token/create/aliased', { entity_alias: 'other' }, minter), 400, "invalid 'entity_alias' value");
      const made = await api.post('auth/token/create/aliased', { entity_alias: 'svc-1' }, minter);
      assert.equal(made.status, 200, JSON.stringify(made.body));
      assert.match(made.body.auth.entity_id, /^[0-9a-f-]{36}$/);
      const again = await api.post('auth/token/create/aliased', { entity_alias: 'SVC-1' }, minter);
      assert.equal(again.body.auth.entity_id, made.body.auth.entity_id, 'the same alias is the same entity');
      assert.equal((await api.post('auth/token/lookup', { token: made.body.auth.client_token })).body.data.entity_id, made.body.auth.entity_id);
    });
  });

  describe('batch tokens', () => {
    it('are hvb. tokens without accessor, not stored, that look up and authorise like others', async () => {
      const before = (await api.list('auth/token/accessors')).body.data.keys;
      const made = await api.post('auth/token/create', { type: 'batch', policies: ['reader'], ttl: '10m', meta: { app: 'b' } });
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const auth = made.body.auth;
      assert.match(auth.client_token, /^hvb\.[A-Za-z0-9_-]+$/);
      assert.equal(auth.accessor, '');
      assert.equal(auth.token_type, 'batch');
      assert.equal(auth.renewable, false);
      assert.equal(auth.lease_duration, 600);
      assert.deepEqual((await api.list('auth/token/accessors')).body.data.keys, before, 'nothing stored');
      const self = (await api.get('auth/token/lookup-self', auth.client_token)).body.data;
      assert.equal(self.type, 'batch');
      assert.equal(self.accessor, '');
      assert.equal(self.id, auth.client_token);
      assert.equal(self.orphan, false);
      assert.deepEqual(self.meta, { app: 'b' });
      assert.ok(self.ttl > 590 && self.ttl <= 600);
      assert.equal((await api.post('auth/token/lookup', { token: auth.client_token })).body.data.type, 'batch');
      assert.equal((await api.get('sec/a', auth.client_token)).status, 200);
      assertRefused(await api.put('sec/a', { v: 2 }, auth.client_token), 403, 'permission denied');
    });

    it('cannot be revoked, renewed, create tokens or use a cubbyhole (Vault\'s texts)', async () => {
      await api.writePolicy('batch-all', `
path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }
path "cubbyhole/*" { capabilities = ["create", "read", "update", "delete", "list"] }
`);
      const token = (await api.post('auth/token/create', { type: 'batch', policies: ['batch-all'] })).body.auth.client_token;
      assertRefused(await api.post('auth/token/revoke', { token }), 400, 'batch tokens cannot be revoked');
      assertRefused(await api.post('auth/token/revoke-self', {}, token), 400, 'batch tokens cannot be revoked');
      assertRefused(await api.post('auth/token/revoke-orphan', { token }), 400, 'batch tokens cannot be revoked');
      assertRefused(await api.post('auth/token/renew', { token }), 400, 'batch tokens cannot be renewed');
      assertRefused(await api.post('auth/token/renew-self', {}, token), 400, 'batch tokens cannot be renewed');
      assertRefused(await api.post('auth/token/create', { policies: ['default'] }, token), 400, 'batch tokens cannot create more tokens');
      assertRefused(await api.post('auth/token/create-orphan', { policies: ['default'] }, token), 400, 'batch tokens cannot create more tokens');
      assertRefused(await api.put('cubbyhole/x', { a: 1 }, token), 400, 'cubbyhole operations are only supported by "service" type tokens');
      assert.equal((await api.get('auth/token/lookup-self', token)).status, 200, 'still valid after all that');
    });

    it('refuse num_uses, period, explicit_max_ttl and root; die with their parent; reject tampering', async () => {
      assertRefused(await api.post('auth/token/create', { type: 'batch', num_uses: 2 }), 400, 'batch tokens cannot have "num_uses" set');
      assertRefused(await api.post('auth/token/create', { type: 'batch', period: '1h' }), 400, 'batch tokens cannot have "period" set');
      assertRefused(await api.post('auth/token/create', { type: 'batch', explicit_max_ttl: '1h' }), 400, 'batch tokens cannot have "explicit_max_ttl" set');
      assertRefused(await api.post('auth/token/create', { type: 'batch' }), 400, 'batch tokens cannot be root tokens');
      assertRefused(await api.post('auth/token/create', { type: SECRET_VALUE }), 400, "invalid 'token_type' value");

      const parent = (await api.createToken({ policies: ['minter'], ttl: '1h' })).client_token;
      const child = (await api.post('auth/token/create', { type: 'batch', policies: ['minter'] }, parent)).body.auth.client_token;
      assert.equal((await api.get('sec/a', child)).status, 200);
      const body = child.slice(4);
      const flipped = `hvb.${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
      assertRefused(await api.get('sec/a', flipped), 403, 'permission denied');
      assertRefused(await api.get('sec/a', 'hvb.' + 'A'.repeat(40)), 403, 'permission denied');
      assert.equal((await api.post('auth/token/revoke', { token: parent })).status, 204);
      assertRefused(await api.get('sec/a', child), 403, 'permission denied');
    });

    it('a batch role makes batch orphans without sudo; default-batch lets the request choose', async () => {
      assert.equal((await api.post('auth/token/roles/batcher', { allowed_policies: 'app-a', token_type: 'batch', orphan: true, renewable: false })).status, 204);
      const made = (await api.post('auth/token/create/batcher', { type: 'service' }, minter)).body.auth;
      assert.equal(made.token_type, 'batch', 'the role\'s type wins');
      assert.equal(made.orphan, true);
      assert.equal((await api.post('auth/token/roles/either', { allowed_policies: 'app-a', token_type: 'default-batch' })).status, 204);
      assert.equal((await api.post('auth/token/create/either', {}, minter)).body.auth.token_type, 'batch');
      assert.equal((await api.post('auth/token/create/either', { type: 'service' }, minter)).body.auth.token_type, 'service');
    });
  });

  it('tresor token create -role=NAME (and -type=batch)', async () => {
    const env = { TRESOR_ADDR: api.addr };
    const res = await runCli(['token', 'create', '-role=apps', '-policy=app-b', '-format=json'], { token: minter, env });
    assert.equal(res.code, 0, res.stderr);
    const auth = JSON.parse(res.stdout).auth;
    assert.deepEqual(auth.policies, ['app-b', 'default']);
    const looked = (await api.post('auth/token/lookup', { token: auth.client_token })).body.data;
    assert.equal(looked.role, 'apps');
    const batch = await runCli(['token', 'create', '-role=apps', '-type=batch', '-field=token'], { token: minter, env });
    assert.equal(batch.code, 0, batch.stderr);
    assert.match(batch.stdout.trim(), /^hvb\./);
    const bad = await runCli(['token', 'create', '-role=none-such'], { token: minter, env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown role none-such/);
  });
});
