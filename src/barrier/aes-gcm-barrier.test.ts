import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AesGcmBarrier, BarrierDecryptError, BarrierKeyError, BarrierSealedError, KEYRING_PATH } from './aes-gcm-barrier.ts';
import { InmemBackend } from '../storage/inmem.ts';
import { FileBackend } from '../storage/file.ts';

async function unsealedBarrier() {
  const physical = new InmemBackend();
  const barrier = new AesGcmBarrier(physical);
  const rootKey = randomBytes(32);
  await barrier.initialize(rootKey);
  await barrier.unseal(rootKey);
  return { physical, barrier, rootKey };
}

describe('AES-GCM barrier', () => {
  it('stores only ciphertext and reads the plaintext back', async () => {
    const { physical, barrier } = await unsealedBarrier();
    const secret = Buffer.from('the quick brown fox');
    await barrier.put('logical/a/secret', secret);
    const raw = (await physical.get('logical/a/secret'))!;
    assert.equal(raw.includes(secret), false);
    assert.equal(raw.readUInt32BE(0), 1, 'term prefix');
    assert.equal(raw[4], 2, 'version 2 binds the path');
    assert.equal(raw.length, 4 + 1 + 12 + secret.length + 16);
    assert.deepEqual(await barrier.get('logical/a/secret'), secret);
  });

  it('rejects a value whose every single byte was tampered with', async () => {
    const { physical, barrier } = await unsealedBarrier();
    await barrier.put('k', Buffer.from('value'));
    const raw = (await physical.get('k'))!;
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i] ^= 0x01;
      await physical.put('k', bad);
      await assert.rejects(barrier.get('k'), BarrierDecryptError, `byte ${i}`);
    }
  });

  it('refuses a ciphertext moved to another path', async () => {
    const { physical, barrier } = await unsealedBarrier();
    await barrier.put('logical/a/one', Buffer.from('one'));
    await physical.put('logical/a/two', (await physical.get('logical/a/one'))!);
    await assert.rejects(barrier.get('logical/a/two'), BarrierDecryptError);
  });

  it('rotation writes new values under the new term and still reads old ones', async () => {
    const { physical, barrier } = await unsealedBarrier();
    await barrier.put('old', Buffer.from('before'));
    const status = await barrier.rotate();
    assert.equal(status.term, 2);
    await barrier.put('new', Buffer.from('after'));
    assert.equal((await physical.get('old'))!.readUInt32BE(0), 1);
    assert.equal((await physical.get('new'))!.readUInt32BE(0), 2);
    assert.equal((await barrier.get('old'))!.toString(), 'before');
    assert.equal((await barrier.get('new'))!.toString(), 'after');
  });

  it('counts encryptions per term', async () => {
    const { barrier } = await unsealedBarrier();
    const before = barrier.keyStatus().encryptions;
    for (let i = 0; i < 5; i++) await barrier.put(`k${i}`, Buffer.from('x'));
    assert.equal(barrier.keyStatus().encryptions, before + 5);
  });

  it('rotates by itself once the operation limit is reached', async () => {
    const { barrier } = await unsealedBarrier();
    await barrier.setRotationConfig({ maxOperations: barrier.keyStatus().encryptions + 3, interval: 0 });
    for (let i = 0; i < 3; i++) await barrier.put(`k${i}`, Buffer.from('x'));
    for (let i = 0; i < 50 && barrier.keyStatus().term === 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(barrier.keyStatus().term, 2);
  });

  it('reports a failed automatic rotation to its logger, without key material', async () => {
    const physical = new InmemBackend();
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (msg: string) => void errors.push(msg) };
    const barrier = new AesGcmBarrier(physical, { logger });
    const rootKey = randomBytes(32);
    await barrier.initialize(rootKey);
    await barrier.unseal(rootKey);
    await barrier.setRotationConfig({ maxOperations: barrier.keyStatus().encryptions + 1, interval: 0 });
    physical.put = async () => {
      throw new Error('disk full');
    };
    await assert.rejects(barrier.put('k', Buffer.from('x')), /disk full/);
    for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(errors, ['barrier: automatic key rotation failed: disk full']);
    assert.equal(barrier.keyStatus().term, 1);
  });

  it('refuses every operation while sealed', async () => {
    const { barrier } = await unsealedBarrier();
    barrier.seal();
    assert.equal(barrier.sealed, true);
    await assert.rejects(barrier.get('k'), BarrierSealedError);
    await assert.rejects(barrier.put('k', Buffer.from('v')), BarrierSealedError);
    await assert.rejects(barrier.list(''), BarrierSealedError);
  });

  it('unseal with a wrong root key fails and stays sealed', async () => {
    const { barrier } = await unsealedBarrier();
    barrier.seal();
    await assert.rejects(barrier.unseal(randomBytes(32)), BarrierKeyError);
    assert.equal(barrier.sealed, true);
  });

  it('a rekeyed keyring opens with the new root key only', async () => {
    const { barrier, rootKey } = await unsealedBarrier();
    await barrier.put('k', Buffer.from('v'));
    const newRoot = randomBytes(32);
    await barrier.rekeyWith(newRoot, []);
    barrier.seal();
    assert.equal(await barrier.verifyRootKey(rootKey), false);
    await barrier.unseal(newRoot);
    assert.equal((await barrier.get('k'))!.toString(), 'v');
  });

  it('a rotation whose keyring write fails changes nothing: later writes still read after a restart', async () => {
    const physical = new InmemBackend();
    const rootKey = randomBytes(32);
    let failWrap = false;
    const flakySeal = {
      type: 'test',
      wrap: async (p: Buffer) => {
        if (failWrap) throw new Error('HSM unavailable');
        return Buffer.concat([Buffer.from('W'), p]);
      },
      unwrap: async (b: Buffer) => b.subarray(1),
      needsRewrap: () => false,
      keyInfo: () => ({ type: 'test', keyId: 'k' }),
      generateRandom: async (n: number) => randomBytes(n),
      health: () => ({ healthy: true }),
      close: async () => {},
    };
    let barrier = new AesGcmBarrier(physical);
    barrier.setKeyringSeal(flakySeal);
    await barrier.initialize(rootKey);
    await barrier.unseal(rootKey);
    failWrap = true;
    await assert.rejects(barrier.rotate(), /HSM unavailable/);
    assert.equal(barrier.keyStatus().term, 1);
    await barrier.put('after-failed-rotation', Buffer.from('kept'));
    failWrap = false;

    barrier = new AesGcmBarrier(physical);
    barrier.setKeyringSeal(flakySeal);
    await barrier.unseal(rootKey);
    assert.equal((await barrier.get('after-failed-rotation'))!.toString(), 'kept');
  });

  it('reads in flight during a rotation still decrypt', async () => {
    const { barrier } = await unsealedBarrier();
    for (let i = 0; i < 50; i++) await barrier.put(`k${i}`, Buffer.from(`v${i}`));
    const reads = Array.from({ length: 50 }, (_, i) => barrier.get(`k${i}`));
    await Promise.all([barrier.rotate(), barrier.rotate()]);
    const values = await Promise.all(reads);
    assert.deepEqual(values.map((v) => v!.toString()), Array.from({ length: 50 }, (_, i) => `v${i}`));
  });

  it('the keyring itself is ciphertext in storage', async () => {
    const { physical, rootKey } = await unsealedBarrier();
    const raw = (await physical.get(KEYRING_PATH))!;
    assert.equal(raw.includes(rootKey), false);
    assert.equal(raw.includes(Buffer.from('root_key')), false);
  });

  it('reopens from durable storage after a restart, rotation included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tresor-barrier-'));
    try {
      const rootKey = randomBytes(32);
      let physical = new FileBackend({ path: dir });
      let barrier = new AesGcmBarrier(physical);
      await barrier.initialize(rootKey);
      await barrier.unseal(rootKey);
      await barrier.put('a', Buffer.from('term one'));
      await barrier.rotate();
      await barrier.put('b', Buffer.from('term two'));
      barrier.seal();
      await physical.close();

      physical = new FileBackend({ path: dir });
      barrier = new AesGcmBarrier(physical);
      await barrier.unseal(rootKey);
      assert.equal(barrier.keyStatus().term, 2);
      assert.equal((await barrier.get('a'))!.toString(), 'term one');
      assert.equal((await barrier.get('b'))!.toString(), 'term two');
      await physical.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
