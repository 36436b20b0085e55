/**
 * Identity groups over HTTP against a real `tresor server -dev`: groups by
 * id and name with Vault's answers, member entities getting the group's
 * policies at request time (directly and through member groups), losing
 * them as soon as membership or the group changes; every bad field a 400
 * that changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer, type ApiResponse } from './helpers/server.ts';
import { EntityTokens } from './helpers/identity.ts';

const SECRET_VALUE = 'hunter2-do-not-echo';

function assertRefused(res: ApiResponse, status: number, message: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.deepEqual(res.body, { errors: [message] });
  assert.ok(!JSON.stringify(res.body).includes(SECRET_VALUE), 'the value is not echoed');
}

describe('identity groups over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  let ids: EntityTokens;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/sec', { type: 'kv' })).status, 204);
    for (const key of ['a', 'b']) assert.equal((await api.put(`sec/${key}`, { v: key })).status, 204);
    await api.writePolicy('read-a', 'path "sec/a" { capabilities = ["read"] }');
    await api.writePolicy('read-b', 'path "sec/b" { capabilities = ["read"] }');
    ids = await EntityTokens.setup(api);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('group CRUD with Vault\'s answers', async () => {
    const made = await api.post('identity/group', { name: 'ops', policies: 'Read-A', metadata: 'env=prod' });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.deepEqual(Object.keys(made.body.data).sort(), ['id', 'name']);
    const id = made.body.data.id;
    const read = (await api.get(`identity/group/id/${id}`)).body.data;
    assert.deepEqual(Object.keys(read).sort(), ['alias', 'creation_time', 'id', 'last_update_time', 'member_entity_ids', 'member_group_ids',
      'metadata', 'modify_index', 'name', 'namespace_id', 'parent_group_ids', 'policies', 'type']);
    assert.equal(read.type, 'internal');
    assert.deepEqual(read.policies, ['read-a']);
    assert.deepEqual(read.metadata, { env: 'prod' });
    assert.equal(read.member_group_ids, null);
    assert.equal((await api.get('identity/group/name/OPS')).body.data.id, id);
    assert.equal((await api.post('identity/group/name/ops', { policies: 'read-b' })).status, 204);
    assert.deepEqual((await api.get(`identity/group/id/${id}`)).body.data.policies, ['read-b']);
    assert.equal((await api.get(`identity/group/id/${id}`)).body.data.modify_index, 1);
    const byName = await api.post('identity/group/name/new-one', {});
    assert.equal(byName.status, 200);
    assert.equal(byName.body.data.name, 'new-one');
    const list = await api.list('identity/group/id');
    assert.ok(list.body.data.keys.includes(id));
    assert.deepEqual(list.body.data.key_info[id], { name: 'ops', num_member_entities: 0, num_parent_groups: 0 });
    assert.deepEqual((await api.post('identity/lookup/group', { name: 'ops' })).body.data.id, id);
    assert.equal((await api.delete('identity/group/name/ops')).status, 204);
    assert.equal((await api.get(`identity/group/id/${id}`)).status, 404);
  });

  it('members get the group\'s policies, and those of the groups it is a member of, at request time', async () => {
    const alice = await ids.entity({ name: 'alice' });
    const { token } = await ids.token('alice');
    assertRefused(await api.get('sec/a', token), 403, 'permission denied');

    const devs = (await api.post('identity/group', { name: 'devs', policies: 'read-a', member_entity_ids: alice })).body.data.id;
    assert.equal((await api.get('sec/a', token)).status, 200, 'a direct group');
    assert.deepEqual((await api.get('auth/token/lookup-self', token)).body.data.identity_policies, ['read-a']);
    assertRefused(await api.get('sec/b', token), 403, 'permission denied');

    const staff = (await api.post('identity/group', { name: 'staff', policies: 'read-b', member_group_ids: [devs] })).body.data.id;
    assert.equal((await api.get('sec/b', token)).status, 200, 'inherited from the parent group');
    const entity = (await api.get(`identity/entity/id/${alice}`)).body.data;
    assert.deepEqual(entity.direct_group_ids, [devs]);
    assert.deepEqual(entity.inherited_group_ids, [staff]);
    assert.deepEqual(entity.group_ids, [devs, staff]);
    assert.deepEqual((await api.get(`identity/group/id/${staff}`)).body.data.member_group_ids, [devs]);

    assert.equal((await api.post(`identity/group/id/${staff}`, { member_group_ids: [] })).status, 204);
    assertRefused(await api.get('sec/b', token), 403, 'permission denied');
    assert.equal((await api.post(`identity/group/id/${devs}`, { member_entity_ids: [] })).status, 204);
    assertRefused(await api.get('sec/a', token), 403, 'permission denied');
    assert.equal((await api.post(`identity/group/id/${devs}`, { member_entity_ids: [alice] })).status, 204);
    assert.equal((await api.get('sec/a', token)).status, 200);
    assert.equal((await api.delete(`identity/group/id/${devs}`)).status, 204);
    assertRefused(await api.get('sec/a', token), 403, 'permission denied');
  });

  it('every bad field is a 400 with Vault\'s text, and nothing changes', async () => {
    const bob = await ids.entity({ name: 'bob' });
    const parent = (await api.post('identity/group', { name: 'parent', policies: 'read-a', member_entity_ids: [bob] })).body.data.id;
    const child = (await api.post('identity/group', { name: 'child' })).body.data.id;
    assert.equal((await api.post(`identity/group/id/${parent}`, { member_group_ids: [child] })).status, 204);
    const snapshot = async () => ({
      parent: (await api.get(`identity/group/id/${parent}`)).body.data,
      child: (await api.get(`identity/group/id/${child}`)).body.data,
      names: (await api.list('identity/group/name')).body.data.keys,
    });
    const before = await snapshot();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [`identity/group/id/${child}`, { member_group_ids: [parent] }, 'cyclic relationship detected for member group ID'],
      [`identity/group/id/${child}`, { member_group_ids: [child] }, 'member group ID is same as the ID of the group'],
      [`identity/group/id/${child}`, { name: 'PARENT' }, 'group name is already in use'],
      [`identity/group/id/${child}`, { member_entity_ids: [bob, SECRET_VALUE] }, 'invalid entity ID'],
      [`identity/group/id/${child}`, { member_group_ids: SECRET_VALUE }, 'invalid member group ID'],
      [`identity/group/id/${child}`, { policies: 'a,root' }, 'policies cannot contain root'],
      [`identity/group/id/${child}`, { type: 'external' }, 'group type cannot be changed'],
      ['identity/group', { name: 'ext', type: 'external' }, 'external groups are not supported'],
      ['identity/group', { name: 'odd', type: SECRET_VALUE }, 'invalid group type'],
      ['identity/group', { id: SECRET_VALUE }, 'invalid group ID'],
      ['identity/group/id/not-there', { policies: 'x' }, 'invalid group ID'],
      ['identity/group', { name: 'm', metadata: { 'vault-x': SECRET_VALUE } }, 'invalid group metadata: failed to load metadata pair: key prefix "vault-" is reserved for internal use'],
      ['identity/group', { name: 'm', member_entity_ids: { a: SECRET_VALUE } }, 'member_entity_ids must be a string'],
      ['identity/lookup/group', {}, 'query parameter not supplied'],
    ];
    for (const [path, body, message] of cases) {
      assertRefused(await api.post(path, body), 400, message);
      assert.deepEqual(await snapshot(), before, `${path} ${JSON.stringify(body)} changed nothing`);
    }
    assert.equal((await api.get('identity/group')).status, 405);
  });
});
