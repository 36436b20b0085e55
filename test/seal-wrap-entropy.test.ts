import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Core } from '../src/core/core.ts';
import { createHttpServer } from '../src/http/server.ts';
import { InmemBackend } from '../src/storage/inmem.ts';
import { Pkcs11Seal } from '../src/seal/pkcs11/pkcs11-seal.ts';
import { silentLogger } from '../src/logger.ts';
import { Api } from './helpers/server.ts';
import { createSoftHsmToken, softHsmSealConfig } from './helpers/softhsm.ts';

/** A core on its own in-memory storage, served over real HTTP on loopback. */
async function serve(seal: Pkcs11Seal, entropyAugmentation: boolean) {
  const physical = new InmemBackend();
  const core = new Core({ physical, storageType: 'inmem', hsm: seal, entropyAugmentation, logger: silentLogger });
  const http: FastifyInstance = createHttpServer(core, { logger: silentLogger });
  await http.listen({ host: '127.0.0.1', port: 0 });
  const api = new Api(`http://127.0.0.1:${(http.server.address() as { port: number }).port}`);
  const init = await api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  api.token = init.body.root_token;
  return { core, http, api, physical };
}

describe('seal wrap and entropy augmentation (SoftHSM2)', () => {
  const token = createSoftHsmToken({ label: 'wrap-entropy' });
  process.env.SOFTHSM2_CONF = token.conf;
  let seal: Pkcs11Seal;
  let augmented: Awaited<ReturnType<typeof serve>>;
  let plain: Awaited<ReturnType<typeof serve>>;
  const randomCalls = () => seal.stats().random;

  before(async () => {
    seal = await Pkcs11Seal.open(softHsmSealConfig(token, { hmacKeyLabel: 'tresor-hmac' }), {
      logger: silentLogger,
      heartbeatIntervalMs: 200,
      recoveryBackoffCapMs: 200,
    });
  });
  after(async () => {
    await augmented?.http.close();
    await plain?.http.close();
    await seal?.close();
    token.cleanup();
  });

  it('with entropy "seal", init draws the root key, keyring key, recovery key and root token from the HSM', async () => {
    const before = randomCalls();
    augmented = await serve(seal, true);
    assert.ok(randomCalls() - before >= 4, `HSM random calls during init: ${randomCalls() - before}`);
  });

  it('without the entropy stanza, init never asks the HSM for random bytes', async () => {
    const before = randomCalls();
    plain = await serve(seal, false);
    assert.equal(randomCalls() - before, 0);
  });

  it('rotation and token creation use the HSM only under augmentation; KV writes never do', async () => {
    let before = randomCalls();
    assert.equal((await augmented.api.put('sys/rotate')).status, 204);
    assert.equal(randomCalls() - before, 1);
    before = randomCalls();
    assert.equal((await plain.api.put('sys/rotate')).status, 204);
    assert.equal(randomCalls() - before, 0);

    before = randomCalls();
    assert.equal((await augmented.api.post('auth/token/create', { policies: ['default'] })).status, 200);
    assert.ok(randomCalls() - before >= 1);
    before = randomCalls();
    assert.equal((await plain.api.post('auth/token/create', { policies: ['default'] })).status, 200);
    assert.equal(randomCalls() - before, 0);

    assert.equal((await augmented.api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    before = randomCalls();
    assert.equal((await augmented.api.put('kv/a', { v: '1' })).status, 204);
    assert.equal(randomCalls() - before, 0);
  });

  it('key generation draws from the HSM only in mounts with external_entropy_access', async () => {
    const { api } = augmented;
    assert.equal((await api.post('sys/mounts/transit-hsm', { type: 'transit', external_entropy_access: true })).status, 204);
    assert.equal((await api.post('sys/mounts/transit-os', { type: 'transit' })).status, 204);
    let before = randomCalls();
    assert.equal((await api.post('transit-hsm/keys/orders')).status, 200);
    assert.equal((await api.post('transit-hsm/keys/orders/rotate')).status, 200);
    assert.equal(randomCalls() - before, 2);
    before = randomCalls();
    assert.equal((await api.post('transit-os/keys/orders')).status, 200);
    assert.equal((await api.post('transit-os/keys/orders/rotate')).status, 200);
    const enc = await api.post('transit-os/encrypt/orders', { plaintext: Buffer.from('4111 1111 1111 1111').toString('base64') });
    assert.equal(enc.status, 200);
    assert.equal(randomCalls() - before, 0);
    const mounts = (await api.get('sys/mounts')).body.data;
    assert.equal(mounts['transit-hsm/'].external_entropy_access, true);
    assert.equal(mounts['transit-os/'].external_entropy_access, false);
  });

  it('a seal-wrapped value cannot be read from raw storage with the barrier keys alone', async () => {
    const { api, core } = augmented;
    assert.equal((await api.post('sys/mounts/wrapped', { type: 'kv', seal_wrap: true })).status, 204);
    assert.equal((await api.post('sys/mounts/unwrapped', { type: 'kv' })).status, 204);
    const secret = 'correct horse battery staple';
    assert.equal((await api.put('wrapped/s', { v: secret })).status, 204);
    assert.equal((await api.put('unwrapped/s', { v: secret })).status, 204);
    const mounts = (await api.get('sys/mounts')).body.data;

    // Decrypting through the barrier (its keyring, no HSM) yields the plaintext for a normal mount...
    const normal = await core.barrier.get(`logical/${mounts['unwrapped/'].uuid}/s`);
    assert.ok(normal!.toString('utf8').includes(secret));
    // ...but only an HSM-wrapped blob for the seal-wrapped one.
    const wrapped = await core.barrier.get(`logical/${mounts['wrapped/'].uuid}/s`);
    assert.ok(wrapped);
    assert.equal(wrapped![0], 1, 'envelope byte says HSM-wrapped');
    assert.equal(wrapped!.includes(Buffer.from(secret)), false);
    assert.equal(wrapped!.includes(Buffer.from('correct')), false);
    // Through the API (barrier + HSM) it reads back.
    assert.equal((await api.get('wrapped/s')).body.data.v, secret);
  });

  it('with the HSM gone: HSM-dependent writes fail with the PKCS#11 code, other mounts keep working, and it recovers', async () => {
    const { api } = augmented;
    const away = token.tokenDir + '.away';
    fs.renameSync(token.tokenDir, away);
    try {
      await waitFor(async () => (await api.get('sys/seal-backend-status')).body.healthy === false, 'heartbeat to notice');
      const status = (await api.get('sys/seal-backend-status')).body;
      assert.equal(typeof status.unhealthy_since, 'string');

      const wrappedWrite = await api.put('wrapped/t', { v: 'x' });
      assert.ok(wrappedWrite.status >= 500, `seal-wrapped write status ${wrappedWrite.status}`);
      assert.match(wrappedWrite.body.errors[0], /CKR_[A-Z_]+/);

      const tokenCreate = await api.post('auth/token/create', { policies: ['default'] });
      assert.ok(tokenCreate.status >= 500, 'token generation needs HSM entropy under augmentation');
      assert.match(tokenCreate.body.errors[0], /CKR_[A-Z_]+/);

      assert.equal((await api.put('unwrapped/t', { v: 'still fine' })).status, 204);
      assert.equal((await api.get('unwrapped/t')).body.data.v, 'still fine');
      assert.equal((await api.get('kv/a')).body.data.v, '1');
      // A Shamir-style server with no augmentation keeps creating tokens.
      assert.equal((await plain.api.post('auth/token/create', { policies: ['default'] })).status, 200);
    } finally {
      fs.renameSync(away, token.tokenDir);
    }
    await waitFor(async () => (await api.get('sys/seal-backend-status')).body.healthy === true, 'recovery');
    assert.equal((await api.put('wrapped/t', { v: 'back' })).status, 204);
    assert.equal((await api.get('wrapped/t')).body.data.v, 'back');
    assert.equal((await api.get('wrapped/s')).body.data.v, 'correct horse battery staple');
  });
});

async function waitFor(fn: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
