import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogicalStorage } from '../../engines/testing-storage.ts';
import { TresorError } from '../errors.ts';
import { DEFAULT_POLICY_TEXT, PolicyStore, RESPONSE_WRAPPING_POLICY_TEXT } from './index.ts';

const READ_SECRETS = 'path "secret/*" {\n  capabilities = ["read"]\n}\n';

async function rejects400(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof TresorError && err.status === 400 && message.test(err.message));
}

describe('PolicyStore', () => {
  it('starts with default (built-in text) and root', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    assert.deepEqual(await store.list(), ['default', 'root']);
    assert.equal((await store.get('default'))?.text, DEFAULT_POLICY_TEXT);
    assert.deepEqual((await store.get('root'))?.rules, []);
    assert.equal(await store.get('missing'), undefined);
  });

  it('stores JSON {name, policy} at policy/<lower-cased name> and reads it back', async () => {
    const storage = new MemoryLogicalStorage();
    const store = new PolicyStore(storage);
    await store.put('Readers', READ_SECRETS);
    assert.deepEqual(JSON.parse((await storage.get('policy/readers'))!.toString()), { name: 'readers', policy: READ_SECRETS });
    assert.equal((await store.get('READERS'))?.text, READ_SECRETS);
    assert.deepEqual(await store.list(), ['default', 'readers', 'root']);
    // A fresh store over the same storage sees it too.
    assert.deepEqual((await new PolicyStore(storage).get('readers'))?.rules.map((r) => r.path), ['secret/*']);
  });

  it('validates before writing, and writes nothing for an invalid policy', async () => {
    const storage = new MemoryLogicalStorage();
    const store = new PolicyStore(storage);
    await rejects400(store.put('bad', 'path "a" { capabilities = ["fly"] }'), /unknown capability "fly"/);
    assert.deepEqual(storage.keys(), []);
    await rejects400(store.put('a/b', READ_SECRETS), /invalid policy name/);
  });

  it('refuses to write root and to delete root or default', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    await rejects400(store.put('root', READ_SECRETS), /cannot update the "root" policy/);
    await rejects400(store.delete('root'), /cannot delete the "root" policy/);
    await rejects400(store.delete('Default'), /cannot delete the "default" policy/);
  });

  it('lets default be rewritten', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    await store.put('default', READ_SECRETS);
    const acl = await store.acl(['default']);
    assert.equal(acl.allowed('secret/x', 'read').allowed, true);
    assert.equal(acl.allowed('auth/token/lookup-self', 'read').allowed, false);
  });

  it('builds a merged ACL and ignores unknown names', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    await store.put('readers', READ_SECRETS);
    await store.put('writers', 'path "secret/*" {\n  capabilities = ["update"]\n}\n');
    const acl = await store.acl(['readers', 'WRITERS', 'default', 'ghost']);
    assert.deepEqual(acl.capabilities('secret/x'), ['read', 'update']);
    assert.equal(acl.allowed('auth/token/lookup-self', 'read').allowed, true);
    assert.deepEqual((await store.acl(['root'])).capabilities('anything'), ['root']);
  });

  it('invalidates cached ACLs on put and delete', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    await store.put('p', READ_SECRETS);
    const before = await store.acl(['p']);
    assert.equal(await store.acl(['p']), before, 'the ACL is cached between changes');
    assert.equal(before.allowed('secret/x', 'update').allowed, false);

    await store.put('p', 'path "secret/*" {\n  capabilities = ["update"]\n}\n');
    assert.equal((await store.acl(['p'])).allowed('secret/x', 'update').allowed, true);

    await store.delete('p');
    assert.deepEqual((await store.acl(['p'])).capabilities('secret/x'), ['deny']);
    assert.equal(await store.get('p'), undefined);
    assert.deepEqual(await store.list(), ['default', 'root']);
  });

  it('does not cache a policy read that raced with a write', async () => {
    const storage = new MemoryLogicalStorage();
    const store = new PolicyStore(storage);
    await store.put('p', READ_SECRETS);
    const fresh = new PolicyStore(storage);
    const racingRead = fresh.acl(['p']);
    await fresh.put('p', 'path "secret/*" {\n  capabilities = ["deny"]\n}\n');
    await racingRead;
    assert.deepEqual((await fresh.acl(['p'])).capabilities('secret/x'), ['deny']);
  });

  it('reports a corrupt stored entry as a 500 without its content', async () => {
    const storage = new MemoryLogicalStorage();
    await storage.put('policy/broken', Buffer.from('not json s3cret'));
    await assert.rejects(new PolicyStore(storage).get('broken'), (err: unknown) => err instanceof TresorError && err.status === 500 && !/s3cret/.test(err.message));
  });

  it('has the built-in response-wrapping policy: readable, unlisted, never written or deleted', async () => {
    const storage = new MemoryLogicalStorage();
    const store = new PolicyStore(storage);
    const policy = await store.get('response-wrapping');
    assert.equal(policy?.text, RESPONSE_WRAPPING_POLICY_TEXT);
    const acl = await store.acl(['response-wrapping']);
    assert.deepEqual(acl.capabilities('cubbyhole/response'), ['create', 'read']);
    assert.deepEqual(acl.capabilities('sys/wrapping/unwrap'), ['update']);
    assert.deepEqual(acl.capabilities('cubbyhole/other'), ['deny']);
    assert.deepEqual(acl.capabilities('sys/wrapping/rewrap'), ['deny']);
    await rejects400(store.put('Response-Wrapping', READ_SECRETS), /^cannot update "response-wrapping" policy$/);
    await rejects400(store.delete('response-wrapping'), /^cannot delete "response-wrapping" policy$/);
    assert.deepEqual(storage.keys(), []);
    assert.deepEqual(await store.list(), ['default', 'root']);
    // Even an entry planted in storage neither shows up nor replaces the built-in rules.
    await storage.put('policy/response-wrapping', Buffer.from(JSON.stringify({ name: 'response-wrapping', policy: 'path "*" {\n  capabilities = ["sudo", "read"]\n}\n' })));
    assert.deepEqual(await new PolicyStore(storage).list(), ['default', 'root']);
    assert.deepEqual((await new PolicyStore(storage).acl(['response-wrapping'])).capabilities('secret/x'), ['deny']);
  });
});
