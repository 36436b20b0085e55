/**
 * Vault-client compatibility: node-vault (npm), unmodified and used as its
 * README shows, against real `tresor server` child processes. node-vault
 * sends Vault's LIST verb, only the schema fields of its typed commands, and
 * switches its own token to the one in any `auth` block it receives
 * (tokenCreate, tokenCreateOrphan, tokenRenew, tokenRenewSelf), so token
 * tests use separate client objects.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import nodeVault from 'node-vault';
import { Api, TestServer } from './helpers/server.ts';

const NONCE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

type Client = ReturnType<typeof nodeVault>;
const client = (endpoint: string, token?: string): Client => nodeVault({ apiVersion: 'v1', endpoint, token });

/** Rejects the way node-vault does for a non-2xx answer: ApiResponseError with Vault's status and errors. */
async function rejectsWith(p: Promise<unknown>, status: number, errors?: string[], what = 'the call'): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.ok(e?.response, `${what}: expected an ApiResponseError, got ${e}`);
    assert.equal(e.response.statusCode, status, `${what}: ${JSON.stringify(e.response.body)}`);
    if (errors) {
      assert.deepEqual(e.response.body?.errors, errors, what);
      if (errors.length) assert.equal(e.message, errors[0]);
    }
    return true;
  }, `${what} should fail with ${status}`);
}

/** The generate-root decoding: base64 (padding optional) XOR the OTP. */
function decodeRootToken(encoded: string, otp: string): string {
  const raw = Buffer.from(encoded, 'base64');
  const o = Buffer.from(otp, 'utf8');
  return Buffer.from(raw.map((b, i) => b ^ o[i])).toString('utf8');
}

describe('node-vault against Tresor', () => {
  describe('sys lifecycle, rekey and generate-root (Shamir seal, file storage)', () => {
    let server: TestServer;
    let vault: Client;
    let keys: string[] = [];
    let rootToken = '';
    let threshold = 2;
    /** Set-up only: makes sure later tests have an initialised, unsealed server even if an earlier one failed. */
    const ready = async (opts: { unseal?: boolean } = {}) => {
      if (!rootToken) {
        const res = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        keys = res.body.keys;
        rootToken = res.body.root_token;
        vault.token = rootToken;
      }
      if (opts.unseal !== false && (await server.api.get('sys/seal-status')).body.sealed) {
        for (const key of keys.slice(0, threshold)) await server.api.put('sys/unseal', { key });
      }
    };

    before(async () => {
      server = await TestServer.start();
      vault = client(server.api.addr);
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
    });

    it('initialized / init / status / health while sealed', async () => {
      assert.deepEqual(await vault.initialized(), { initialized: false });
      const uninit = await vault.health();
      assert.equal(uninit.initialized, false);
      const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
      assert.equal(init.keys.length, 3);
      assert.equal(init.keys_base64.length, 3);
      assert.match(init.root_token, /^hvs\./);
      keys = init.keys;
      rootToken = init.root_token;
      vault.token = rootToken;
      const status = await vault.status();
      assert.equal(status.sealed, true);
      assert.equal(status.t, 2);
      assert.equal(status.n, 3);
      assert.equal(status.type, 'shamir');
      // node-vault resolves sys/health whatever its status code.
      const health = await vault.health();
      assert.equal(health.sealed, true);
      assert.equal(health.initialized, true);
      const ok200 = await vault.health({ sealedcode: 200 });
      assert.equal(ok200.sealed, true);
    });

    it('requests while sealed reject with 503 Vault is sealed', async () => {
      await ready({ unseal: false });
      await rejectsWith(vault.mounts(), 503, ['Vault is sealed']);
    });

    it('unseal: progress, reset, then the threshold unseals', async () => {
      await ready({ unseal: false });
      const first = await vault.unseal({ key: keys[0] });
      assert.equal(first.progress, 1);
      assert.match(first.nonce, NONCE);
      const reset = await vault.unseal({ reset: true });
      assert.equal(reset.progress, 0);
      let last: any;
      for (const key of keys.slice(0, 2)) last = await vault.unseal({ key });
      assert.equal(last.sealed, false);
      assert.equal((await vault.status()).sealed, false);
    });

    it('unseal({reset: true}) while unsealed is 400 vault is unsealed', async () => {
      await ready();
      await rejectsWith(vault.unseal({ reset: true }), 400, ['vault is unsealed']);
    });

    it('health / leader while unsealed', async () => {
      await ready();
      const health = await vault.health();
      assert.equal(health.sealed, false);
      assert.equal(health.standby, false);
      assert.match(health.cluster_id, NONCE);
      const leader = await vault.leader();
      assert.equal(leader.ha_enabled, false);
      assert.equal(leader.is_self, false, 'Vault reports is_self=false when HA is not enabled');
      assert.equal(leader.leader_address, '');
    });

    it('rotate, then sys/key-status shows the next term', async () => {
      await ready();
      const before = await vault.read('sys/key-status');
      await vault.rotate();
      const after = await vault.read('sys/key-status');
      assert.equal(after.data.term, before.data.term + 1);
      assert.match(after.data.install_time, ISO_TIME);
    });

    it('rekey through write/request: init, nonce-less DELETE refused, cancel with nonce, update to completion', async () => {
      await ready();
      const started = await vault.write('sys/rekey/init', { secret_shares: 3, secret_threshold: 2 });
      assert.equal(started.started, true);
      assert.match(started.nonce, NONCE);
      assert.equal(started.required, threshold);
      await rejectsWith(vault.delete('sys/rekey/init'), 400, undefined, 'DELETE sys/rekey/init without a nonce');
      assert.equal((await vault.read('sys/rekey/init')).started, true);
      await vault.request({ path: '/sys/rekey/init', method: 'DELETE', json: { nonce: started.nonce } });
      assert.equal((await vault.read('sys/rekey/init')).started, false);

      const again = await vault.write('sys/rekey/init', { secret_shares: 3, secret_threshold: 2 });
      let done: any;
      for (const key of keys.slice(0, threshold)) done = await vault.write('sys/rekey/update', { key, nonce: again.nonce });
      assert.equal(done.complete, true);
      assert.equal(done.keys.length, 3);
      keys = done.keys;
      await vault.seal();
      let last: any;
      for (const key of keys.slice(0, 2)) last = await vault.unseal({ key });
      assert.equal(last.sealed, false, 'the new shares unseal');
    });

    it('sys/rekey/backup with none is 400 no backed-up keys found', async () => {
      await ready();
      await rejectsWith(vault.read('sys/rekey/backup'), 400, ['no backed-up keys found']);
    });

    it('generateRootInit / generateRootUpdate; the decoded token is a root token; generateRootCancel needs the nonce', async () => {
      await ready();
      const started = await vault.generateRootInit();
      assert.equal(started.started, true);
      assert.match(started.nonce, NONCE);
      assert.equal(started.otp.length, 28);
      assert.equal(started.required, threshold);
      let last: any;
      for (const key of keys.slice(0, threshold)) last = await vault.generateRootUpdate({ key, nonce: started.nonce });
      assert.equal(last.complete, true);
      const token = decodeRootToken(last.encoded_token, started.otp);
      assert.match(token, /^hvs\./);
      assert.deepEqual((await client(server.api.addr, token).tokenLookupSelf()).data.policies, ['root']);

      const other = await vault.generateRootInit();
      assert.equal(other.started, true);
      // node-vault's generateRootCancel sends no nonce: refused (Tresor requires it), the attempt survives.
      await rejectsWith(vault.generateRootCancel(), 400);
      assert.equal((await vault.read('sys/generate-root/attempt')).started, true);
      await vault.request({ method: 'DELETE', path: '/sys/generate-root/attempt', json: { nonce: other.nonce } });
      assert.equal((await vault.read('sys/generate-root/attempt')).started, false);
    });

    it('seal', async () => {
      await ready();
      await vault.seal();
      assert.equal((await vault.status()).sealed, true);
    });
  });

  describe('mounts, policies, tokens, kv, cubbyhole, transit, wrapping (-dev server)', () => {
    let server: TestServer;
    let api: Api;
    let vault: Client;

    before(async () => {
      server = await TestServer.startDev();
      api = server.api;
      vault = client(api.addr, 'root');
      for (const [path, body] of [
        ['sys/mounts/nv-kv1', { type: 'kv', options: { version: '1' } }],
        ['sys/mounts/nv-kvcfg', { type: 'kv', options: { version: '2' } }],
        ['sys/mounts/transit', { type: 'transit' }],
      ] as const) {
        const res = await api.post(path, body);
        assert.equal(res.status, 204, JSON.stringify(res.body));
      }
    });
    after(async () => {
      await server?.kill();
      server?.cleanup();
    });

    describe('sys', () => {
      it('mount / mounts / remount / unmount; sys/remount/status', async () => {
        await vault.mount({ mount_point: 'nv-mount', type: 'kv', description: 'from node-vault', options: { version: '2' } });
        const mounts = await vault.mounts();
        assert.equal(mounts.data['nv-mount/'].type, 'kv');
        assert.equal(mounts.data['nv-mount/'].description, 'from node-vault');
        assert.deepEqual(mounts.data['nv-mount/'].options, { version: '2' });
        const moved = await vault.remount({ from: 'nv-mount', to: 'nv-moved' });
        assert.match(moved.data.migration_id, NONCE);
        const status = await vault.read(`sys/remount/status/${moved.data.migration_id}`);
        assert.equal(status.data.migration_info.status, 'success');
        assert.equal(status.data.migration_info.source_mount, 'nv-mount/');
        assert.equal(status.data.migration_info.target_mount, 'nv-moved/');
        const after = (await vault.mounts()).data;
        assert.ok(!('nv-mount/' in after));
        assert.ok('nv-moved/' in after);
        await vault.unmount({ mount_point: 'nv-moved' });
        assert.ok(!('nv-moved/' in (await vault.mounts()).data));
      });

      it('mount of type "generic" (Vault\'s old name for kv)', async () => {
        await vault.mount({ mount_point: 'nv-generic', type: 'generic' });
        await vault.write('nv-generic/a', { value: '1' });
        assert.deepEqual((await vault.read('nv-generic/a')).data, { value: '1' });
      });

      it('sys/mounts/<path>/tune read and write; GET sys/mounts/<path>', async () => {
        const before = await vault.read('sys/mounts/nv-kv1/tune');
        assert.equal(before.data.default_lease_ttl, 2764800);
        await vault.write('sys/mounts/nv-kv1/tune', { default_lease_ttl: '1h', max_lease_ttl: '2h', description: 'tuned' });
        const after = await vault.read('sys/mounts/nv-kv1/tune');
        assert.equal(after.data.default_lease_ttl, 3600);
        assert.equal(after.data.max_lease_ttl, 7200);
        assert.equal(after.data.description, 'tuned');
        const mount = await vault.read('sys/mounts/nv-kv1');
        assert.equal(mount.data.type, 'kv');
        assert.equal(mount.data.config.default_lease_ttl, 3600);
      });

      it('auths lists token/', async () => {
        const auths = await vault.auths();
        assert.equal(auths.data['token/'].type, 'token');
        assert.match(auths.data['token/'].accessor, /^auth_token_[0-9a-f]{8}$/);
      });

      it('addPolicy / getPolicy / policies / removePolicy (sys/policy) and sys/policies/acl via write/read/list/delete', async () => {
        const rules = 'path "secret/data/nv/*" {\n  capabilities = ["read"]\n}\n';
        await vault.addPolicy({ name: 'nv-old', rules });
        const got = await vault.getPolicy({ name: 'nv-old' });
        assert.equal(got.data.rules, rules);
        assert.ok((await vault.policies()).data.policies.includes('nv-old'));
        await vault.removePolicy({ name: 'nv-old' });
        await rejectsWith(vault.getPolicy({ name: 'nv-old' }), 404);

        await vault.write('sys/policies/acl/nv-acl', { policy: rules });
        assert.equal((await vault.read('sys/policies/acl/nv-acl')).data.policy, rules);
        assert.ok((await vault.list('sys/policies/acl')).data.keys.includes('nv-acl'));
        await vault.delete('sys/policies/acl/nv-acl');
        await rejectsWith(vault.read('sys/policies/acl/nv-acl'), 404);
      });

      it('sys/capabilities and sys/capabilities-self via write', async () => {
        await vault.write('sys/policies/acl/nv-cap', { policy: 'path "secret/data/cap/*" {\n  capabilities = ["read", "list"]\n}\n' });
        const child = await client(api.addr, 'root').tokenCreate({ policies: ['nv-cap'], ttl: '1h' });
        const token = child.auth.client_token;
        const caps = await vault.write('sys/capabilities', { token, paths: ['secret/data/cap/x'] });
        assert.deepEqual(caps.data.capabilities, ['list', 'read']);
        const self = await client(api.addr, token).write('sys/capabilities-self', { paths: ['secret/data/cap/x', 'sys/mounts'] });
        assert.deepEqual(self.data['secret/data/cap/x'], ['list', 'read']);
        assert.deepEqual(self.data['sys/mounts'], ['deny']);
      });

      it('stepDown on a single node succeeds', async () => {
        await vault.stepDown();
      });
    });

    describe('auth/token', () => {
      it('tokenCreate switches the client to the new token; tokenLookupSelf / tokenLookup / tokenLookupAccessor', async () => {
        const creator = client(api.addr, 'root');
        const created = await creator.tokenCreate({ policies: ['default'], ttl: '1h', meta: { app: 'nv' }, display_name: 'nv' });
        const auth = created.auth;
        assert.match(auth.client_token, /^hvs\./);
        assert.deepEqual(auth.policies, ['default']);
        assert.deepEqual(auth.metadata, { app: 'nv' });
        assert.equal(auth.lease_duration, 3600);
        assert.equal(creator.token, auth.client_token, 'node-vault adopted the new token');
        const self = await creator.tokenLookupSelf();
        assert.equal(self.data.id, auth.client_token);
        assert.equal(self.data.display_name, 'token-nv');
        const looked = await vault.tokenLookup({ token: auth.client_token });
        assert.equal(looked.data.accessor, auth.accessor);
        assert.equal(looked.data.path, 'auth/token/create');
        const byAccessor = await vault.tokenLookupAccessor({ accessor: auth.accessor });
        assert.equal(byAccessor.data.id, '');
        assert.ok((await vault.tokenAccessors()).data.keys.includes(auth.accessor));
        await rejectsWith(vault.tokenLookup({ token: 'hvs.not-a-token' }), 403, ['bad token']);
      });

      it('tokenCreateOrphan', async () => {
        const created = await client(api.addr, 'root').tokenCreateOrphan({ policies: ['default'], ttl: '1h' });
        assert.equal(created.auth.orphan, true);
      });

      it('tokenRenew / tokenRenewSelf', async () => {
        const token = (await client(api.addr, 'root').tokenCreate({ policies: ['default'], ttl: '1h' })).auth.client_token;
        const renewer = client(api.addr, 'root');
        const renewed = await renewer.tokenRenew({ token, increment: '2h' });
        assert.equal(renewed.auth.lease_duration, 7200);
        assert.equal(renewed.auth.client_token, token);
        const self = await client(api.addr, token).tokenRenewSelf({ increment: '30m' });
        assert.equal(self.auth.lease_duration, 1800);
      });

      it('tokenRevoke / tokenRevokeAccessor / tokenRevokeSelf / tokenRevokeOrphan', async () => {
        await vault.write('sys/policies/acl/nv-minter', { policy: 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n' });
        const mk = async (policies = ['default'], parent = 'root') => (await client(api.addr, parent).tokenCreate({ policies, ttl: '1h' })).auth;
        const a = await mk();
        await vault.tokenRevoke({ token: a.client_token });
        await rejectsWith(vault.tokenLookup({ token: a.client_token }), 403, ['bad token']);
        const b = await mk();
        await vault.tokenRevokeAccessor({ accessor: b.accessor });
        await rejectsWith(vault.tokenLookup({ token: b.client_token }), 403, ['bad token']);
        const s = await mk();
        await client(api.addr, s.client_token).tokenRevokeSelf();
        await rejectsWith(vault.tokenLookup({ token: s.client_token }), 403, ['bad token']);
        const parent = await mk(['nv-minter']);
        const child = await mk(['default'], parent.client_token);
        await vault.tokenRevokeOrphan({ token: parent.client_token });
        assert.equal((await vault.tokenLookup({ token: child.client_token })).data.orphan, true);
      });

      it('token roles: generic write / getTokenRole / list / removeTokenRole, and tokenCreateRole', async () => {
        await vault.write('sys/policies/acl/nv-app', { policy: 'path "nv-kv1/*" {\n  capabilities = ["read"]\n}\n' });
        await vault.write('sys/policies/acl/nv-role-minter', { policy: 'path "auth/token/create/*" {\n  capabilities = ["update"]\n}\n' });
        await vault.write('auth/token/roles/nv-role', { allowed_policies: ['nv-app'], orphan: true, token_period: '1h' });
        const role = (await vault.getTokenRole({ role_name: 'nv-role' })).data;
        assert.deepEqual(role.allowed_policies, ['nv-app']);
        assert.equal(role.orphan, true);
        assert.equal(role.token_period, 3600);
        assert.deepEqual((await vault.list('auth/token/roles')).data.keys, ['nv-role']);
        const minter = (await client(api.addr, 'root').tokenCreate({ policies: ['nv-role-minter'], ttl: '1h' })).auth.client_token;
        const maker = client(api.addr, minter);
        const made = await maker.tokenCreateRole({ role_name: 'nv-role', policies: ['nv-app'] });
        assert.deepEqual(made.auth.policies, ['default', 'nv-app']);
        assert.equal(made.auth.orphan, true);
        assert.equal(made.auth.lease_duration, 3600, 'the role\'s period, without sudo');
        assert.equal(maker.token, made.auth.client_token, 'node-vault adopted the new token');
        assert.equal((await vault.tokenLookup({ token: made.auth.client_token })).data.path, 'auth/token/create/nv-role');
        await rejectsWith(client(api.addr, minter).tokenCreateRole({ role_name: 'nv-role', policies: ['nv-role-minter'] }), 400,
          ['token policies (["default" "nv-role-minter"]) must be subset of the role\'s allowed policies (["default" "nv-app"]) or glob policies ([])']);
        await rejectsWith(vault.write('auth/token/roles/nv-role', { token_type: 'batch' }), 400,
          ["'token_type' cannot be 'batch' when role is set to generate periodic tokens"]);
        assert.equal((await vault.getTokenRole({ role_name: 'nv-role' })).data.token_type, 'default-service', 'unchanged');
        await vault.removeTokenRole({ role_name: 'nv-role' });
        await rejectsWith(vault.getTokenRole({ role_name: 'nv-role' }), 404);
      });

      it('batch tokens through tokenCreate\'s generic sibling (node-vault\'s schema has no type field)', async () => {
        const made = await vault.write('auth/token/create', { policies: ['default'], type: 'batch', ttl: '5m' });
        assert.match(made.auth.client_token, /^hvb\./);
        assert.equal(made.auth.token_type, 'batch');
        const batch = client(api.addr, made.auth.client_token);
        assert.equal((await batch.tokenLookupSelf()).data.type, 'batch');
        await rejectsWith(vault.tokenRevoke({ token: made.auth.client_token }), 400, ['batch tokens cannot be revoked']);
      });
    });

    describe('identity (generic read / write / list / delete)', () => {
      it('entities, aliases and groups; the entity\'s and its groups\' policies reach its tokens', async () => {
        const accessor = (await vault.read('sys/auth')).data['token/'].accessor;
        const entity = (await vault.write('identity/entity', { name: 'nv-ent', policies: ['nv-app'] })).data;
        assert.equal(entity.name, 'nv-ent');
        const alias = (await vault.write('identity/entity-alias', { name: 'nv-ent', canonical_id: entity.id, mount_accessor: accessor })).data;
        assert.equal(alias.canonical_id, entity.id);
        const group = (await vault.write('identity/group', { name: 'nv-grp', policies: ['nv-grp-pol'], member_entity_ids: [entity.id] })).data;
        const read = (await vault.read(`identity/entity/id/${entity.id}`)).data;
        assert.deepEqual(read.direct_group_ids, [group.id]);
        assert.equal(read.aliases[0].mount_type, 'token');
        assert.ok((await vault.list('identity/entity/name')).data.keys.includes('nv-ent'));
        assert.ok((await vault.list('identity/group/id')).data.keys.includes(group.id));
        assert.equal((await vault.write('identity/lookup/entity', { alias_name: 'nv-ent', alias_mount_accessor: accessor })).data.id, entity.id);

        await vault.write('auth/token/roles/nv-ent-role', { allowed_policies: ['default'], allowed_entity_aliases: ['nv-*'] });
        const token = (await client(api.addr, 'root').write('auth/token/create/nv-ent-role', { entity_alias: 'nv-ent' })).auth;
        assert.equal(token.entity_id, entity.id);
        const self = (await client(api.addr, token.client_token).tokenLookupSelf()).data;
        assert.deepEqual(self.identity_policies, ['nv-app', 'nv-grp-pol']);
        await vault.write('nv-kv1/ent', { v: '1' });
        assert.deepEqual((await client(api.addr, token.client_token).read('nv-kv1/ent')).data, { v: '1' });

        await rejectsWith(vault.write('identity/group', { name: 'nv-bad', member_entity_ids: ['nope'] }), 400, ['invalid entity ID']);
        await vault.delete(`identity/group/id/${group.id}`);
        await vault.delete(`identity/entity/id/${entity.id}`);
        await rejectsWith(client(api.addr, token.client_token).read('nv-kv1/ent'), 403, ['permission denied']);
        // Leave the shared kv mount as found (the KV group lists it).
        await vault.delete('nv-kv1/ent');
      });
    });

    describe('auth methods: enableAuth / auths / disableAuth, userpassLogin, approle*', () => {
      it('enableAuth / auths / disableAuth (sys/auth)', async () => {
        await vault.enableAuth({ mount_point: 'nv-people', type: 'userpass', description: 'from node-vault' });
        const listed = await vault.auths();
        assert.equal(listed.data['nv-people/'].type, 'userpass');
        assert.equal(listed.data['nv-people/'].description, 'from node-vault');
        assert.equal(listed['nv-people/'].type, 'userpass', 'also at the top level');
        await rejectsWith(vault.enableAuth({ mount_point: 'nv-people', type: 'userpass' }), 409, ['path is already in use at nv-people/']);
        await vault.disableAuth({ mount_point: 'nv-people' });
        assert.equal((await vault.auths()).data['nv-people/'], undefined);
      });

      it('userpassLogin switches the client to the new token; a wrong password rejects with 400', async () => {
        await vault.enableAuth({ mount_point: 'nv-userpass', type: 'userpass' });
        await vault.write('auth/nv-userpass/users/neo', { password: 'follow-the-rabbit', token_policies: 'nv-dev', token_ttl: '15m' });
        const anon = client(api.addr);
        const res = await anon.userpassLogin({ mount_point: 'nv-userpass', username: 'neo', password: 'follow-the-rabbit' });
        assert.match(res.auth.client_token, /^hvs\./);
        assert.deepEqual(res.auth.policies, ['default', 'nv-dev']);
        assert.deepEqual(res.auth.metadata, { username: 'neo' });
        assert.equal(res.auth.lease_duration, 900);
        assert.equal(anon.token, res.auth.client_token);
        const self = await anon.tokenLookupSelf();
        assert.equal(self.data.path, 'auth/nv-userpass/login/neo');
        await rejectsWith(client(api.addr).userpassLogin({ mount_point: 'nv-userpass', username: 'neo', password: 'blue-pill' }), 400, ['invalid username or password']);
        await rejectsWith(client(api.addr).userpassLogin({ mount_point: 'nv-userpass', username: 'smith', password: 'blue-pill' }), 400, ['invalid username or password']);
        await vault.disableAuth({ mount_point: 'nv-userpass' });
        await rejectsWith(anon.tokenLookupSelf(), 403, ['permission denied'], 'a token of the disabled mount');
      });

      it('addApproleRole / approleRoles / getApproleRoleId / updateApproleRoleId / getApproleRoleSecret / approleSecret* / approleLogin / deleteApproleRole', async () => {
        await vault.enableAuth({ mount_point: 'nv-approle', type: 'approle' });
        const m = { mount_point: 'nv-approle', role_name: 'svc' };
        await vault.addApproleRole({ ...m, policies: 'nv-dev', secret_id_num_uses: 1, token_ttl: 600 });
        const role = await vault.getApproleRole(m);
        assert.deepEqual(role.data.token_policies, ['nv-dev']);
        assert.deepEqual(role.data.policies, ['nv-dev']);
        assert.equal(role.data.secret_id_num_uses, 1);
        assert.deepEqual((await vault.approleRoles({ mount_point: 'nv-approle' })).data.keys, ['svc']);
        assert.match((await vault.getApproleRoleId(m)).data.role_id, NONCE);
        await vault.updateApproleRoleId({ ...m, role_id: 'nv-role-id' });
        assert.equal((await vault.getApproleRoleId(m)).data.role_id, 'nv-role-id');
        const secret = (await vault.getApproleRoleSecret({ ...m, metadata: JSON.stringify({ app: 'nv' }), cidr_list: ['127.0.0.0/8'] })).data;
        assert.match(secret.secret_id, NONCE);
        assert.deepEqual((await vault.approleSecretAccessors(m)).data.keys, [secret.secret_id_accessor]);
        const looked = (await vault.approleSecretLookup({ ...m, secret_id: secret.secret_id })).data;
        assert.equal(looked.secret_id_accessor, secret.secret_id_accessor);
        assert.deepEqual(looked.metadata, { app: 'nv' });
        assert.deepEqual((await vault.approleSecretAccessorLookup({ ...m, secret_id_accessor: secret.secret_id_accessor })).data, looked);

        const anon = client(api.addr);
        const res = await anon.approleLogin({ mount_point: 'nv-approle', role_id: 'nv-role-id', secret_id: secret.secret_id });
        assert.deepEqual(res.auth.metadata, { app: 'nv', role_name: 'svc' });
        assert.equal(res.auth.lease_duration, 600);
        assert.equal(anon.token, res.auth.client_token);
        assert.equal((await anon.tokenLookupSelf()).data.path, 'auth/nv-approle/login');
        await rejectsWith(client(api.addr).approleLogin({ mount_point: 'nv-approle', role_id: 'nv-role-id', secret_id: secret.secret_id }), 400, ['invalid role or secret ID'], 'the one use is spent');

        const two = (await vault.getApproleRoleSecret(m)).data;
        await vault.approleSecretDestroy({ ...m, secret_id: two.secret_id });
        await rejectsWith(client(api.addr).approleLogin({ mount_point: 'nv-approle', role_id: 'nv-role-id', secret_id: two.secret_id }), 400, ['invalid role or secret ID']);
        const three = (await vault.getApproleRoleSecret(m)).data;
        await vault.approleSecretAccessorDestroy({ ...m, secret_id_accessor: three.secret_id_accessor });
        await rejectsWith(vault.approleSecretAccessors(m), 404);
        await vault.deleteApproleRole(m);
        await rejectsWith(vault.getApproleRole(m), 404);
        await vault.disableAuth({ mount_point: 'nv-approle' });
      });
    });

    describe('KV v1 and v2', () => {
      it('v1: write / read / list (LIST verb and ?list=) / delete', async () => {
        await vault.write('nv-kv1/app/db', { user: 'u', password: 'p' });
        await vault.write('nv-kv1/app/api', { key: 'k' });
        const read = await vault.read('nv-kv1/app/db');
        assert.deepEqual(read.data, { user: 'u', password: 'p' });
        // The mount's default lease TTL (the sys group may have tuned it), as Vault reports it.
        const tuned = (await vault.read('sys/mounts/nv-kv1/tune')).data.default_lease_ttl;
        assert.equal(read.lease_duration, tuned, 'KV v1 reports the mount TTL as the refresh interval');
        assert.deepEqual((await vault.list('nv-kv1/app')).data.keys, ['api', 'db']);
        const getVerb = nodeVault({ apiVersion: 'v1', endpoint: api.addr, token: 'root', noCustomHTTPVerbs: true });
        assert.deepEqual((await getVerb.list('nv-kv1/')).data.keys, ['app/']);
        await vault.delete('nv-kv1/app/api');
        await rejectsWith(vault.read('nv-kv1/app/api'), 404, []);
      });

      it('v2: write with options.cas, read (?version=), PATCH via update, metadata, list', async () => {
        const first = await vault.write('secret/data/nv/app', { data: { a: '1' }, options: { cas: 0 } });
        assert.equal(first.data.version, 1);
        await rejectsWith(vault.write('secret/data/nv/app', { data: { a: 'x' }, options: { cas: 0 } }), 400, ['check-and-set parameter did not match the current version']);
        const second = await vault.write('secret/data/nv/app', { data: { a: '2', b: '2' }, options: { cas: 1 } });
        assert.equal(second.data.version, 2);
        assert.deepEqual((await vault.read('secret/data/nv/app')).data.data, { a: '2', b: '2' });
        assert.deepEqual((await vault.read('secret/data/nv/app?version=1')).data.data, { a: '1' });
        // node-vault's update(): PATCH with Content-Type application/merge-patch+json (Vault 1.9+).
        const patched = await vault.update('secret/data/nv/app', { data: { b: null, c: '3' } });
        assert.equal(patched.data.version, 3);
        assert.deepEqual((await vault.read('secret/data/nv/app')).data.data, { a: '2', c: '3' });
        const meta = await vault.read('secret/metadata/nv/app');
        assert.equal(meta.data.current_version, 3);
        assert.deepEqual(Object.keys(meta.data.versions).sort(), ['1', '2', '3']);
        await vault.write('secret/metadata/nv/app', { max_versions: 2, custom_metadata: { owner: 'nv' } });
        const meta2 = await vault.read('secret/metadata/nv/app');
        assert.equal(meta2.data.max_versions, 2);
        assert.deepEqual(meta2.data.custom_metadata, { owner: 'nv' });
        assert.deepEqual((await vault.list('secret/metadata/nv')).data.keys, ['app']);
      });

      it('v2: delete (soft) / undelete / destroySecretVersions / delete metadata', async () => {
        for (const n of ['1', '2', '3']) await vault.write('secret/data/nv/life', { data: { n } });
        await vault.delete('secret/data/nv/life');
        await rejectsWith(vault.read('secret/data/nv/life'), 404);
        await vault.write('secret/undelete/nv/life', { versions: [3] });
        assert.deepEqual((await vault.read('secret/data/nv/life')).data.data, { n: '3' });
        await vault.write('secret/delete/nv/life', { versions: [1] });
        await vault.destroySecretVersions({ mount_point: 'secret', path: 'nv/life', versions: [2] });
        const meta = await vault.read('secret/metadata/nv/life');
        assert.match(meta.data.versions['1'].deletion_time, ISO_TIME);
        assert.equal(meta.data.versions['2'].destroyed, true);
        await vault.delete('secret/metadata/nv/life');
        await rejectsWith(vault.read('secret/metadata/nv/life'), 404);
      });

      it('v2: config write / read', async () => {
        await vault.write('nv-kvcfg/config', { max_versions: 4, cas_required: true });
        const cfg = await vault.read('nv-kvcfg/config');
        assert.deepEqual(cfg.data, { max_versions: 4, cas_required: true, delete_version_after: '0s' });
        await rejectsWith(vault.write('nv-kvcfg/data/x', { data: { a: '1' } }), 400, ['check-and-set parameter required for this call']);
      });
    });

    it('cubbyhole: write / read / list / delete, private to the token', async () => {
      const mine = client(api.addr, (await client(api.addr, 'root').tokenCreate({ policies: ['default'] })).auth.client_token);
      const theirs = client(api.addr, (await client(api.addr, 'root').tokenCreate({ policies: ['default'] })).auth.client_token);
      await mine.write('cubbyhole/one', { secret: 's1' });
      await mine.write('cubbyhole/two', { secret: 's2' });
      assert.deepEqual((await mine.read('cubbyhole/one')).data, { secret: 's1' });
      assert.deepEqual((await mine.list('cubbyhole/')).data.keys, ['one', 'two']);
      await rejectsWith(theirs.read('cubbyhole/one'), 404);
      await mine.delete('cubbyhole/one');
      assert.deepEqual((await mine.list('cubbyhole')).data.keys, ['two']);
    });

    describe('transit (node-vault\'s transit commands use the transit/ mount)', () => {
      it('transitCreateKey / transitReadKey / transitListKeys / encryptData / decryptData / rewrapData / transitDeleteKey', async () => {
        await vault.transitCreateKey({ name: 'nv-key' });
        const key = await vault.transitReadKey({ name: 'nv-key' });
        assert.equal(key.data.type, 'aes256-gcm96');
        assert.equal(key.data.latest_version, 1);
        assert.ok((await vault.transitListKeys()).data.keys.includes('nv-key'));
        const enc = await vault.encryptData({ name: 'nv-key', plaintext: b64('hello') });
        assert.match(enc.data.ciphertext, /^vault:v1:/);
        assert.equal(unb64((await vault.decryptData({ name: 'nv-key', ciphertext: enc.data.ciphertext })).data.plaintext), 'hello');
        await vault.write('transit/keys/nv-key/rotate', {});
        const rewrapped = await vault.rewrapData({ name: 'nv-key', ciphertext: enc.data.ciphertext });
        assert.match(rewrapped.data.ciphertext, /^vault:v2:/);
        await rejectsWith(vault.transitDeleteKey({ name: 'nv-key' }), 400, ['error deleting policy nv-key: deletion is not allowed for this key']);
        await vault.write('transit/keys/nv-key/config', { deletion_allowed: true });
        await vault.transitDeleteKey({ name: 'nv-key' });
        await rejectsWith(vault.transitReadKey({ name: 'nv-key' }), 404);
      });

      it('hmac / verify / hash / random / datakey via write', async () => {
        await vault.transitCreateKey({ name: 'nv-mac' });
        const mac = await vault.write('transit/hmac/nv-mac/sha2-512', { input: b64('msg') });
        assert.match(mac.data.hmac, /^vault:v1:/);
        assert.equal((await vault.write('transit/verify/nv-mac', { input: b64('msg'), hmac: mac.data.hmac, hash_algorithm: 'sha2-512' })).data.valid, true);
        assert.equal((await vault.write('transit/verify/nv-mac/sha2-512', { input: b64('other'), hmac: mac.data.hmac })).data.valid, false);
        const sum = await vault.write('transit/hash/sha2-256', { input: b64('hello') });
        assert.equal(sum.data.sum, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
        const rnd = await vault.write('transit/random/24', { format: 'hex' });
        assert.match(rnd.data.random_bytes, /^[0-9a-f]{48}$/);
        const dk = await vault.write('transit/datakey/plaintext/nv-mac', {});
        assert.equal(Buffer.from(dk.data.plaintext, 'base64').length, 32);
      });

      it('sign / verify (ed25519, ecdsa-p384 jws, rsa-3072 pkcs1v15) via write', async () => {
        for (const [type, options] of [['ed25519', {}], ['ecdsa-p384', { marshaling_algorithm: 'jws', hash_algorithm: 'sha2-384' }], ['rsa-3072', { signature_algorithm: 'pkcs1v15' }]] as const) {
          await vault.transitCreateKey({ name: `nv-sign-${type}`, type });
          const signed = await vault.write(`transit/sign/nv-sign-${type}`, { input: b64('msg'), ...options });
          assert.match(signed.data.signature, /^vault:v1:/, type);
          const ok = await vault.write(`transit/verify/nv-sign-${type}`, { input: b64('msg'), signature: signed.data.signature, ...options });
          assert.equal(ok.data.valid, true, type);
          const bad = await vault.write(`transit/verify/nv-sign-${type}`, { input: b64('msg!'), signature: signed.data.signature, ...options });
          assert.equal(bad.data.valid, false, type);
        }
        await rejectsWith(vault.write('transit/sign/nv-mac', { input: b64('msg') }), 400, ['key type aes256-gcm96 does not support signing']);
      });

      it('export / backup / restore (force) / trim via read and write', async () => {
        await vault.transitCreateKey({ name: 'nv-exp', exportable: true, allow_plaintext_backup: true });
        const enc = await vault.encryptData({ name: 'nv-exp', plaintext: b64('kept') });
        const exported = await vault.read('transit/export/encryption-key/nv-exp/latest');
        assert.deepEqual(Object.keys(exported.data.keys), ['1']);
        const { data: { backup } } = await vault.read('transit/backup/nv-exp');
        await vault.write('transit/restore/nv-exp-copy', { backup });
        await rejectsWith(vault.write('transit/restore/nv-exp-copy', { backup }), 400, ['key "nv-exp-copy" already exists']);
        await vault.write('transit/restore/nv-exp-copy', { backup, force: true });
        assert.equal(unb64((await vault.decryptData({ name: 'nv-exp-copy', ciphertext: enc.data.ciphertext })).data.plaintext), 'kept');
        await vault.write('transit/keys/nv-exp/rotate', {});
        await vault.write('transit/keys/nv-exp/config', { min_decryption_version: 2, min_encryption_version: 2 });
        const trimmed = await vault.write('transit/keys/nv-exp/trim', { min_available_version: 2 });
        assert.equal(trimmed.data.min_available_version, 2);
        await rejectsWith(vault.read('transit/export/encryption-key/nv-mac'), 400, ['private key material is not exportable']);
      });
    });

    describe('response wrapping', () => {
      const wrapTtl = (ttl: string) => ({ headers: { 'X-Vault-Wrap-TTL': ttl } });

      it('write sys/wrapping/wrap with X-Vault-Wrap-TTL; lookup; unwrap; the token is single-use', async () => {
        const wrapped = await vault.write('sys/wrapping/wrap', { secret: 'nv' }, wrapTtl('60s'));
        const info = wrapped.wrap_info;
        assert.ok(info, `wrap_info expected, got ${JSON.stringify(wrapped)}`);
        assert.match(info.token, /^hvs\./);
        assert.equal(info.ttl, 60);
        assert.equal(info.creation_path, 'sys/wrapping/wrap');
        assert.equal(wrapped.data, null);
        const look = await client(api.addr).write('sys/wrapping/lookup', { token: info.token });
        assert.equal(look.data.creation_ttl, 60);
        assert.equal(look.data.creation_time, info.creation_time);
        assert.deepEqual((await vault.unwrap({ token: info.token })).data, { secret: 'nv' });
        await rejectsWith(vault.unwrap({ token: info.token }), 400, ['wrapping token is not valid or does not exist']);
      });

      it('rewrap issues a new token', async () => {
        const first = (await vault.write('sys/wrapping/wrap', { secret: 'again' }, wrapTtl('5m'))).wrap_info.token;
        const next = (await vault.write('sys/wrapping/rewrap', { token: first })).wrap_info.token;
        assert.notEqual(next, first);
        await rejectsWith(vault.unwrap({ token: first }), 400, ['wrapping token is not valid or does not exist']);
        assert.deepEqual((await vault.unwrap({ token: next })).data, { secret: 'again' });
      });

      it('read with X-Vault-Wrap-TTL wraps a KV v2 read; unwrap with the wrapping token as client token', async () => {
        await vault.write('secret/data/nv/wrapped', { data: { password: 'hunter2' } });
        const wrapped = await vault.read('secret/data/nv/wrapped', wrapTtl('2m'));
        assert.equal(wrapped.data, null);
        assert.ok(!JSON.stringify(wrapped).includes('hunter2'), 'the secret is not in the wrapped answer');
        assert.equal(wrapped.wrap_info?.creation_path, 'secret/data/nv/wrapped');
        const unwrapped = await client(api.addr, wrapped.wrap_info.token).unwrap();
        assert.deepEqual(unwrapped.data.data, { password: 'hunter2' });
        await rejectsWith(client(api.addr, wrapped.wrap_info.token).unwrap(), 400, ['wrapping token is not valid or does not exist']);
      });

      it('tokenCreate with requestOptions X-Vault-Wrap-TTL: the client keeps its token; unwrap yields the auth block', async () => {
        const creator = client(api.addr, 'root');
        const wrapped = await creator.tokenCreate({ policies: ['default'], requestOptions: wrapTtl('60s') });
        assert.equal(wrapped.auth, null);
        assert.equal(creator.token, 'root', 'no auth block, so node-vault kept its token');
        assert.equal(wrapped.wrap_info?.creation_path, 'auth/token/create');
        const unwrapped = await vault.unwrap({ token: wrapped.wrap_info.token });
        assert.match(unwrapped.auth.client_token, /^hvs\./);
        assert.equal(unwrapped.auth.accessor, wrapped.wrap_info.wrapped_accessor);
      });
    });
  });
});
