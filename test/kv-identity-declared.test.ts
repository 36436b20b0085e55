/**
 * KV v2 and identity as declared paths, over HTTP against a real
 * `tresor server -dev`: null fields are absent, "3"/"true" strings decode,
 * wrong types are Vault-shaped 400s naming the field that change nothing,
 * unknown fields draw Vault's warning, __proto__/constructor keys are plain
 * data, and an undeclared operation on a known path is 405.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Api, TestServer } from './helpers/server.ts';

const SECRET_VALUE = 'hunter2-do-not-echo';

describe('kv v2 and identity declared fields over HTTP (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/kvd', { type: 'kv', options: { version: '2' } })).status, 204);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  /** A 400 with exactly Vault's `{errors: [message]}` body, never echoing the value. */
  function assertRefused(res: { status: number; body: any }, message: string) {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.deepEqual(res.body, { errors: [message] });
    assert.ok(!JSON.stringify(res.body).includes(SECRET_VALUE));
  }

  describe('kv v2', () => {
    it('null fields are as if left out', async () => {
      const written = await api.put('kvd/data/n', { data: { a: '1' }, options: null, version: null });
      assert.equal(written.status, 200, JSON.stringify(written.body));
      assert.equal(written.body.data.version, 1);
      assert.equal(written.body.warnings, null);
      assert.equal((await api.post('kvd/metadata/n', { max_versions: 3 })).status, 204);
      assert.equal((await api.post('kvd/metadata/n', { max_versions: null, cas_required: null, custom_metadata: null })).status, 204);
      assert.equal((await api.get('kvd/metadata/n')).body.data.max_versions, 3);
      assertRefused(await api.put('kvd/data/n', { data: null }), 'no data provided');
      assertRefused(await api.put('kvd/destroy/n', { versions: null }), 'no version number provided');
    });

    it('"3" and "true" strings decode, in bodies and query strings', async () => {
      assert.equal((await api.post('kvd/config', { max_versions: '3', cas_required: 'true', delete_version_after: '90' })).status, 204);
      assert.deepEqual((await api.get('kvd/config')).body.data, { cas_required: true, delete_version_after: '1m30s', max_versions: 3 });
      assert.equal((await api.post('kvd/config', { cas_required: 'false', delete_version_after: '0' })).status, 204);
      assert.equal((await api.get('kvd/config')).body.data.cas_required, false);
      assert.equal((await api.put('kvd/data/s', { data: { a: '1' }, options: { cas: '0' } })).body.data.version, 1);
      assert.equal((await api.put('kvd/data/s', { data: { a: '2' }, options: { cas: '1' } })).body.data.version, 2);
      const v1 = await api.get('kvd/data/s?version=1');
      assert.deepEqual(v1.body.data.data, { a: '1' });
      assert.deepEqual((await api.get('kvd/subkeys/s?depth=1&version=2')).body.data.subkeys, { a: null });
      assert.equal((await api.put('kvd/delete/s', { versions: '2' })).status, 204);
      assert.ok((await api.list('kvd/metadata/')).body.data.keys.includes('s'));
      assert.ok(!(await api.list('kvd/metadata/?exclude_deleted=true')).body.data.keys.includes('s'));
    });

    it('wrong types are a 400 naming the field, and nothing stored changes', async () => {
      await api.put('kvd/data/t', { data: { a: '1' } });
      const before = { data: (await api.get('kvd/data/t')).body.data, metadata: (await api.get('kvd/metadata/t')).body.data };
      assertRefused(await api.put('kvd/data/t', { data: SECRET_VALUE }), 'data must be an object');
      assertRefused(await api.put('kvd/data/t', { data: { a: '2' }, options: { cas: SECRET_VALUE } }), 'error parsing check-and-set parameter');
      assertRefused(await api.call('PATCH', 'kvd/data/t', { data: [SECRET_VALUE] }), 'data must be an object');
      assertRefused(await api.post('kvd/metadata/t', { max_versions: SECRET_VALUE }), 'max_versions must be an integer');
      assertRefused(await api.post('kvd/metadata/t', { max_versions: 1, cas_required: SECRET_VALUE }), 'cas_required must be a boolean');
      assertRefused(await api.post('kvd/metadata/t', { custom_metadata: [SECRET_VALUE] }), 'custom_metadata must be an object');
      assertRefused(await api.put('kvd/destroy/t', { versions: [1, SECRET_VALUE] }), 'versions must be an integer');
      assertRefused(await api.get(`kvd/data/t?version=${SECRET_VALUE}`), 'version must be an integer');
      assertRefused(await api.post('kvd/config', { max_versions: -1 }), 'max_versions must be a non-negative integer');
      const afterwards = { data: (await api.get('kvd/data/t')).body.data, metadata: (await api.get('kvd/metadata/t')).body.data };
      assert.deepEqual(afterwards, before);
    });

    it('unknown fields draw Vault\'s warning and are not stored', async () => {
      const written = await api.put('kvd/data/u', { data: { a: '1' }, zeta: SECRET_VALUE, alpha: 1 });
      assert.equal(written.status, 200);
      assert.deepEqual(written.body.warnings, ['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
      const read = await api.get('kvd/data/u?bogus=1');
      assert.deepEqual(read.body.warnings, ['Endpoint ignored these unrecognized parameters: [bogus]']);
      assert.deepEqual(read.body.data.data, { a: '1' });
    });

    it('__proto__ and constructor keys are plain data', async () => {
      const raw = '{"data": {"__proto__": {"polluted": true}, "constructor": "c"}, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}';
      const written = await api.call('PUT', 'kvd/data/p', raw);
      assert.equal(written.status, 200, JSON.stringify(written.body));
      assert.deepEqual(written.body.warnings, ['Endpoint ignored these unrecognized parameters: [constructor]']);
      const read = await api.get('kvd/data/p');
      assert.deepEqual(read.body.data.data, JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c"}'));
      const meta = await api.call('POST', 'kvd/metadata/p', '{"custom_metadata": {"__proto__": "x", "constructor": "y"}}');
      assert.equal(meta.status, 204);
      assert.deepEqual((await api.get('kvd/metadata/p')).body.data.custom_metadata, JSON.parse('{"__proto__": "x", "constructor": "y"}'));
      // The server still works normally afterwards.
      assert.equal((await api.put('kvd/data/p2', { data: { ok: '1' } })).body.data.version, 1);
    });

    it('an operation a known path does not declare is 405; an unknown path 404', async () => {
      const listData = await api.list('kvd/data/x');
      assert.equal(listData.status, 405);
      assert.deepEqual(listData.body, { errors: ['unsupported operation'] });
      assert.equal((await api.delete('kvd/config')).status, 405);
      assert.equal((await api.get('kvd/destroy/x')).status, 405);
      assert.equal((await api.put('kvd/subkeys/x', { depth: 1 })).status, 405);
      assert.equal((await api.get('kvd/nothing/here')).status, 404);
    });
  });

  describe('identity', () => {
    it('decodes the entity fields, warns of unknown ones, and 400s wrong types without storing', async () => {
      const created = await api.post('identity/entity', { name: 'http-ent', disabled: 'true', policies: 'a, b', metadata: ['team=ops'], token_ttl: 5, version: null });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(created.body.warnings, ['Endpoint ignored these unrecognized parameters: [token_ttl]']);
      const id = created.body.data.id;
      const read = await api.get(`identity/entity/id/${id}`);
      assert.equal(read.body.data.disabled, true);
      assert.deepEqual(read.body.data.policies, ['a', 'b']);
      assert.deepEqual(read.body.data.metadata, { team: 'ops' });

      assertRefused(await api.post(`identity/entity/id/${id}`, { disabled: SECRET_VALUE }), 'disabled must be a boolean');
      assertRefused(await api.post(`identity/entity/id/${id}`, { policies: ['ok'], metadata: { k: { v: SECRET_VALUE } } }), 'metadata.k must be a string');
      // Vault's entity/ updates the entity a name names; renaming onto another entity's name is refused.
      assert.equal((await api.post('identity/entity', { name: 'http-other' })).status, 200);
      assertRefused(await api.post(`identity/entity/id/${id}`, { name: 'http-other' }), 'entity name is already in use');
      const again = await api.get(`identity/entity/id/${id}`);
      assert.deepEqual(again.body.data, read.body.data);

      // An update of an existing entity is Vault's 204.
      assert.equal((await api.post(`identity/entity/id/${id}`, { disabled: null, policies: 'c' })).status, 204);
      const updated = (await api.get('identity/entity/name/http-ent')).body.data;
      assert.equal(updated.disabled, true);
      assert.deepEqual(updated.policies, ['c']);
    });

    it('__proto__ keys are harmless; undeclared operations are 405', async () => {
      const res = await api.call('POST', 'identity/entity',
        '{"name": "proto-ent", "metadata": {"__proto__": "x", "constructor": "y"}, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      // The HTTP layer drops a top-level "__proto__" before the engine sees it; "constructor" is just unknown.
      assert.deepEqual(res.body.warnings, ['Endpoint ignored these unrecognized parameters: [constructor]']);
      const entity = (await api.get('identity/entity/name/proto-ent')).body.data;
      assert.equal(entity.name, 'proto-ent');
      assert.equal(entity.metadata.constructor, 'y');
      const readEntity = await api.get('identity/entity');
      assert.equal(readEntity.status, 405);
      assert.deepEqual(readEntity.body, { errors: ['unsupported operation'] });
      assert.equal((await api.delete('identity/entity/name/')).status, 405);
      assert.equal((await api.put('identity/entity/id/', { name: 'x' })).status, 405);
      assert.deepEqual((await api.list('identity/entity/name')).body.data.keys.includes('proto-ent'), true);
    });
  });
});
