import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from '../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { LogicalResponse, Operation } from '../types.ts';
import { createIdentityBackend, IdentityStore, type MountInfo } from './index.ts';

const MOUNTS: Record<string, MountInfo> = {
  auth_userpass_1: { accessor: 'auth_userpass_1', path: 'auth/userpass/', type: 'userpass', local: false },
  auth_token_1: { accessor: 'auth_token_1', path: 'auth/token/', type: 'token', local: false },
};

function mount() {
  const storage = new MemoryLogicalStorage();
  const store = new IdentityStore({ storage: () => storage, mountByAccessor: (a) => (Object.hasOwn(MOUNTS, a) ? MOUNTS[a] : undefined) });
  const backend = createIdentityBackend(store);
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}) =>
    backend.handle(testRequest(storage, operation, path, data));
  return { storage, store, backend, call };
}

const data = (response: LogicalResponse | null) => {
  assert.ok(response?.data, `expected a response with data, got ${JSON.stringify(response)}`);
  return response.data as Record<string, any>;
};

const SECRET_VALUE = 'hunter2-do-not-echo';

async function failsWith(promise: Promise<unknown>, status: number, message?: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TresorError, String(error));
    assert.equal(error.status, status);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    assert.ok(!error.message.includes(SECRET_VALUE), 'the value is not echoed');
    return true;
  });
}

async function refusedUnchanged(id: ReturnType<typeof mount>, operation: Operation, path: string, body: Record<string, unknown>, message: string | RegExp) {
  const before = id.storage.snapshot();
  const generation = id.store.generation;
  await failsWith(id.call(operation, path, body), 400, message);
  assert.deepEqual(id.storage.snapshot(), before, 'nothing stored changed');
  // A fresh store over the same storage sees what the first one serves.
  const reloaded = new IdentityStore({ storage: () => id.storage, mountByAccessor: () => undefined });
  assert.deepEqual((await reloaded.allEntities()).length, (await id.store.allEntities()).length);
  assert.ok(id.store.generation >= generation);
}

describe('identity entities', () => {
  it('creates, reads by id and name, lists, updates and deletes', async () => {
    const id = mount();
    const created = data(await id.call('update', 'entity', { name: 'alice', policies: ['dev'], metadata: { team: 'ops' } }));
    assert.equal(created.name, 'alice');
    assert.equal(created.aliases, null);
    const byId = data(await id.call('read', `entity/id/${created.id}`));
    assert.deepEqual(byId.policies, ['dev']);
    assert.deepEqual(byId.metadata, { team: 'ops' });
    assert.equal(byId.disabled, false);
    assert.deepEqual(byId.aliases, []);
    assert.equal(byId.namespace_id, 'root');
    assert.deepEqual(byId.group_ids, []);
    assert.equal(data(await id.call('read', 'entity/name/ALICE')).id, created.id, 'names match without regard to case');
    await id.call('update', 'entity', { name: 'bob' });
    const names = data(await id.call('list', 'entity/name'));
    assert.deepEqual(names.keys, ['alice', 'bob']);
    assert.equal(names.key_info.alice.name, 'alice');
    assert.equal(data(await id.call('list', 'entity/id/')).keys.length, 2);

    assert.deepEqual(await id.call('update', `entity/id/${created.id}`, { name: 'alice2', disabled: true }), { status: 204 });
    const renamed = data(await id.call('read', 'entity/name/alice2'));
    assert.equal(renamed.disabled, true);
    assert.deepEqual(renamed.policies, ['dev'], 'fields left out keep their value');
    await failsWith(id.call('read', 'entity/name/alice'), 404);

    assert.deepEqual(await id.call('delete', 'entity/name/alice2'), { status: 204 });
    await failsWith(id.call('read', `entity/id/${created.id}`), 404);
    assert.deepEqual(data(await id.call('list', 'entity/name/')).keys, ['bob']);
    assert.deepEqual(await id.call('delete', 'entity/name/nobody'), { status: 204 });
  });

  it('entity/ with an id or a held name updates that entity (Vault: 204)', async () => {
    const id = mount();
    const created = data(await id.call('update', 'entity', { name: 'carol', policies: 'a' }));
    assert.deepEqual(await id.call('update', 'entity', { name: 'carol', policies: 'b' }), { status: 204 });
    assert.deepEqual(await id.call('update', 'entity', { id: created.id, metadata: 'k=v' }), { status: 204 });
    const read = data(await id.call('read', 'entity/name/carol'));
    assert.deepEqual(read.policies, ['b']);
    assert.deepEqual(read.metadata, { k: 'v' });
    const byName = data(await id.call('update', 'entity/name/dave', { policies: 'x' }));
    assert.equal(byName.name, 'dave');
    await id.call('update', 'entity/name/dave', { name: 'other', policies: 'c' });
    assert.deepEqual(data(await id.call('read', `entity/id/${byName.id}`)).name, 'dave', 'the path names the entity');
  });

  it('refuses a name in use, an unknown id, root and bad metadata, storing nothing', async () => {
    const id = mount();
    const { id: first } = data(await id.call('update', 'entity', { name: 'taken' }));
    await id.call('update', 'entity', { name: 'other' });
    await refusedUnchanged(id, 'update', `entity/id/${first}`, { name: 'OTHER' }, 'entity name is already in use');
    await refusedUnchanged(id, 'update', 'entity', { id: 'none', name: 'x' }, 'entity not found from id');
    await refusedUnchanged(id, 'update', 'entity', { name: 'r', policies: 'a,Root' }, 'policies cannot contain root');
    await refusedUnchanged(id, 'update', 'entity', { name: 'm', metadata: { 'bad key': SECRET_VALUE } },
      'invalid entity metadata: failed to load metadata pair: key contains invalid characters');
    await refusedUnchanged(id, 'update', 'entity', { name: 'm', metadata: { k: 'x'.repeat(513) } },
      'invalid entity metadata: failed to load metadata pair: value is too long (limit: 512 characters)');
    await refusedUnchanged(id, 'update', 'entity', { name: 'm', metadata: { 'vault-x': 'v' } },
      'invalid entity metadata: failed to load metadata pair: key prefix "vault-" is reserved for internal use');
  });
});

describe('identity entity aliases', () => {
  it('creates an alias (and its entity), reads, moves, updates and deletes it', async () => {
    const id = mount();
    const made = data(await id.call('update', 'entity-alias', { name: 'alice', mount_accessor: 'auth_userpass_1', custom_metadata: 'team=ops' }));
    const entity = data(await id.call('read', `entity/id/${made.canonical_id}`));
    assert.match(entity.name, /^entity_[0-9a-f]{8}$/);
    assert.equal(entity.aliases.length, 1);
    assert.equal(entity.aliases[0].mount_path, 'auth/userpass/');
    assert.equal(entity.aliases[0].mount_type, 'userpass');
    const alias = data(await id.call('read', `entity-alias/id/${made.id}`));
    assert.equal(alias.name, 'alice');
    assert.equal(alias.canonical_id, made.canonical_id);
    assert.deepEqual(alias.custom_metadata, { team: 'ops' });
    assert.equal(alias.metadata, null);

    // The same (accessor, name) is the same alias: an update, not a second one.
    const again = data(await id.call('update', 'entity-alias', { name: 'ALICE', mount_accessor: 'auth_userpass_1', custom_metadata: 'team=dev' }));
    assert.equal(again.id, made.id);
    assert.deepEqual(data(await id.call('read', `entity-alias/id/${made.id}`)).custom_metadata, { team: 'dev' });

    const { id: bob } = data(await id.call('update', 'entity', { name: 'bob' }));
    const moved = data(await id.call('update', `entity-alias/id/${made.id}`, { canonical_id: bob }));
    assert.equal(moved.canonical_id, bob);
    assert.equal(data(await id.call('read', 'entity/name/bob')).aliases[0].id, made.id);
    assert.deepEqual(data(await id.call('read', `entity/id/${made.canonical_id}`)).aliases, []);

    const lookedUp = data(await id.call('update', 'lookup/entity', { alias_name: 'alice', alias_mount_accessor: 'auth_userpass_1' }));
    assert.equal(lookedUp.id, bob);
    assert.equal(data(await id.call('list', 'entity-alias/id')).keys[0], made.id);
    assert.deepEqual(await id.call('delete', `entity-alias/id/${made.id}`), { status: 204 });
    assert.deepEqual(data(await id.call('read', 'entity/name/bob')).aliases, []);
    await failsWith(id.call('read', `entity-alias/id/${made.id}`), 404);
  });

  it('refuses what Vault refuses, storing nothing', async () => {
    const id = mount();
    const { id: entityId } = data(await id.call('update', 'entity', { name: 'e' }));
    await id.call('update', 'entity-alias', { name: 'a', mount_accessor: 'auth_userpass_1', canonical_id: entityId });
    await refusedUnchanged(id, 'update', 'entity-alias', { name: 'a' }, "'id' or 'mount_accessor' and 'name' must be provided");
    await refusedUnchanged(id, 'update', 'entity-alias', { name: 'a', mount_accessor: SECRET_VALUE }, 'invalid mount accessor');
    await refusedUnchanged(id, 'update', 'entity-alias', { name: 'b', mount_accessor: 'auth_userpass_1', canonical_id: 'nope' }, 'invalid canonical ID');
    await refusedUnchanged(id, 'update', 'entity-alias', { name: 'b', mount_accessor: 'auth_userpass_1', canonical_id: entityId },
      'Alias already exists for requested entity and mount accessor');
    await refusedUnchanged(id, 'update', 'entity-alias', { id: 'nope', name: 'b' }, 'invalid alias ID provided');
    await refusedUnchanged(id, 'update', 'entity-alias', { name: 'c', mount_accessor: 'auth_token_1', custom_metadata: { k: '' } },
      'custom_metadata validation failed: length of a value is 0 but must be 0 < len(value) <= 512');
  });

  it('identityFor finds or creates the entity of an alias and keeps its metadata current', async () => {
    const id = mount();
    const first = await id.store.identityFor('auth_userpass_1', 'carol', { dept: 'x' });
    const second = await id.store.identityFor('auth_userpass_1', 'Carol', { dept: 'x' });
    assert.equal(second.id, first.id);
    const third = await id.store.identityFor('auth_userpass_1', 'carol', { dept: 'y' });
    assert.equal(third.id, first.id);
    assert.deepEqual(third.aliases[0].metadata, { dept: 'y' });
    const other = await id.store.identityFor('auth_token_1', 'carol');
    assert.notEqual(other.id, first.id, 'another mount is another alias');
    await failsWith(id.store.identityFor('nope', 'carol'), 400, 'invalid mount accessor');
    await failsWith(id.store.identityFor('auth_userpass_1', ''), 400, 'empty alias name');
  });
});

describe('identity groups', () => {
  it('creates groups with members, nests them, reports direct and inherited groups, and deletes', async () => {
    const id = mount();
    const { id: alice } = data(await id.call('update', 'entity', { name: 'alice' }));
    const child = data(await id.call('update', 'group', { name: 'devs', policies: 'Dev', member_entity_ids: [alice] }));
    const parent = data(await id.call('update', 'group', { name: 'staff', policies: 'staff', member_group_ids: child.id }));
    const read = data(await id.call('read', `group/id/${parent.id}`));
    assert.deepEqual(read.member_group_ids, [child.id]);
    assert.equal(read.type, 'internal');
    assert.deepEqual(data(await id.call('read', 'group/name/DEVS')).parent_group_ids, [parent.id]);
    const entity = data(await id.call('read', `entity/id/${alice}`));
    assert.deepEqual(entity.direct_group_ids, [child.id]);
    assert.deepEqual(entity.inherited_group_ids, [parent.id]);
    const context = (await id.store.context(alice))!;
    assert.deepEqual(context.policies, ['dev', 'staff']);

    await refusedUnchanged(id, 'update', `group/id/${child.id}`, { member_group_ids: parent.id }, 'cyclic relationship detected for member group ID');
    await refusedUnchanged(id, 'update', `group/id/${child.id}`, { member_group_ids: child.id }, 'member group ID is same as the ID of the group');
    await refusedUnchanged(id, 'update', 'group', { name: 'x', member_entity_ids: [SECRET_VALUE] }, 'invalid entity ID');
    await refusedUnchanged(id, 'update', 'group', { name: 'x', member_group_ids: [SECRET_VALUE] }, 'invalid member group ID');
    await refusedUnchanged(id, 'update', 'group', { name: 'x', policies: 'root' }, 'policies cannot contain root');
    await refusedUnchanged(id, 'update', 'group', { name: 'x', type: 'external' }, 'external groups are not supported');
    await refusedUnchanged(id, 'update', 'group', { name: 'x', type: SECRET_VALUE }, 'invalid group type');
    await refusedUnchanged(id, 'update', `group/id/${child.id}`, { name: 'staff' }, 'group name is already in use');
    await refusedUnchanged(id, 'update', 'group', { id: 'nope' }, 'invalid group ID');

    // Updating by name keeps members; an empty member list removes them.
    assert.deepEqual(await id.call('update', 'group/name/staff', { member_group_ids: [] }), { status: 204 });
    assert.deepEqual(data(await id.call('read', `group/id/${child.id}`)).parent_group_ids, []);
    assert.deepEqual((await id.store.context(alice))!.policies, ['dev']);

    // Deleting the entity takes it out of its groups.
    await id.call('delete', `entity/id/${alice}`);
    assert.deepEqual(data(await id.call('read', `group/id/${child.id}`)).member_entity_ids, []);
    assert.deepEqual(data(await id.call('list', 'group/name')).keys, ['devs', 'staff']);
    assert.deepEqual(await id.call('delete', 'group/name/devs'), { status: 204 });
    await failsWith(id.call('read', `group/id/${child.id}`), 404);
  });

  it('lookup/group and lookup/entity take exactly one criterion', async () => {
    const id = mount();
    const g = data(await id.call('update', 'group', { name: 'g1' }));
    assert.equal(data(await id.call('update', 'lookup/group', { name: 'g1' })).id, g.id);
    assert.deepEqual(await id.call('update', 'lookup/group', { id: 'none' }), { status: 204 });
    await failsWith(id.call('update', 'lookup/entity', {}), 400, 'query parameter not supplied');
    await failsWith(id.call('update', 'lookup/entity', { id: 'a', name: 'b' }), 400, 'query parameter conflict; please supply distinct set of query parameters');
    await failsWith(id.call('update', 'lookup/entity', { alias_name: 'a' }), 400, "both 'alias_name' and 'alias_mount_accessor' needs to be set");
  });
});

describe('identity declared fields', () => {
  it('null fields are as if left out', async () => {
    const id = mount();
    const { id: entityId } = data(await id.call('update', 'entity', { name: 'n', policies: ['p'], metadata: { k: 'v' }, disabled: true }));
    await id.call('update', `entity/id/${entityId}`, { name: null, policies: null, metadata: null, disabled: null });
    const read = data(await id.call('read', `entity/id/${entityId}`));
    assert.equal(read.name, 'n');
    assert.deepEqual(read.policies, ['p']);
    assert.deepEqual(read.metadata, { k: 'v' });
    assert.equal(read.disabled, true);
    assert.match(data(await id.call('update', 'entity', { name: null })).name, /^entity_[0-9a-f]{8}$/);
  });

  it('weak decoding: "true"/"false" strings, comma-separated policies, key=value metadata', async () => {
    const id = mount();
    const { id: entityId } = data(await id.call('update', 'entity', { name: 'w', disabled: 'true', policies: 'a, b,,c', metadata: ['team=ops', 'tier=1'] }));
    let read = data(await id.call('read', `entity/id/${entityId}`));
    assert.equal(read.disabled, true);
    assert.deepEqual(read.policies, ['a', 'b', 'c']);
    assert.deepEqual(read.metadata, { team: 'ops', tier: '1' });
    await id.call('update', `entity/id/${entityId}`, { disabled: 'false', metadata: { n: 3 } });
    read = data(await id.call('read', `entity/id/${entityId}`));
    assert.equal(read.disabled, false);
    assert.deepEqual(read.metadata, { n: '3' });
  });

  it('wrong types are a 400 naming the field, never the value, and store nothing', async () => {
    const id = mount();
    const { id: entityId } = data(await id.call('update', 'entity', { name: 't' }));
    await refusedUnchanged(id, 'update', `entity/id/${entityId}`, { disabled: SECRET_VALUE }, 'disabled must be a boolean');
    await refusedUnchanged(id, 'update', `entity/id/${entityId}`, { policies: [SECRET_VALUE, 3, {}] }, /^policies must be /);
    await refusedUnchanged(id, 'update', `entity/id/${entityId}`, { metadata: { k: { nested: SECRET_VALUE } } }, 'metadata.k must be a string');
    await refusedUnchanged(id, 'update', 'entity', { metadata: [SECRET_VALUE] }, 'metadata must be a list of "key=value" strings');
    await refusedUnchanged(id, 'update', 'entity', { name: { n: SECRET_VALUE } }, 'name must be a string');
    await refusedUnchanged(id, 'update', 'group', { member_entity_ids: { a: SECRET_VALUE } }, /^member_entity_ids must be /);
  });

  it('unknown fields earn Vault\'s warning and are not stored', async () => {
    const id = mount();
    const created = await id.call('update', 'entity', { name: 'u', mfa_secrets: SECRET_VALUE, aliases: [] });
    assert.deepEqual(created?.warnings, ['Endpoint ignored these unrecognized parameters: [aliases mfa_secrets]']);
    assert.equal(data(await id.call('read', 'entity/name/u')).mfa_secrets, undefined);
  });

  it('__proto__ and constructor keys are harmless', async () => {
    const id = mount();
    const body = JSON.parse('{"name": "p", "metadata": {"__proto__": "x", "constructor": "y"}, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    const created = await id.call('update', 'entity', body);
    assert.deepEqual(created?.warnings, ['Endpoint ignored these unrecognized parameters: [__proto__ constructor]']);
    const read = data(await id.call('read', 'entity/name/p'));
    assert.equal(Object.getPrototypeOf(read.metadata), Object.prototype);
    assert.equal(read.metadata.constructor, 'y');
    await id.call('update', 'entity/name/q', { metadata: ['__proto__=polluted', 'constructor=z'] });
    assert.deepEqual(data(await id.call('read', 'entity/name/q')).metadata, { constructor: 'z' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('405 for an operation a known path does not declare; null for unknown paths', async () => {
    const id = mount();
    const { id: entityId } = data(await id.call('update', 'entity', { name: 'x' }));
    await failsWith(id.call('read', 'entity'), 405);
    await failsWith(id.call('delete', 'entity'), 405);
    await failsWith(id.call('list', `entity/id/${entityId}`), 405);
    await failsWith(id.call('patch', 'entity/name/x', { policies: ['p'] }), 405);
    await failsWith(id.call('read', 'entity/id/'), 405);
    await failsWith(id.call('read', 'lookup/entity'), 405);
    assert.equal(await id.call('read', 'group-alias/id/x'), null);
    assert.equal(await id.call('read', 'entity/id/a/b'), null);
  });

  it('entity writes are updates (no existence check, as in Vault)', async () => {
    const id = mount();
    assert.equal(await id.backend.existenceCheck(testRequest(id.storage, 'update', 'entity/name/none', {})), undefined);
    assert.ok(id.backend.help('entity', 'identity/')?.help.includes('policies (comma-string-slice)'));
  });

  it('loads what an earlier store wrote (entities from before aliases too)', async () => {
    const id = mount();
    await id.call('update', 'entity', { name: 'kept', policies: 'p' });
    await id.storage.put('entity/old-one', Buffer.from(JSON.stringify({ id: 'old-one', name: 'Legacy', policies: ['q'], metadata: {}, disabled: false })));
    const reloaded = new IdentityStore({ storage: () => id.storage, mountByAccessor: () => undefined });
    assert.deepEqual((await reloaded.entityNamed('kept'))?.policies, ['p']);
    assert.deepEqual((await reloaded.entityNamed('legacy'))?.aliases, []);
  });
});
