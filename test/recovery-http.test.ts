/**
 * generate-root and rekey over HTTP against a real `tresor server` child
 * process (Shamir seal, file storage in a temp dir).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer, type Api } from './helpers/server.ts';
import { decodeToken } from '../src/core/otp.ts';

let server: TestServer;
let api: Api;
let keys: string[];
let rootToken: string;

async function unseal(with_: string[]): Promise<void> {
  for (const key of with_) await api.put('sys/unseal', { key });
  assert.equal((await api.get('sys/seal-status')).body.sealed, false);
}

before(async () => {
  server = await TestServer.start();
  api = server.api;
  const init = await api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  keys = init.body.keys;
  rootToken = init.body.root_token;
});

after(async () => {
  await server.stop();
  server.cleanup();
});

describe('generate-root over HTTP', () => {
  it('answers 503 while sealed', async () => {
    const res = await api.get('sys/generate-root/attempt');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.errors, ['Vault is sealed']);
  });

  it('needs no token: OTP start, nonce-checked updates, decoded token works', async () => {
    await unseal(keys.slice(0, 2));
    const start = await api.put('sys/generate-root/attempt', {});
    assert.equal(start.status, 200);
    assert.equal(start.body.otp_length, 28);
    assert.match(start.body.otp, /^[A-Za-z0-9]{28}$/);

    const again = await api.put('sys/generate-root/attempt', {});
    assert.equal(again.status, 400);
    assert.match(again.body.errors[0], /already in progress/);

    const wrongNonce = await api.put('sys/generate-root/update', { key: keys[0], nonce: 'nope' });
    assert.equal(wrongNonce.status, 400);
    const first = await api.put('sys/generate-root/update', { key: keys[0], nonce: start.body.nonce });
    assert.equal(first.status, 200);
    assert.equal(first.body.progress, 1);
    const done = await api.post('sys/generate-root/update', { key: keys[2], nonce: start.body.nonce });
    assert.equal(done.status, 200);
    assert.equal(done.body.complete, true);
    const token = decodeToken(done.body.encoded_token, start.body.otp);
    const lookup = await api.get('auth/token/lookup-self', token);
    assert.equal(lookup.status, 200);
    assert.deepEqual(lookup.body.data.policies, ['root']);
  });

  it('DELETE attempt with the attempt\'s nonce cancels with 204', async () => {
    const start = await api.put('sys/generate-root/attempt', {});
    const del = await api.delete('sys/generate-root/attempt', { nonce: start.body.nonce });
    assert.equal(del.status, 204);
    assert.equal((await api.get('sys/generate-root/attempt')).body.started, false);
  });
});

describe('rekey over HTTP', () => {
  it('cancel needs the nonce; backups need a sudo token', async () => {
    const start = await api.put('sys/rekey/init', { secret_shares: 2, secret_threshold: 2 });
    assert.equal(start.status, 200);
    assert.equal((await api.delete('sys/rekey/init')).status, 400);
    assert.equal((await api.delete('sys/rekey/init', { nonce: 'guess' })).status, 400);
    assert.equal((await api.delete('sys/rekey/init', { nonce: start.body.nonce })).status, 204);

    assert.equal((await api.get('sys/rekey/backup')).status, 403);
    const noBackup = await api.get('sys/rekey/backup', rootToken);
    assert.equal(noBackup.status, 400);
    assert.deepEqual(noBackup.body, { errors: ['no backed-up keys found'] });
    assert.equal((await api.delete('sys/rekey/backup', undefined, rootToken)).status, 204);
    assert.equal((await api.get('sys/rekey-recovery-key/init')).status, 400);
  });

  it('a completed rekey survives a restart: the new keys unseal, the old ones do not', async () => {
    const start = await api.put('sys/rekey/init', { secret_shares: 4, secret_threshold: 3 });
    await api.put('sys/rekey/update', { key: keys[1], nonce: start.body.nonce });
    const done = await api.put('sys/rekey/update', { key: keys[2], nonce: start.body.nonce });
    assert.equal(done.status, 200);
    assert.equal(done.body.complete, true);
    assert.equal(done.body.keys.length, 4);

    await server.stop();
    server = await TestServer.start({ dir: server.dir });
    api = server.api;
    const status = (await api.get('sys/seal-status')).body;
    assert.deepEqual({ sealed: status.sealed, t: status.t, n: status.n }, { sealed: true, t: 3, n: 4 });
    await api.put('sys/unseal', { key: keys[0] });
    const oldKeys = await api.put('sys/unseal', { key: keys[1] });
    assert.equal(oldKeys.status, 200);
    await api.put('sys/unseal', { key: keys[2] });
    assert.equal((await api.get('sys/seal-status')).body.sealed, true, 'old keys must not unseal');
    await api.put('sys/unseal', { reset: true });
    await unseal(done.body.keys.slice(1));
  });
});
