/**
 * A KV v2 write is one storage commit: the version's data, the metadata that
 * points at it and the trimmed versions' removal reach the backend as one
 * transaction through every layer (mount prefix, seal wrap, barrier), so a
 * failed commit leaves nothing of the write behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AesGcmBarrier } from '../barrier/aes-gcm-barrier.ts';
import { createKvV2Backend } from '../engines/kv/v2/backend.ts';
import { testRequest } from '../engines/testing-storage.ts';
import type { LogicalResponse, LogicalStorage } from '../engines/types.ts';
import type { SealWrapper } from '../seal/seal.ts';
import { InmemBackend } from '../storage/inmem.ts';
import type { TxOp } from '../storage/transactional.ts';
import { PrefixedStorage, SealWrappedStorage } from './storage-view.ts';

/** The physical backend, recording each commit (a put, a delete or a transaction) and able to fail the next one. */
class RecordingBackend extends InmemBackend {
  commits: Array<Array<{ op: string; key: string }>> = [];
  failNext = false;
  override async put(key: string, value: Buffer) {
    this.commits.push([{ op: 'put', key }]);
    return super.put(key, value);
  }
  override async delete(key: string) {
    this.commits.push([{ op: 'delete', key }]);
    return super.delete(key);
  }
  override async transaction(ops: TxOp[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    this.commits.push(ops.map(({ op, key }) => ({ op, key })));
    return super.transaction(ops);
  }
}

const xorSeal: SealWrapper = {
  type: 'test',
  wrap: async (p) => Buffer.from(p.map((x) => x ^ 0x5a)),
  unwrap: async (b) => Buffer.from(b.map((x) => x ^ 0x5a)),
  needsRewrap: () => false,
  keyInfo: () => ({ type: 'test', keyId: 'k' }),
  generateRandom: async (n) => randomBytes(n),
  health: () => ({ healthy: true }),
  close: async () => {},
};

async function mountStorage(sealWrap: boolean) {
  const physical = new RecordingBackend();
  const barrier = new AesGcmBarrier(physical);
  const rootKey = randomBytes(32);
  await barrier.initialize(rootKey);
  await barrier.unseal(rootKey);
  const prefix = 'logical/abc/';
  const base = new PrefixedStorage(barrier, prefix);
  const storage: LogicalStorage = sealWrap ? new SealWrappedStorage(base, xorSeal, prefix) : base;
  physical.commits = [];
  return { physical, storage };
}

const kv = createKvV2Backend();
const write = (storage: LogicalStorage, data: Record<string, unknown>, options: Record<string, unknown> = {}) =>
  kv.handle(testRequest(storage, 'update', 'data/app', { data, options })) as Promise<LogicalResponse>;
/** The current version's data and metadata, as a KV v2 read returns them. */
async function read(storage: LogicalStorage) {
  const res = (await kv.handle(testRequest(storage, 'read', 'data/app'))) as LogicalResponse;
  return res.data as { data: Record<string, unknown>; metadata: { version: number } };
}

describe('storage transactions', () => {
  for (const sealWrap of [false, true]) {
    it(`a KV v2 write is one commit of data and metadata${sealWrap ? ' (seal-wrapped mount)' : ''}`, async () => {
      const { physical, storage } = await mountStorage(sealWrap);
      await write(storage, { password: 'one' });
      const writes = physical.commits.filter((c) => c.some((op) => op.key.includes('/versions/') || op.key.includes('/meta/')));
      assert.equal(writes.length, 1, JSON.stringify(physical.commits));
      assert.deepEqual(writes[0], [
        { op: 'put', key: 'logical/abc/versions/app/1' },
        { op: 'put', key: 'logical/abc/meta/app' },
      ]);
      assert.equal((await read(storage)).data.password, 'one');
    });
  }

  it('trimming an old version is part of the same commit', async () => {
    const { physical, storage } = await mountStorage(false);
    await kv.handle(testRequest(storage, 'update', 'metadata/app', { max_versions: 1 }));
    await write(storage, { v: 1 });
    physical.commits = [];
    await write(storage, { v: 2 });
    const writes = physical.commits.filter((c) => c.some((op) => op.key.includes('/versions/')));
    assert.deepEqual(writes, [[
      { op: 'put', key: 'logical/abc/versions/app/2' },
      { op: 'put', key: 'logical/abc/meta/app' },
      { op: 'delete', key: 'logical/abc/versions/app/1' },
    ]]);
  });

  it('a failed commit leaves neither the new version nor its metadata', async () => {
    const { physical, storage } = await mountStorage(true);
    await write(storage, { password: 'one' });
    physical.failNext = true;
    await assert.rejects(write(storage, { password: 'two' }), /disk full/);
    const current = await read(storage);
    assert.equal(current.data.password, 'one');
    assert.equal(current.metadata.version, 1);
    assert.equal(await storage.get('versions/app/2'), undefined);
    // The next write takes version 2, as if the failed one never happened.
    const next = await write(storage, { password: 'three' });
    assert.equal(next.data!.version, 2);
  });
});
