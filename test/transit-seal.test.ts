/**
 * `seal "transit"` against a second real Tresor server (file storage, so it
 * keeps its transit key across a restart): recovery-key init, auto-unseal on
 * restart, the peer stopped and restarted while the server waits, token
 * renewal, and start-up refusals (missing key, token without permission,
 * missing required key) that name the stanza and leave storage unchanged.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Api, freePort, TestServer } from './helpers/server.ts';

/** Environment that hides any VAULT_* the test runner may carry (empty = unset for the config reader). */
const CLEAN_ENV: NodeJS.ProcessEnv = {
  VAULT_ADDR: '',
  VAULT_TOKEN: '',
  VAULT_SEAL_TYPE: '',
  VAULT_TRANSIT_SEAL_KEY_NAME: '',
  VAULT_TRANSIT_SEAL_MOUNT_PATH: '',
  VAULT_NAMESPACE: '',
  TRESOR_HSM_HEARTBEAT_MS: '300',
};

function peerConfig(port: number): string {
  return `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:${port}"
  tls_disable = true
}
`;
}

function sealedServerConfig(peerPort: number, o: { token?: string; keyName?: string; extra?: string } = {}): string {
  return `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
seal "transit" {
  address    = "http://127.0.0.1:${peerPort}"
  ${o.token ? `token      = "${o.token}"` : ''}
  key_name   = "${o.keyName ?? 'autounseal'}"
  mount_path = "transit/"
  ${o.extra ?? ''}
}
`;
}

/** Every file under `dir` with a hash of its content: "nothing stored changed" is this map staying equal. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Starts a server expected to stop by itself; returns its exit code and output. */
async function expectStartFailure(config: string, env: NodeJS.ProcessEnv, dir?: string): Promise<{ code: number | null; output: string }> {
  let server: TestServer | undefined;
  try {
    server = await TestServer.start({ config, env, dir });
    const info = await server.waitExit(30_000);
    return { code: info.code, output: server.output };
  } catch (err) {
    const message = (err as Error).message;
    const m = /server exited \((\{.*?\})\) before "[^"]*":\n([\s\S]*)$/.exec(message);
    if (!m) throw err;
    return { code: JSON.parse(m[1]).code, output: m[2] };
  } finally {
    await server?.kill();
  }
}

describe('seal "transit" through a second Tresor server', () => {
  let peerPort: number;
  let peer: TestServer;
  let peerApi: Api;
  let peerUnsealKey: string;
  let sealToken: string;
  let main: TestServer | undefined;
  let mainDir: string;
  let recoveryKeys: string[];
  let rootToken: string;

  async function startPeer(dir?: string): Promise<TestServer> {
    const server = await TestServer.start({ config: peerConfig(peerPort), dir, env: CLEAN_ENV });
    return server;
  }

  before(async () => {
    peerPort = await freePort();
    peer = await startPeer();
    peerApi = new Api(`http://127.0.0.1:${peerPort}`);
    const init = await peerApi.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    peerUnsealKey = init.body.keys_base64[0];
    assert.equal((await peerApi.put('sys/unseal', { key: peerUnsealKey })).body.sealed, false);
    peerApi.token = init.body.root_token;
    assert.equal((await peerApi.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    assert.ok([200, 204].includes((await peerApi.post('transit/keys/autounseal', {})).status));
    // Vault's documented policy for the transit seal.
    await peerApi.writePolicy(
      'autounseal',
      'path "transit/encrypt/autounseal" { capabilities = ["update"] }\npath "transit/decrypt/autounseal" { capabilities = ["update"] }',
    );
    await peerApi.writePolicy('encrypt-only', 'path "transit/encrypt/autounseal" { capabilities = ["update"] }');
    sealToken = (await peerApi.createToken({ policies: ['autounseal'], no_default_policy: false, ttl: '24h' })).client_token;
  });

  after(async () => {
    await main?.kill();
    await peer?.kill();
    if (main) main.cleanup();
    peer?.cleanup();
  });

  it('initialises with recovery keys, reports seal type transit and auto-unseals after a restart', async () => {
    main = await TestServer.start({ config: sealedServerConfig(peerPort), env: { ...CLEAN_ENV, VAULT_TOKEN: sealToken } });
    mainDir = main.dir;
    await main.waitFor('transit seal opened', 20_000);
    assert.match(main.output, /Seal Type: transit/);
    const status0 = await main.api.get('sys/seal-status');
    assert.equal(status0.body.type, 'transit');
    assert.equal(status0.body.initialized, false);

    const bad = await main.api.put('sys/init', { secret_shares: 3, recovery_shares: 1, recovery_threshold: 1 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0], /secret_shares not applicable to seal type transit/);

    const init = await main.api.put('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    recoveryKeys = init.body.recovery_keys_base64;
    rootToken = init.body.root_token;
    assert.equal(recoveryKeys.length, 3);
    main.api.token = rootToken;
    await main.until(async () => (await main!.api.get('sys/seal-status')).body.sealed === false, 20_000, 'unsealed after init');
    const status = (await main.api.get('sys/seal-status')).body;
    assert.equal(status.recovery_seal, true);
    assert.equal(status.t, 2);

    assert.equal((await main.api.post('sys/mounts/secret', { type: 'kv', options: { version: '1' }, seal_wrap: true })).status, 204);
    assert.equal((await main.api.put('secret/app', { password: 'p1' })).status, 204);
    const backend = (await main.api.get('sys/seal-backend-status')).body;
    assert.equal(backend.healthy, true);
    assert.equal(backend.backends[0].name, 'transit');

    await main.stop();
    main = await TestServer.start({ config: sealedServerConfig(peerPort), env: { ...CLEAN_ENV, VAULT_TOKEN: sealToken }, dir: mainDir });
    main.api.token = rootToken;
    await main.until(async () => (await main!.api.get('sys/seal-status')).body.sealed === false, 20_000, 'auto-unseal');
    assert.match(main.output, /auto-unsealed through the transit seal/);
    assert.equal((await main.api.get('secret/app')).body.data.password, 'p1');
    // The token never reaches the log.
    assert.ok(!main.output.includes(sealToken), 'seal token in output');
  });

  it('waits with a clear log while the peer is down, then auto-unseals when it returns', async () => {
    await main!.stop();
    const peerDir = peer.dir;
    await peer.stop();

    main = await TestServer.start({ config: sealedServerConfig(peerPort), env: { ...CLEAN_ENV, VAULT_TOKEN: sealToken }, dir: mainDir });
    main.api.token = rootToken;
    await main.waitFor('transit seal not reachable', 20_000);
    assert.match(main.output, /transit seal not reachable \(seal "transit": http:\/\/127\.0\.0\.1:\d+ not reachable: ECONNREFUSED\); retrying in \d+ ms/);
    const st = await main.api.get('sys/seal-status');
    assert.equal(st.status, 200);
    assert.equal(st.body.sealed, true);
    assert.equal(st.body.initialized, true);
    const backend = (await main.api.get('sys/seal-backend-status')).body;
    assert.equal(backend.healthy, false);
    assert.ok(backend.unhealthy_since, 'unhealthy_since');

    peer = await startPeer(peerDir);
    // Sealed peer: the server keeps retrying (503 from the peer is transient).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await main.api.get('sys/seal-status')).body.sealed, true);
    assert.equal((await peerApi.put('sys/unseal', { key: peerUnsealKey })).body.sealed, false);
    await main.until(async () => (await main!.api.get('sys/seal-status')).body.sealed === false, 60_000, 'auto-unseal after peer returned');
    assert.equal((await main.api.get('secret/app')).body.data.password, 'p1');
    assert.equal((await main.api.get('sys/seal-backend-status')).body.healthy, true);
  });

  it('refuses a missing key, a token without decrypt permission and a missing token at start-up, naming the stanza; storage unchanged', async () => {
    await main!.stop();
    const before = snapshot(path.join(mainDir, 'data'));
    assert.ok(Object.keys(before).length > 0);

    // A token allowed on every transit path (an encrypt would have created the key).
    await peerApi.writePolicy('transit-any', 'path "transit/*" { capabilities = ["create", "update"] }');
    const anyToken = (await peerApi.createToken({ policies: ['transit-any'] })).client_token;
    const missingKey = await expectStartFailure(sealedServerConfig(peerPort, { keyName: 'no-such-key' }), { ...CLEAN_ENV, VAULT_TOKEN: anyToken }, mainDir);
    assert.notEqual(missingKey.code, 0);
    assert.match(missingKey.output, /Error initializing seal of type transit: seal "transit": transit key "no-such-key" not found on mount "transit"/);

    const encryptOnly = (await peerApi.createToken({ policies: ['encrypt-only'], no_default_policy: true })).client_token;
    const noPerm = await expectStartFailure(sealedServerConfig(peerPort, { token: encryptOnly }), CLEAN_ENV, mainDir);
    assert.notEqual(noPerm.code, 0);
    assert.match(noPerm.output, /seal "transit": the token lacks permission for transit\/decrypt\/autounseal .*403: permission denied/);
    assert.ok(!noPerm.output.includes(encryptOnly), 'token echoed');

    const noToken = await expectStartFailure(sealedServerConfig(peerPort), CLEAN_ENV, mainDir);
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.output, /seal "transit": missing required key "token" \(or environment variable VAULT_TOKEN\)/);

    // The peer's key was not created by the probe.
    assert.equal((await peerApi.get('transit/keys/no-such-key')).status, 404);
    assert.deepEqual(snapshot(path.join(mainDir, 'data')), before);
  });

  it('renews a renewable token at half its TTL, and not with disable_renewal', async () => {
    const shortToken = (await peerApi.createToken({ policies: ['autounseal'], ttl: '4s' })).client_token;
    main = await TestServer.start({ config: sealedServerConfig(peerPort, { token: shortToken }), env: CLEAN_ENV, dir: mainDir });
    main.api.token = rootToken;
    await main.waitFor('transit seal token renewed', 20_000);
    await main.until(async () => (await main!.api.get('sys/seal-status')).body.sealed === false, 20_000, 'auto-unseal');
    // Well past the original 4 s TTL, the token still works thanks to renewal.
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal((await peerApi.get('auth/token/lookup-self', shortToken)).status, 200);
    await main.stop();

    const other = (await peerApi.createToken({ policies: ['autounseal'], ttl: '4s' })).client_token;
    main = await TestServer.start({
      config: sealedServerConfig(peerPort, { token: other, extra: 'disable_renewal = "true"' }),
      env: CLEAN_ENV,
      dir: mainDir,
    });
    await main.waitFor('transit seal opened', 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(!main.output.includes('token renewed'), main.output);
  });
});

describe('seal migration with the transit seal', () => {
  let peer: TestServer;
  after(async () => {
    await peer?.kill();
    peer?.cleanup();
  });

  it('moves Shamir -> transit -> Shamir with -migrate, every secret readable, recovery keys working', async () => {
    peer = await TestServer.startDev();
    assert.equal((await peer.api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    assert.ok([200, 204].includes((await peer.api.post('transit/keys/autounseal', {})).status));
    const env = { ...CLEAN_ENV, VAULT_TOKEN: 'root' };
    const transitConfig = (disabled: boolean) =>
      sealedServerConfig(peer.port, { extra: disabled ? 'disabled = "true"' : '' });
    const shamirConfig = transitConfig(false).replace(/seal "transit" \{[\s\S]*\}\n$/, '');

    // 1. Shamir with a plain and a seal-wrapped mount.
    let server = await TestServer.start({ config: shamirConfig, env });
    const dir = server.dir;
    const init = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    const keys: string[] = init.body.keys_base64;
    const rootToken = init.body.root_token;
    server.api.token = rootToken;
    for (const k of keys.slice(0, 2)) await server.api.put('sys/unseal', { key: k });
    assert.equal((await server.api.post('sys/mounts/wrapped', { type: 'kv', seal_wrap: true })).status, 200);
    assert.equal((await server.api.put('wrapped/b', { v: 'two' })).status, 204);
    await server.stop();

    try {
      // 2. Transit stanza added: migration pending; the old unseal keys with migrate=true move it.
      server = await TestServer.start({ config: transitConfig(false), env, dir });
      server.api.token = rootToken;
      await server.waitFor('transit seal opened', 20_000);
      let status = (await server.api.get('sys/seal-status')).body;
      assert.deepEqual([status.sealed, status.migration], [true, true]);
      for (const k of keys.slice(1, 3)) await server.api.put('sys/unseal', { key: k, migrate: true });
      status = (await server.api.get('sys/seal-status')).body;
      assert.deepEqual([status.sealed, status.migration, status.type, status.recovery_seal], [false, false, 'transit', true]);
      assert.equal((await server.api.get('wrapped/b')).body.data.v, 'two');
      assert.equal((await server.api.put('wrapped/c', { v: 'three' })).status, 204);
      await server.stop();

      // 3. Restart: auto-unsealed through the peer; the old unseal keys now are recovery keys.
      server = await TestServer.start({ config: transitConfig(false), env, dir });
      server.api.token = rootToken;
      await server.until(async () => (await server.api.get('sys/seal-status')).body.sealed === false, 20_000, 'auto-unseal');
      assert.equal((await server.api.put('sys/seal', {})).status, 204);
      for (const k of keys.slice(0, 2)) await server.api.put('sys/unseal', { key: k });
      assert.equal((await server.api.get('sys/seal-status')).body.sealed, false, 'recovery keys unseal after an operator seal');
      await server.stop();

      // 4. Transit marked disabled: back to Shamir with the recovery keys.
      server = await TestServer.start({ config: transitConfig(true), env, dir });
      server.api.token = rootToken;
      await server.waitFor('transit seal opened', 20_000);
      for (const k of [keys[0], keys[2]]) await server.api.put('sys/unseal', { key: k, migrate: true });
      status = (await server.api.get('sys/seal-status')).body;
      assert.deepEqual([status.sealed, status.type, status.recovery_seal], [false, 'shamir', false]);
      for (const [p, v] of [['wrapped/b', 'two'], ['wrapped/c', 'three']]) assert.equal((await server.api.get(p)).body.data.v, v, p);
      await server.stop();

      // 5. Plain Shamir, peer gone: the same keys unseal it.
      await peer.stop();
      server = await TestServer.start({ config: shamirConfig, env, dir });
      server.api.token = rootToken;
      for (const k of keys.slice(0, 2)) await server.api.put('sys/unseal', { key: k });
      assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
      assert.equal((await server.api.get('wrapped/c')).body.data.v, 'three');
    } finally {
      await server.kill();
      server.cleanup();
    }
  });
});

describe('transit seal on storage sealed by another auto-unseal seal', () => {
  it('stays sealed with a message naming both seal types; storage unchanged', async () => {
    const { createSoftHsmToken, hsmServerConfig } = await import('./helpers/softhsm.ts');
    const token = createSoftHsmToken({ label: 'transit-mismatch' });
    const peer = await TestServer.startDev();
    let server: TestServer | undefined;
    try {
      assert.equal((await peer.api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
      assert.ok([200, 204].includes((await peer.api.post('transit/keys/autounseal', {})).status));
      const hsmEnv = { ...token.env, ...CLEAN_ENV, VAULT_HSM_PIN: token.pin };
      server = await TestServer.start({ config: hsmServerConfig(token), env: hsmEnv });
      await server.waitFor('pkcs11 seal opened', 20_000);
      assert.equal((await server.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 })).status, 200);
      await server.until(async () => (await server!.api.get('sys/seal-status')).body.sealed === false, 20_000, 'unsealed');
      const dir = server.dir;
      await server.stop();
      const before = snapshot(path.join(dir, 'data'));

      server = await TestServer.start({ config: sealedServerConfig(peer.port), env: { ...CLEAN_ENV, VAULT_TOKEN: 'root' }, dir });
      await server.waitFor('storage was sealed by the pkcs11 seal but the configured seal is transit', 20_000);
      const status = (await server.api.get('sys/seal-status')).body;
      assert.deepEqual([status.sealed, status.initialized], [true, true]);
      await server.stop();
      assert.deepEqual(snapshot(path.join(dir, 'data')), before);
    } finally {
      await server?.kill();
      server?.cleanup();
      await peer.kill();
      peer.cleanup();
      token.cleanup();
    }
  });
});

describe('transit seal over TLS', () => {
  it('verifies the peer with tls_ca_cert and tls_server_name, refuses an unverified peer, and tls_skip_verify skips the check', async () => {
    const { execFileSync } = await import('node:child_process');
    const os = await import('node:os');
    const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-transit-tls-'));
    const certFile = path.join(certDir, 'peer.pem');
    const keyFile = path.join(certDir, 'peer.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=peer.test',
      '-addext', 'subjectAltName=DNS:peer.test,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    const peerConfigTls = `listener "tcp" {\n  address = "127.0.0.1:{{PORT}}"\n  tls_cert_file = "${certFile}"\n  tls_key_file = "${keyFile}"\n}\n`;
    const peer = await TestServer.start({ args: ['-dev', '-dev-root-token-id=root'], config: peerConfigTls, env: CLEAN_ENV });
    const servers: TestServer[] = [];
    const transitConfig = (extra: string) =>
      sealedServerConfig(peer.port, { extra }).replace(`http://127.0.0.1:${peer.port}`, `https://127.0.0.1:${peer.port}`);
    const env = { ...CLEAN_ENV, VAULT_TOKEN: 'root' };
    try {
      const peerApi = new Api(`https://127.0.0.1:${peer.port}`, 'root');
      // The test's own client trusts the peer's self-signed certificate for set-up only.
      const tlsOff = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      try {
        assert.equal((await peerApi.post('sys/mounts/transit', { type: 'transit' })).status, 204);
        assert.ok([200, 204].includes((await peerApi.post('transit/keys/autounseal', {})).status));
      } finally {
        if (tlsOff === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = tlsOff;
      }

      for (const extra of [`tls_ca_cert = "${certFile}"`, `tls_ca_cert = "${certFile}"\n  tls_server_name = "peer.test"`, 'tls_skip_verify = "true"']) {
        const server = await TestServer.start({ config: transitConfig(extra), env });
        servers.push(server);
        await server.waitFor('transit seal opened', 20_000);
        const init = await server.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 });
        assert.equal(init.status, 200, `${extra}: ${JSON.stringify(init.body)}`);
        await server.stop();
      }

      const unverified = await expectStartFailure(transitConfig(''), env);
      assert.notEqual(unverified.code, 0);
      assert.match(unverified.output, /Error initializing seal of type transit: seal "transit": TLS to https:\/\/127\.0\.0\.1:\d+ failed: \w*SELF_SIGNED\w*/);
      const wrongName = await expectStartFailure(transitConfig(`tls_ca_cert = "${certFile}"\n  tls_server_name = "other.test"`), env);
      assert.notEqual(wrongName.code, 0);
      assert.match(wrongName.output, /seal "transit": TLS to https:\/\/127\.0\.0\.1:\d+ failed: ERR_TLS_CERT_ALTNAME_INVALID/);
      const missingCa = await expectStartFailure(transitConfig(`tls_ca_cert = "${path.join(certDir, 'absent.pem')}"`), env);
      assert.match(missingCa.output, /seal "transit": cannot read "tls_ca_cert" file: ENOENT/);
    } finally {
      for (const s of servers) {
        await s.kill();
        s.cleanup();
      }
      await peer.kill();
      peer.cleanup();
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });
});
