/**
 * Identity entities and aliases over HTTP against a real `tresor server
 * -dev`: Vault's paths, answers and texts; the entity's policies applied to
 * its tokens at request time (and withdrawn as soon as they change), a
 * disabled or deleted entity refusing its tokens, entity_id and
 * identity_policies in lookups; every bad field a 400 that changes nothing.
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

describe('identity entities and aliases over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  let ids: EntityTokens;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/sec', { type: 'kv' })).status, 204);
    assert.equal((await api.put('sec/a', { v: '1' })).status, 204);
    await api.writePolicy('reader', 'path "sec/*" { capabilities = ["read"] }');
    ids = await EntityTokens.setup(api);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('entity CRUD with Vault\'s answers', async () => {
    const made = await api.post('identity/entity', { name: 'alice', policies: 'Reader', metadata: ['team=ops'] });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.deepEqual(Object.keys(made.body.data).sort(), ['aliases', 'id', 'name']);
    const id = made.body.data.id;
    const read = (await api.get(`identity/entity/id/${id}`)).body.data;
    assert.deepEqual(Object.keys(read).sort(), ['aliases', 'creation_time', 'direct_group_ids', 'disabled', 'group_ids', 'id',
      'inherited_group_ids', 'last_update_time', 'merged_entity_ids', 'metadata', 'name', 'namespace_id', 'policies']);
    assert.deepEqual(read.policies, ['reader']);
    assert.deepEqual(read.metadata, { team: 'ops' });
    assert.deepEqual((await api.get('identity/entity/name/Alice')).body.data.id, id);
    assert.equal((await api.post('identity/entity/name/alice', { metadata: { team: 'dev' } })).status, 204);
    assert.deepEqual((await api.get(`identity/entity/id/${id}`)).body.data.metadata, { team: 'dev' });
    const list = await api.list('identity/entity/id');
    assert.ok(list.body.data.keys.includes(id));
    assert.equal(list.body.data.key_info[id].name, 'alice');
    assert.deepEqual((await api.post('identity/lookup/entity', { name: 'alice' })).body.data.id, id);
    assert.equal((await api.post('identity/lookup/entity', { id: 'none' })).status, 204);
    assert.equal((await api.delete(`identity/entity/id/${id}`)).status, 204);
    assert.equal((await api.get(`identity/entity/id/${id}`)).status, 404);
  });

  it('aliases: on a real mount accessor, read with its mount, found by lookup, deleted with their entity', async () => {
    const made = await api.post('identity/entity-alias', { name: 'svc-x', mount_accessor: ids.accessor, custom_metadata: { owner: 'me' } });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const alias = (await api.get(`identity/entity-alias/id/${made.body.data.id}`)).body.data;
    assert.equal(alias.mount_path, 'auth/token/');
    assert.equal(alias.mount_type, 'token');
    assert.equal(alias.canonical_id, made.body.data.canonical_id);
    assert.deepEqual(alias.custom_metadata, { owner: 'me' });
    const found = await api.post('identity/lookup/entity', { alias_name: 'svc-x', alias_mount_accessor: ids.accessor });
    assert.equal(found.body.data.id, made.body.data.canonical_id);
    assert.equal(found.body.data.aliases[0].name, 'svc-x');
    assert.ok((await api.list('identity/entity-alias/id')).body.data.keys.includes(made.body.data.id));
    assert.equal((await api.delete(`identity/entity/id/${made.body.data.canonical_id}`)).status, 204);
    assert.equal((await api.get(`identity/entity-alias/id/${made.body.data.id}`)).status, 404);
  });

  it('a token tied to an entity gets the entity\'s policies at request time, and loses them at once', async () => {
    const id = await ids.entity({ name: 'bob', policies: ['reader'] });
    const { token, entityId } = await ids.token('bob');
    assert.equal(entityId, id);
    const self = (await api.get('auth/token/lookup-self', token)).body.data;
    assert.equal(self.entity_id, id);
    assert.deepEqual(self.policies, ['default']);
    assert.deepEqual(self.identity_policies, ['reader']);
    assert.equal((await api.get('sec/a', token)).status, 200, 'reader comes from the entity');
    assert.deepEqual((await api.post('sys/capabilities-self', { paths: ['sec/a'] }, token)).body.data['sec/a'], ['read']);
    assert.deepEqual((await api.post('sys/capabilities', { token, paths: ['sec/a'] })).body.data['sec/a'], ['read']);

    // A child inherits the entity.
    await api.writePolicy('child-maker', 'path "auth/token/create" { capabilities = ["update"] }');
    assert.equal((await api.post(`identity/entity/id/${id}`, { policies: 'reader,child-maker' })).status, 204);
    const child = await api.post('auth/token/create', { policies: ['default'] }, token);
    assert.equal(child.status, 200, JSON.stringify(child.body));
    assert.equal(child.body.auth.entity_id, id);
    assert.equal((await api.get('sec/a', child.body.auth.client_token)).status, 200);

    assert.equal((await api.post(`identity/entity/id/${id}`, { policies: [] })).status, 204);
    assertRefused(await api.get('sec/a', token), 403, 'permission denied');
    assert.equal((await api.get('auth/token/lookup-self', token)).body.data.identity_policies, undefined);
  });

  it('a disabled or deleted entity refuses its tokens (they are not revoked)', async () => {
    const id = await ids.entity({ name: 'carol', policies: ['reader'] });
    const { token } = await ids.token('carol');
    assert.equal((await api.get('sec/a', token)).status, 200);
    assert.equal((await api.post(`identity/entity/id/${id}`, { disabled: true })).status, 204);
    assertRefused(await api.get('sec/a', token), 403, 'permission denied');
    assertRefused(await api.get('auth/token/lookup-self', token), 403, 'permission denied');
    assertRefused(await api.post(`auth/token/create/entity-tokens`, { entity_alias: 'carol' }), 403, 'entity from given entity alias is disabled');
    assert.equal((await api.post(`identity/entity/id/${id}`, { disabled: false })).status, 204);
    assert.equal((await api.get('sec/a', token)).status, 200, 'usable again');
    assert.equal((await api.delete(`identity/entity/name/carol`)).status, 204);
    assertRefused(await api.get('sec/a', token), 403, 'permission denied');
    assert.equal((await api.post('auth/token/lookup', { token })).status, 200, 'the token itself still exists');
  });

  it('every bad field is a 400 with Vault\'s text, and nothing changes', async () => {
    const id = await ids.entity({ name: 'dave', policies: ['reader'], metadata: { k: 'v' } });
    const other = await ids.entity({ name: 'erin' });
    const snapshot = async () => ({
      dave: (await api.get(`identity/entity/id/${id}`)).body.data,
      erin: (await api.get(`identity/entity/id/${other}`)).body.data,
      names: (await api.list('identity/entity/name')).body.data.keys,
      aliases: (await api.list('identity/entity-alias/id')).body.data.keys,
    });
    const before = await snapshot();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [`identity/entity/id/${id}`, { name: 'ERIN' }, 'entity name is already in use'],
      [`identity/entity/id/${id}`, { policies: 'root' }, 'policies cannot contain root'],
      [`identity/entity/id/${id}`, { disabled: SECRET_VALUE }, 'disabled must be a boolean'],
      [`identity/entity/id/${id}`, { metadata: { 'no spaces': SECRET_VALUE } }, 'invalid entity metadata: failed to load metadata pair: key contains invalid characters'],
      [`identity/entity/id/${id}`, { metadata: SECRET_VALUE }, 'metadata must be a list of "key=value" strings'],
      ['identity/entity', { id: 'not-there', name: 'x' }, 'entity not found from id'],
      ['identity/entity-alias', { name: 'x' }, "'id' or 'mount_accessor' and 'name' must be provided"],
      ['identity/entity-alias', { name: 'x', mount_accessor: SECRET_VALUE }, 'invalid mount accessor'],
      ['identity/entity-alias', { name: 'x', mount_accessor: ids.accessor, canonical_id: SECRET_VALUE }, 'invalid canonical ID'],
      ['identity/entity-alias', { name: 'y', mount_accessor: ids.accessor, canonical_id: id }, 'Alias already exists for requested entity and mount accessor'],
      ['identity/entity-alias', { id: SECRET_VALUE }, 'invalid alias ID provided'],
      ['identity/lookup/entity', {}, 'query parameter not supplied'],
      ['identity/lookup/entity', { name: 'dave', id }, 'query parameter conflict; please supply distinct set of query parameters'],
      ['identity/lookup/entity', { alias_mount_accessor: ids.accessor }, "both 'alias_name' and 'alias_mount_accessor' needs to be set"],
    ];
    for (const [path, body, message] of cases) {
      assertRefused(await api.post(path, body), 400, message);
      assert.deepEqual(await snapshot(), before, `${path} ${JSON.stringify(body)} changed nothing`);
    }
    const warned = await api.post('identity/entity', { name: 'fresh-one', mfa_secrets: 1 });
    assert.deepEqual(warned.body.warnings, ['Endpoint ignored these unrecognized parameters: [mfa_secrets]']);
    assert.equal((await api.get('identity/entity')).status, 405);
  });
});
