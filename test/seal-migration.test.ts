import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SHAMIR_FILE_CONFIG, TestServer, runCli } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig } from './helpers/softhsm.ts';

describe('seal migration', () => {
  const token = createSoftHsmToken({ label: 'migration' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-migrate-'));
  const env = { ...token.env, VAULT_HSM_PIN: token.pin };
  after(() => {
    token.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('moves Shamir -> pkcs11 -> Shamir with every secret readable', async () => {
    // 1. A Shamir server with data in a plain and a seal-wrapped mount.
    let server = await TestServer.start({ dir, config: SHAMIR_FILE_CONFIG, env });
    const init = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.status, 200);
    const keys: string[] = init.body.keys_base64;
    const api = server.api;
    api.token = init.body.root_token;
    for (const k of keys.slice(0, 2)) await api.put('sys/unseal', { key: k });
    assert.equal((await api.post('sys/mounts/plain', { type: 'kv' })).status, 204);
    assert.equal((await api.post('sys/mounts/wrapped', { type: 'kv', seal_wrap: true })).status, 200);
    assert.equal((await api.put('plain/a', { v: 'one' })).status, 204);
    assert.equal((await api.put('wrapped/b', { v: 'two' })).status, 204);
    await server.stop();

    // 2. Config now names the pkcs11 seal: sealed, migration pending; a plain unseal is refused.
    server = await TestServer.start({ dir, config: hsmServerConfig(token), env });
    server.api.token = api.token;
    let status = (await server.api.get('sys/seal-status')).body;
    assert.equal(status.sealed, true);
    assert.equal(status.migration, true);
    const plainUnseal = await server.api.put('sys/unseal', { key: keys[0] });
    assert.equal(plainUnseal.status, 400);
    assert.match(plainUnseal.body.errors[0], /migrat/);
    // Wrong shares first: refused, nothing changed, and the right ones still work afterwards.
    const other = await TestServer.start({ config: SHAMIR_FILE_CONFIG });
    const otherKeys: string[] = (await other.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 })).body.keys_base64;
    await other.stop();
    other.cleanup();
    await server.api.put('sys/unseal', { key: otherKeys[0], migrate: true });
    assert.equal((await server.api.put('sys/unseal', { key: otherKeys[1], migrate: true })).status, 400);
    assert.equal((await server.api.get('sys/seal-status')).body.migration, true);
    // The CLI's -migrate flag, with the old unseal keys.
    for (const k of keys.slice(1, 3)) {
      const r = await runCli(['operator', 'unseal', '-migrate', k], { addr: server.api.addr });
      assert.equal(r.code === 0 || r.code === 2, true, r.stderr);
    }
    status = (await server.api.get('sys/seal-status')).body;
    assert.equal(status.sealed, false);
    assert.equal(status.migration, false);
    assert.equal(status.type, 'pkcs11');
    assert.equal(status.recovery_seal, true);
    assert.deepEqual([status.t, status.n], [2, 3]);
    assert.equal((await server.api.get('plain/a')).body.data.v, 'one');
    assert.equal((await server.api.get('wrapped/b')).body.data.v, 'two');
    assert.equal((await server.api.put('wrapped/c', { v: 'three' })).status, 204);
    await server.stop();

    // 3. Restart: auto-unsealed through the HSM.
    server = await TestServer.start({ dir, config: hsmServerConfig(token), env });
    server.api.token = api.token;
    await server.until(async () => (await server.api.get('sys/seal-status')).body.sealed === false, 20_000, 'auto-unseal');
    assert.equal((await server.api.get('wrapped/c')).body.data.v, 'three');
    await server.stop();

    // 4. pkcs11 marked disabled, no other seal: back to Shamir with the recovery keys.
    server = await TestServer.start({ dir, config: hsmServerConfig(token, { disabled: true }), env });
    server.api.token = api.token;
    status = (await server.api.get('sys/seal-status')).body;
    assert.equal(status.sealed, true);
    assert.equal(status.migration, true);
    for (const k of [keys[0], keys[2]]) await server.api.put('sys/unseal', { key: k, migrate: true });
    status = (await server.api.get('sys/seal-status')).body;
    assert.equal(status.sealed, false);
    assert.equal(status.type, 'shamir');
    assert.equal(status.recovery_seal, false);
    for (const [p, v] of [['plain/a', 'one'], ['wrapped/b', 'two'], ['wrapped/c', 'three']]) {
      assert.equal((await server.api.get(p)).body.data.v, v, p);
    }
    await server.stop();

    // 5. A plain Shamir restart: the same keys unseal it, with no HSM configured at all.
    server = await TestServer.start({ dir, config: SHAMIR_FILE_CONFIG });
    server.api.token = api.token;
    for (const k of keys.slice(0, 2)) await server.api.put('sys/unseal', { key: k });
    assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
    assert.equal((await server.api.get('wrapped/c')).body.data.v, 'three');
    await server.stop();
  });
});
