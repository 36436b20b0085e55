/**
 * Logins and identity, over HTTP against a real `tresor server -dev`: every
 * userpass and AppRole login finds or creates the entity behind its alias
 * (the username; the role ID), the token carries the entity's id and gets
 * its groups' policies, a disabled entity cannot log in, and a wrapped
 * AppRole secret ID is unwrapped and used to log in.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, type Api } from './helpers/server.ts';
import { enableAuth, must } from './helpers/auth.ts';

describe('logins create and reuse identity entities', () => {
  let server: TestServer;
  let api: Api;
  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    await enableAuth(api, 'userpass', 'userpass');
    await enableAuth(api, 'approle', 'approle');
    await api.writePolicy('team-read', 'path "secret/data/team/*" { capabilities = ["read"] }');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('a userpass login gets an entity with its alias; the next login reuses it; group policies reach the token', async () => {
    await must(api.post('auth/userpass/users/alice', { password: 's3cret-pw', token_policies: 'default' }));
    const first = (await must(api.post('auth/userpass/login/alice', { password: 's3cret-pw' }, ''), 200)).auth;
    assert.match(first.entity_id, /^[0-9a-f-]{36}$/);
    const second = (await must(api.post('auth/userpass/login/alice', { password: 's3cret-pw' }, ''), 200)).auth;
    assert.equal(second.entity_id, first.entity_id, 'the same alias leads to the same entity');

    const accessor = (await must(api.get('sys/auth'), 200)).data['userpass/'].accessor;
    const entity = (await must(api.get(`identity/entity/id/${first.entity_id}`), 200)).data;
    assert.deepEqual(entity.aliases.map((a: { name: string; mount_accessor: string }) => [a.name, a.mount_accessor]), [['alice', accessor]]);
    const looked = (await must(api.get('auth/token/lookup-self', first.client_token), 200)).data;
    assert.equal(looked.entity_id, first.entity_id);

    // Before the group: no access; after: the group's policy applies to the token already issued.
    const caps = async () => (await must(api.post('sys/capabilities-self', { paths: ['secret/data/team/x'] }, first.client_token), 200)).data.capabilities;
    assert.deepEqual(await caps(), ['deny']);
    await must(api.post('identity/group', { name: 'team', policies: ['team-read'], member_entity_ids: [first.entity_id] }), 200);
    assert.deepEqual(await caps(), ['read']);
  });

  it('a disabled entity cannot log in', async () => {
    await must(api.post('auth/userpass/users/bob', { password: 'bob-password' }));
    const auth = (await must(api.post('auth/userpass/login/bob', { password: 'bob-password' }, ''), 200)).auth;
    await must(api.post(`identity/entity/id/${auth.entity_id}`, { disabled: true }));
    const refused = await api.post('auth/userpass/login/bob', { password: 'bob-password' }, '');
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, { errors: ['permission denied'] });
  });

  it('AppRole: a wrapped secret ID is unwrapped and logs in; the entity alias is the role ID', async () => {
    await must(api.post('auth/approle/role/app', { token_policies: 'default' }));
    const roleId = (await must(api.get('auth/approle/role/app/role-id'), 200)).data.role_id;
    const wrapped = await fetch(`${api.addr}/v1/auth/approle/role/app/secret-id`, {
      method: 'POST',
      headers: { 'X-Vault-Token': 'root', 'X-Vault-Wrap-TTL': '60s' },
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    assert.equal(wrapped.status, 200);
    assert.equal(wrapped.body.data, null, 'the secret ID is not in the wrapped answer');
    assert.equal(wrapped.body.wrap_info.creation_path, 'auth/approle/role/app/secret-id');
    const unwrapped = (await must(api.post('sys/wrapping/unwrap', {}, wrapped.body.wrap_info.token), 200)).data;
    const auth = (await must(api.post('auth/approle/login', { role_id: roleId, secret_id: unwrapped.secret_id }, ''), 200)).auth;
    const entity = (await must(api.get(`identity/entity/id/${auth.entity_id}`), 200)).data;
    assert.equal(entity.aliases[0].name, roleId);
    // The wrapping token works once.
    assert.equal((await api.post('sys/wrapping/unwrap', {}, wrapped.body.wrap_info.token)).status, 400);
  });
});
