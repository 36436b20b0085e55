import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from '../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { LogicalResponse, Operation } from '../types.ts';
import { createIdentityBackend } from './index.ts';

function mount() {
  const storage = new MemoryLogicalStorage();
  const backend = createIdentityBackend();
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}) =>
    backend.handle(testRequest(storage, operation, path, data));
  return { storage, backend, call };
}

const data = (response: LogicalResponse | null) => {
  assert.ok(response?.data, 'expected a response with data');
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
  await failsWith(id.call(operation, path, body), 400, message);
  assert.deepEqual(id.storage.snapshot(), before, 'nothing stored changed');
}

describe('identity entities', () => {
  it('creates, reads by id and name, lists, updates and deletes', async () => {
    const id = mount();
    const created = data(await id.call('update', 'entity', { name: 'alice', policies: ['dev'], metadata: { team: 'ops' } }));
    assert.equal(created.name, 'alice');
    const byId = data(await id.call('read', `entity/id/${created.id}`));
    assert.deepEqual(byId.policies, ['dev']);
    assert.deepEqual(byId.metadata, { team: 'ops' });
    assert.equal(byId.disabled, false);
    assert.deepEqual(byId.aliases, []);
    assert.deepEqual(data(await id.call('read', 'entity/name/alice')).id, created.id);
    await id.call('update', 'entity', { name: 'bob' });
    assert.deepEqual(data(await id.call('list', 'entity/name')).keys, ['alice', 'bob']);
    assert.equal(data(await id.call('list', 'entity/id/')).keys.length, 2);

    await id.call('update', `entity/id/${created.id}`, { name: 'alice2', disabled: true });
    const renamed = data(await id.call('read', 'entity/name/alice2'));
    assert.equal(renamed.disabled, true);
    assert.deepEqual(renamed.policies, ['dev'], 'fields left out keep their value');
    await failsWith(id.call('read', 'entity/name/alice'), 404);

    assert.deepEqual(await id.call('delete', 'entity/name/alice2'), { status: 204 });
    await failsWith(id.call('read', `entity/id/${created.id}`), 404);
    assert.deepEqual(data(await id.call('list', 'entity/name/')).keys, ['bob']);
  });

  it('a write to entity/name/<name> creates the entity, and the path names it (no rename there)', async () => {
    const id = mount();
    const created = data(await id.call('update', 'entity/name/carol', { policies: 'a,b' }));
    assert.equal(created.name, 'carol');
    await id.call('update', 'entity/name/carol', { name: 'other', policies: 'c' });
    const read = data(await id.call('read', 'entity/name/carol'));
    assert.equal(read.id, created.id);
    assert.deepEqual(read.policies, ['c']);
  });

  it('refuses a name in use and an update of an unknown id, storing nothing', async () => {
    const id = mount();
    await id.call('update', 'entity', { name: 'taken' });
    await refusedUnchanged(id, 'update', 'entity', { name: 'taken' }, 'an entity named "taken" already exists');
    await refusedUnchanged(id, 'update', 'entity', { name: 'no spaces' }, 'name must be letters, digits and ._@-');
    const before = id.storage.snapshot();
    await failsWith(id.call('update', 'entity/id/0000-none', { policies: ['x'] }), 404);
    assert.deepEqual(id.storage.snapshot(), before);
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
    // "false" is false (it used to be truthy text).
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
  });

  it('unknown fields earn Vault\'s warning and are not stored', async () => {
    const id = mount();
    const created = await id.call('update', 'entity', { name: 'u', mfa_secrets: SECRET_VALUE, aliases: [] });
    assert.deepEqual(created?.warnings, ['Endpoint ignored these unrecognized parameters: [aliases mfa_secrets]']);
    assert.equal(data(await id.call('read', 'entity/name/u')).mfa_secrets, undefined);
    // `id` in the body of entity/ is Vault's "update this entity", which Tresor does not do: not silently taken.
    const second = await id.call('update', 'entity', { name: 'v', id: data(created).id });
    assert.deepEqual(second?.warnings, ['Endpoint ignored these unrecognized parameters: [id]']);
    assert.notEqual(data(second).id, data(created).id);
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
    assert.equal(await id.call('read', 'group/id/x'), null);
    assert.equal(await id.call('read', 'entity/id/a/b'), null);
  });

  it('entity writes are updates (no existence check, as in Vault)', async () => {
    const id = mount();
    assert.equal(await id.backend.existenceCheck(testRequest(id.storage, 'update', 'entity/name/none', {})), undefined);
    assert.ok(id.backend.help('entity', 'identity/')?.help.includes('policies (comma-string-slice)'));
  });
});
