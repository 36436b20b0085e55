/**
 * The policy store's ACL cache: a policy change drops only the ACLs of the
 * sets that hold that policy, and many one-off policy sets pass through
 * without evicting a set that is in steady use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryLogicalStorage } from '../../engines/testing-storage.ts';
import { PolicyStore } from './index.ts';

const rule = (path: string, caps: string) => `path "${path}" {\n  capabilities = [${caps}]\n}\n`;

/** Counts storage reads, i.e. policies loaded because no cache had them. */
class CountingStorage extends MemoryLogicalStorage {
  reads = 0;
  override async get(key: string) {
    this.reads++;
    return super.get(key);
  }
}

describe('ACL cache', () => {
  it('a policy write rebuilds the ACLs holding that policy and keeps every other one', async () => {
    const storage = new CountingStorage();
    const store = new PolicyStore(storage);
    await store.put('apps', rule('secret/apps/*', '"read"'));
    await store.put('ops', rule('sys/*', '"read"'));
    const appsAcl = await store.acl(['default', 'apps']);
    const opsAcl = await store.acl(['default', 'ops']);
    assert.deepEqual(appsAcl.capabilities('secret/apps/x'), ['read']);

    await store.put('apps', rule('secret/apps/*', '"read", "update"'));
    storage.reads = 0;
    assert.equal(await store.acl(['default', 'ops']), opsAcl, 'a set without the changed policy keeps its ACL');
    assert.equal(storage.reads, 0, 'and no policy is read again for it');
    const rebuilt = await store.acl(['apps', 'default']);
    assert.notEqual(rebuilt, appsAcl);
    assert.deepEqual(rebuilt.capabilities('secret/apps/x'), ['read', 'update']);
    assert.equal(storage.reads, 1, 'only the changed policy is read again');

    await store.delete('apps');
    assert.deepEqual((await store.acl(['default', 'apps'])).capabilities('secret/apps/x'), ['deny']);
    assert.equal(await store.acl(['ops', 'default']), opsAcl);
  });

  it('creating a policy a set named before it existed takes effect for that set', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    assert.deepEqual((await store.acl(['default', 'later'])).capabilities('kv/x'), ['deny']);
    await store.put('later', rule('kv/*', '"list"'));
    assert.deepEqual((await store.acl(['default', 'later'])).capabilities('kv/x'), ['list']);
  });

  it('thousands of one-off policy sets do not evict a set in steady use', async () => {
    const store = new PolicyStore(new MemoryLogicalStorage());
    for (let i = 0; i < 50; i++) await store.put(`p${i}`, rule(`kv/${i}/*`, '"read"'));
    const hot = await store.acl(['default', 'p0']);
    for (let i = 0; i < 10_000; i++) {
      // Many distinct sets (more than the cache holds), with the hot one used in between.
      await store.acl(['default', `p${i % 50}`, `p${(i * 7 + 1) % 50}`, `p${(i * 13 + 2) % 50}`, `missing${i}`]);
      if (i % 100 === 0) assert.equal(await store.acl(['default', 'p0']), hot, `evicted after ${i} sets`);
    }
  });
});
