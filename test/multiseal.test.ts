/**
 * enable_multiseal with two real SoftHSM2 tokens (one AES-GCM, one
 * AES-CBC + HMAC): the root key and seal-wrapped values are wrapped under
 * both; with the first token's directory taken away the server still
 * auto-unseals on the second and reports the lost one. Each pkcs11 seal loads
 * its own copy of libsofthsm2.so so the two do not share one library state.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, SHAMIR_FILE_CONFIG, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, SOFTHSM_LIB, type SoftHsmToken } from './helpers/softhsm.ts';

function tokenDirOf(token: SoftHsmToken, label: string): string {
  for (const entry of fs.readdirSync(token.tokenDir)) {
    const dir = path.join(token.tokenDir, entry);
    for (const file of fs.readdirSync(dir)) {
      if (fs.readFileSync(path.join(dir, file)).includes(Buffer.from(label))) return dir;
    }
  }
  throw new Error(`no token directory holds label ${label}`);
}

describe('multiseal over two SoftHSM2 tokens', () => {
  let token: SoftHsmToken;
  let server: TestServer | undefined;
  let config: string;
  let dir: string;
  let rootToken: string;

  before(() => {
    token = createSoftHsmToken({ label: 'hsm-a' });
    // A second token in the same token directory.
    execFileSync(path.join(ROOT, 'scripts', 'softhsm-token.sh'), [token.dir, 'hsm-b'], {
      env: { ...process.env, TRESOR_SOFTHSM_PIN: token.pin, TRESOR_SOFTHSM_SO_PIN: token.soPin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    fs.copyFileSync(SOFTHSM_LIB, path.join(token.dir, 'liba.so'));
    fs.copyFileSync(SOFTHSM_LIB, path.join(token.dir, 'libb.so'));
    config = `enable_multiseal = true
${SHAMIR_FILE_CONFIG}
seal "pkcs11" {
  name         = "hsm-a"
  priority     = 1
  lib          = "${path.join(token.dir, 'liba.so')}"
  token_label  = "hsm-a"
  key_label    = "root-a"
  generate_key = "true"
}
seal "pkcs11" {
  name           = "hsm-b"
  priority       = 2
  lib            = "${path.join(token.dir, 'libb.so')}"
  token_label    = "hsm-b"
  key_label      = "root-b"
  hmac_key_label = "hmac-b"
  mechanism      = "CKM_AES_CBC_PAD"
  generate_key   = "true"
}
`;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    token?.cleanup();
  });

  const env = () => ({ ...token.env, VAULT_HSM_PIN: token.pin, TRESOR_HSM_HEARTBEAT_MS: '300' });

  it('initialises with recovery keys and lists both seals, healthy, in seal-status and seal-backend-status', async () => {
    server = await TestServer.start({ config, env: env() });
    dir = server.dir;
    await server.until(async () => (server!.output.match(/pkcs11 seal opened/g) ?? []).length === 2, 20_000, 'both seals open');
    const api = server.api;
    const init = await api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    rootToken = init.body.root_token;
    api.token = rootToken;
    const status = (await api.get('sys/seal-status')).body;
    assert.equal(status.sealed, false);
    assert.equal(status.type, 'multiseal');
    assert.deepEqual(
      status.seals.map((s: any) => [s.name, s.type, s.priority, s.healthy]),
      [['hsm-a', 'pkcs11', 1, true], ['hsm-b', 'pkcs11', 2, true]],
    );
    const backend = (await api.get('sys/seal-backend-status')).body;
    assert.equal(backend.healthy, true);
    assert.deepEqual(backend.backends.map((b: any) => [b.name, b.type, b.priority, b.healthy]), [['hsm-a', 'pkcs11', 1, true], ['hsm-b', 'pkcs11', 2, true]]);
    assert.equal((await api.post('sys/mounts/wrapped', { type: 'kv', seal_wrap: true })).status, 204);
    assert.equal((await api.put('wrapped/db', { password: 'hunter2' })).status, 204);
    assert.equal((await api.get('wrapped/db')).body.data.password, 'hunter2');
  });

  it('restarts and auto-unseals with both tokens', async () => {
    await server!.stop();
    server = await TestServer.start({ config, env: env(), dir });
    await server.waitFor('auto-unsealed through the multiseal seal', 20_000);
    server.api.token = rootToken;
    assert.equal((await server.api.get('wrapped/db')).body.data.password, 'hunter2');
  });

  it('with the first token directory taken away, still auto-unseals on the second and reports the first unhealthy', async () => {
    await server!.stop();
    const gone = tokenDirOf(token, 'hsm-a');
    const away = path.join(token.dir, 'token-a-away');
    fs.renameSync(gone, away);
    server = await TestServer.start({ config, env: env(), dir });
    await server.waitFor('auto-unsealed through the multiseal seal', 30_000);
    // The log is JSON lines in server mode: quotes inside a message are escaped.
    assert.match(server.output.replaceAll('\\"', '"'), /multiseal member "hsm-a" \(seal "pkcs11"\) cannot be opened/);
    server.api.token = rootToken;
    assert.equal((await server.api.get('wrapped/db')).body.data.password, 'hunter2');
    const backend = (await server.api.get('sys/seal-backend-status')).body;
    assert.equal(backend.healthy, false);
    const byName = Object.fromEntries(backend.backends.map((b: any) => [b.name, b]));
    assert.equal(byName['hsm-a'].healthy, false);
    assert.ok(byName['hsm-a'].unhealthy_since);
    assert.equal(byName['hsm-b'].healthy, true);
    // Writes go on, wrapped under the healthy seal.
    assert.equal((await server.api.put('wrapped/during', { v: '1' })).status, 204);
    assert.equal((await server.api.get('wrapped/during')).body.data.v, '1');
    fs.renameSync(away, gone);
  });

  it('refuses at start-up two seals with one name, one priority twice, and two stanzas without enable_multiseal, leaving storage as it was', async () => {
    const snapshot = () => fs.readdirSync(path.join(dir, 'data')).filter((f) => !f.endsWith('-shm') && !f.endsWith('-wal')).map((f) => [f, fs.readFileSync(path.join(dir, 'data', f)).toString('base64')]);
    await server!.stop();
    const before = snapshot();
    const cases: [string, RegExp][] = [
      [config.replace('name           = "hsm-b"', 'name           = "hsm-a"'), /seal "pkcs11" \(name "hsm-a"\): another seal stanza already has the name "hsm-a"/],
      [config.replace('priority       = 2', 'priority       = 1'), /seal "pkcs11" \(name "hsm-b"\): priority 1 is also the priority of seal "hsm-a"/],
      [config.replace('enable_multiseal = true', ''), /seal "pkcs11" \(name "hsm-b"\): with two seal stanzas exactly one must have disabled/],
    ];
    for (const [text, expected] of cases) {
      let output = '';
      try {
        const s = await TestServer.start({ config: text, env: env(), dir });
        await s.waitExit(15_000).catch(async () => s.kill());
        output = s.output;
      } catch (err) {
        output = (err as Error).message;
      }
      assert.match(output, expected);
      assert.ok(!output.includes(token.pin + '\n'), 'no PIN in the output');
    }
    assert.deepEqual(snapshot(), before);
  });
});
