/**
 * Security fixes around operations, each reproduced as the attack over HTTP
 * against real `tresor server` child processes and shown refused:
 * mounting the token store or system backend as a secrets engine,
 * (more below).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';

describe('only real secrets engines can be mounted (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  let teamToken: string;
  let victim: { client_token: string; accessor: string };

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    const policy = [
      'path "sys/mounts/team/*" { capabilities = ["create", "read", "update", "delete", "sudo"] }',
      'path "team/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }',
    ].join('\n');
    assert.equal((await api.put('sys/policies/acl/team-admin', { policy })).status, 204);
    const team = await api.post('auth/token/create', { policies: ['team-admin'] });
    teamToken = team.body.auth.client_token;
    const other = await api.post('auth/token/create', { policies: ['default'], meta: { owner: 'someone-else' } });
    victim = other.body.auth;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const mounts = async () => (await api.get('sys/mounts')).body.data as Record<string, any>;

  it('the attack: a team admin mounting the token store under team/ is refused with Vault\'s 403, nothing is mounted, other tokens are intact', async () => {
    // What the team token may not do directly...
    assert.equal((await api.post('auth/token/lookup-accessor', { accessor: victim.accessor }, teamToken)).status, 403);
    // ...it tries through a copy of the token store under its own prefix.
    const attack = await api.post('sys/mounts/team/token', { type: 'token' }, teamToken);
    assert.equal(attack.status, 403, JSON.stringify(attack.body));
    assert.deepEqual(attack.body, { errors: ['mount type of "token" is not mountable'] });
    assert.equal((await mounts())['team/token/'], undefined);

    for (const op of ['lookup-accessor', 'revoke-accessor']) {
      const res = await api.post(`team/token/${op}`, { accessor: victim.accessor }, teamToken);
      assert.equal(res.status, 404, `${op}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.data, undefined);
    }
    const still = await api.get('auth/token/lookup-self', victim.client_token);
    assert.equal(still.status, 200, 'the victim token still works');
    assert.deepEqual(still.body.data.meta, { owner: 'someone-else' });
  });

  it('system, identity and cubbyhole are not mountable either (403, also for root); unknown types are Vault\'s catalog 400', async () => {
    for (const type of ['system', 'identity', 'cubbyhole', 'token']) {
      for (const token of [teamToken, 'root']) {
        const res = await api.post(`sys/mounts/team/${type}`, { type }, token);
        assert.equal(res.status, 403, `${type}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body, { errors: [`mount type of "${type}" is not mountable`] });
      }
    }
    const unknown = await api.post('sys/mounts/team/pki', { type: 'pki' }, teamToken);
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body, { errors: ['plugin not found in the catalog: pki'] });
    const table = await mounts();
    assert.deepEqual(Object.keys(table).filter((p) => p.startsWith('team/')), []);
    assert.equal(table['sys/'].type, 'system');
    assert.equal(table['identity/'].type, 'identity');
  });

  it('kv, generic (kv version 1, as in Vault) and transit mount; generic takes no version option', async () => {
    assert.equal((await api.post('sys/mounts/team/kv', { type: 'kv' }, teamToken)).status, 204);
    assert.equal((await api.post('sys/mounts/team/transit', { type: 'transit' }, teamToken)).status, 204);
    const generic = await api.post('sys/mounts/team/generic', { type: 'generic' }, teamToken);
    assert.equal(generic.status, 204, JSON.stringify(generic.body));
    const versioned = await api.post('sys/mounts/team/generic2', { type: 'generic', options: { version: '2' } }, teamToken);
    assert.equal(versioned.status, 400);
    assert.deepEqual(versioned.body, { errors: ['secrets engine "generic" does not allow setting a version'] });
    const table = await mounts();
    assert.equal(table['team/generic/'].type, 'generic');
    assert.equal(table['team/generic2/'], undefined);
    assert.equal((await api.put('team/generic/app', { password: 'p1' }, teamToken)).status, 204);
    assert.deepEqual((await api.get('team/generic/app', teamToken)).body.data, { password: 'p1' });
    assert.equal((await api.post('team/transit/keys/k', {}, teamToken)).status, 200);
  });

  it('sys/remount moves none of the system mounts', async () => {
    const before = await mounts();
    for (const from of ['sys', 'auth/token', 'cubbyhole', 'identity']) {
      const res = await api.post('sys/remount', { from, to: `moved-${from.replace('/', '-')}` });
      assert.equal(res.status, 400, `${from}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errors.length, 1);
    }
    const afterTable = await mounts();
    assert.deepEqual(Object.keys(afterTable).sort(), Object.keys(before).sort());
    assert.equal((await api.get('auth/token/lookup-self')).status, 200, 'the token store still answers at auth/token/');
  });
});
