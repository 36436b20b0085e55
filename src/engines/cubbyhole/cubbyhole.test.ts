import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from '../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { Operation } from '../types.ts';
import { createCubbyholeBackend, destroyCubbyhole } from './index.ts';

function mount() {
  const storage = new MemoryLogicalStorage();
  const backend = createCubbyholeBackend();
  const as = (tokenId: string) =>
    (operation: Operation, path: string, data: Record<string, unknown> = {}) =>
      backend.handle(testRequest(storage, operation, path, data, { tokenId }));
  return { storage, backend, as };
}

const isStatus = (status: number) => (error: unknown) => error instanceof TresorError && error.status === status;

describe('cubbyhole', () => {
  it('reports its type', () => {
    assert.equal(createCubbyholeBackend().type, 'cubbyhole');
  });

  it('writes, reads, lists and deletes like kv v1', async () => {
    const alice = mount().as('alice-token-id');
    assert.deepEqual(await alice('create', 'notes/one', { text: 'hello' }), { status: 204 });
    await alice('create', 'notes/two', { text: 'world' });
    await alice('create', 'top', { n: 1 });
    assert.deepEqual((await alice('read', 'notes/one'))?.data, { text: 'hello' });
    assert.deepEqual((await alice('list', ''))?.data, { keys: ['notes/', 'top'] });
    assert.deepEqual((await alice('list', 'notes/'))?.data, { keys: ['one', 'two'] });
    assert.deepEqual(await alice('delete', 'notes/one'), { status: 204 });
    await assert.rejects(alice('read', 'notes/one'), isStatus(404));
  });

  it('does not report a ttl as a lease', async () => {
    const alice = mount().as('alice');
    await alice('create', 'x', { ttl: '1h' });
    assert.equal((await alice('read', 'x'))?.leaseDuration, undefined);
  });

  it('keeps each token inside its own cubbyhole', async () => {
    const cubby = mount();
    const alice = cubby.as('alice');
    const bob = cubby.as('bob');
    await alice('create', 'shared-name', { owner: 'alice' });
    await bob('create', 'shared-name', { owner: 'bob' });
    assert.deepEqual((await alice('read', 'shared-name'))?.data, { owner: 'alice' });
    assert.deepEqual((await bob('read', 'shared-name'))?.data, { owner: 'bob' });

    await alice('create', 'alice-only', { v: 1 });
    await assert.rejects(bob('read', 'alice-only'), isStatus(404));
    assert.deepEqual((await bob('list', ''))?.data, { keys: ['shared-name'] });
    await bob('delete', 'alice-only');
    assert.deepEqual((await alice('read', 'alice-only'))?.data, { v: 1 });
  });

  it('a token id containing "/" cannot reach into another token\'s folder', async () => {
    const cubby = mount();
    await cubby.as('a')('create', 'b/secret', { v: 1 });
    await assert.rejects(cubby.as('a/b')('read', 'secret'), isStatus(404));
    await assert.rejects(cubby.as('a/b')('list', ''), isStatus(404));
  });

  it('refuses requests without a token', async () => {
    const cubby = mount();
    await assert.rejects(cubby.backend.handle(testRequest(cubby.storage, 'read', 'x')), isStatus(400));
  });

  it('rejects empty writes without storing anything', async () => {
    const cubby = mount();
    await assert.rejects(cubby.as('alice')('create', 'x', {}), isStatus(400));
    assert.deepEqual(cubby.storage.keys(), []);
  });

  it('destroyCubbyhole removes every entry of one token and only that token', async () => {
    const cubby = mount();
    const alice = cubby.as('alice');
    const bob = cubby.as('bob');
    await alice('create', 'a', { v: 1 });
    await alice('create', 'deep/er/still', { v: 2 });
    await bob('create', 'b', { v: 3 });
    await destroyCubbyhole(cubby.storage, 'alice');
    await assert.rejects(alice('list', ''), isStatus(404));
    await assert.rejects(alice('read', 'deep/er/still'), isStatus(404));
    assert.deepEqual((await bob('read', 'b'))?.data, { v: 3 });
    assert.equal(cubby.storage.keys().length, 1);
    await destroyCubbyhole(cubby.storage, 'nobody');
  });
});
