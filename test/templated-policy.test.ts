/**
 * Templated ACL policies over HTTP against a real `tresor server -dev`:
 * {{identity.entity.id}}, .name, .metadata.<key>, .aliases.<accessor>.name
 * and {{identity.groups.names.<group>.*}} resolved per caller; a path whose
 * template cannot be resolved is dropped for that caller; hostile entity
 * names and metadata ("../admin", "*", "+", names with "/", "..") never
 * widen access; a changed entity changes access at once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';
import { EntityTokens } from './helpers/identity.ts';

describe('templated policies over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  let ids: EntityTokens;

  const readable = async (path: string, token: string) => {
    const res = await api.get(path, token);
    assert.ok(res.status === 200 || res.status === 403 || res.status === 404, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.status === 403) assert.deepEqual(res.body, { errors: ['permission denied'] });
    return res.status !== 403;
  };

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/sec', { type: 'kv' })).status, 204);
    for (const key of ['alice/x', 'bob/x', 'admin/x', 'a/b/x', 'a/x', 'team-ops/x', 'team-dev/x', 'grp/prod/x', 'shared', 'e/x']) {
      assert.equal((await api.put(`sec/${key}`, { v: key })).status, 204);
    }
    ids = await EntityTokens.setup(api);
    await api.writePolicy('default', `${(await api.get('sys/policies/acl/default')).body.data.policy}
path "sec/{{identity.entity.name}}/*" { capabilities = ["read", "create", "update"] }
path "sec/team-{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
path "sec/e/{{identity.entity.id}}" { capabilities = ["read", "create", "update"] }
path "sec/alias/{{identity.entity.aliases.${ids.accessor}.name}}" { capabilities = ["read", "create", "update"] }
path "sec/grp/{{identity.groups.names.devs.metadata.env}}/*" { capabilities = ["read"] }
path "sec/shared" { capabilities = ["read"] }
`);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('resolves name, id, metadata, alias and group templates for each caller', async () => {
    const aliceId = await ids.entity({ name: 'alice', metadata: { team: 'ops' } }, 'alice-alias');
    await ids.entity({ name: 'bob', metadata: { team: 'dev' } });
    const alice = (await ids.token('alice-alias')).token;
    const bob = (await ids.token('bob')).token;

    assert.equal(await readable('sec/alice/x', alice), true);
    assert.equal(await readable('sec/bob/x', alice), false);
    assert.equal(await readable('sec/bob/x', bob), true);
    assert.equal(await readable('sec/alice/x', bob), false);
    assert.equal(await readable('sec/team-ops/x', alice), true);
    assert.equal(await readable('sec/team-dev/x', alice), false);
    assert.equal(await readable('sec/team-dev/x', bob), true);
    assert.equal((await api.put(`sec/e/${aliceId}`, { mine: 'yes' }, alice)).status, 204);
    assert.equal((await api.put(`sec/e/${aliceId}`, { mine: 'no' }, bob)).status, 403);
    assert.equal((await api.put('sec/alias/alice-alias', { v: 1 }, alice)).status, 204);
    assert.equal((await api.put('sec/alias/alice', { v: 1 }, alice)).status, 403, 'the alias name, not the entity name');
    assert.deepEqual((await api.post('sys/capabilities-self', { paths: ['sec/alice/x', 'sec/bob/x'] }, alice)).body.data,
      { 'sec/alice/x': ['create', 'read', 'update'], 'sec/bob/x': ['deny'] });

    // Group templates need a group of that name the entity belongs to.
    assert.equal(await readable('sec/grp/prod/x', alice), false);
    assert.equal((await api.post('identity/group', { name: 'devs', metadata: 'env=prod', member_entity_ids: aliceId })).status, 200);
    assert.equal(await readable('sec/grp/prod/x', alice), true, 'membership counts at once');
    assert.equal(await readable('sec/grp/prod/x', bob), false);
  });

  it('a token without an entity keeps the untemplated paths; the template text itself matches nothing', async () => {
    const plain = (await api.createToken({ policies: ['default'], ttl: '1h' })).client_token;
    assert.equal(await readable('sec/shared', plain), true);
    for (const path of ['sec/alice/x', 'sec/team-ops/x', 'sec/e/x']) assert.equal(await readable(path, plain), false, path);
    // The literal "{{...}}" segment is not a grant either.
    const literal = await api.put(`sec/${encodeURIComponent('{{identity.entity.name}}')}/x`, { v: 1 }, plain);
    assert.equal(literal.status, 403);
  });

  it('renaming the entity or changing its metadata changes access at once', async () => {
    await ids.entity({ name: 'carol', metadata: { team: 'ops' } });
    const carol = (await ids.token('carol')).token;
    assert.equal(await readable('sec/team-ops/x', carol), true);
    const id = (await api.post('identity/lookup/entity', { name: 'carol' })).body.data.id;
    assert.equal((await api.post(`identity/entity/id/${id}`, { name: 'bob2', metadata: { team: 'dev' } })).status, 204);
    assert.equal(await readable('sec/team-ops/x', carol), false);
    assert.equal(await readable('sec/team-dev/x', carol), true);
    assert.equal((await api.put('sec/bob2/y', { v: 1 }, carol)).status, 204);
    assert.equal((await api.put('sec/carol/y', { v: 1 }, carol)).status, 403);
  });

  it('hostile names and metadata never widen access: the path is dropped for that caller', async () => {
    await ids.entity({ name: 'mallory' });
    const { token, entityId } = await ids.token('mallory');
    const probes = ['sec/admin/x', 'sec/alice/x', 'sec/bob/x', 'sec/a/b/x', 'sec/a/x', 'sec/team-ops/x', 'sec/team-dev/x', 'sec/shared'];
    for (const name of ['../admin', '*', '+', 'a/b', 'a/*', '..', '.', 'admin/', 'a+b']) {
      assert.equal((await api.post(`identity/entity/id/${entityId}`, { name, metadata: { team: name.includes('/') ? 'x/../ops' : `${name}` } })).status, 204);
      for (const path of probes) {
        assert.equal(await readable(path, token), path === 'sec/shared', `name ${JSON.stringify(name)}: ${path}`);
      }
      assert.equal((await api.put('sec/admin/y', { v: 1 }, token)).status, 403);
    }
    // Metadata with glob characters cannot reach the other teams either.
    for (const team of ['*', 'o+', 'ops/..', 'ops*']) {
      assert.equal((await api.post(`identity/entity/id/${entityId}`, { name: 'mallory', metadata: { team } })).status, 204);
      assert.equal(await readable('sec/team-ops/x', token), false, `team ${team}`);
      assert.equal(await readable('sec/team-dev/x', token), false, `team ${team}`);
    }
  });

  it('a policy with unbalanced templating is refused with Vault\'s text and not stored', async () => {
    const res = await api.put('sys/policies/acl/broken', { policy: 'path "sec/{{identity.entity.id" { capabilities = ["read"] }' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { errors: ['failed to parse policy "broken": line 1: failed to validate policy templating: unbalanced templating characters'] });
    assert.equal((await api.get('sys/policies/acl/broken')).status, 404);
  });
});
