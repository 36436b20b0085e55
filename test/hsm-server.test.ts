/**
 * The real `tresor server` with `seal "pkcs11"` on a fresh SoftHSM2 token:
 * recovery-key init, auto-unseal on restart, operator seal and recovery
 * unseal, HSM loss and return, key label switch, open-time config errors.
 * The PIN is only ever passed through VAULT_HSM_PIN.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { Api, runCli, TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, pkcs11Tool, type HsmServerSealOptions, type SoftHsmToken } from './helpers/softhsm.ts';

function hsmEnv(token: SoftHsmToken, pin = token.pin): NodeJS.ProcessEnv {
  return { ...token.env, VAULT_HSM_PIN: pin, TRESOR_HSM_HEARTBEAT_MS: '300' };
}

/** Starts a server on `token`; unless `opened` is false, waits until the seal has opened the token. */
async function startHsmServer(token: SoftHsmToken, o: HsmServerSealOptions & { dir?: string; pin?: string; opened?: boolean } = {}): Promise<TestServer> {
  const server = await TestServer.start({ config: hsmServerConfig(token, o), env: hsmEnv(token, o.pin), dir: o.dir });
  if (o.opened !== false) await server.waitFor('pkcs11 seal opened', 15_000);
  return server;
}

async function sealed(api: Api): Promise<boolean> {
  return (await api.get('sys/seal-status')).body.sealed;
}

async function initRecovery(api: Api): Promise<{ recovery_keys: string[]; recovery_keys_base64: string[]; root_token: string }> {
  const res = await api.put('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Runs `spawn`-style start expecting the process to exit by itself; returns its exit code and output. */
async function expectStartFailure(token: SoftHsmToken, o: HsmServerSealOptions & { pin?: string }): Promise<{ code: number | null; output: string }> {
  let server: TestServer | undefined;
  try {
    server = await startHsmServer(token, { ...o, opened: false });
    const info = await server.waitExit(20_000);
    return { code: info.code, output: server.output };
  } catch (err) {
    // The process may die before the "server started" banner.
    const message = (err as Error).message;
    const m = /server exited \((\{.*?\})\) before "[^"]*":\n([\s\S]*)$/.exec(message);
    if (!m) throw err;
    return { code: JSON.parse(m[1]).code, output: m[2] };
  } finally {
    await server?.kill();
    server?.cleanup();
  }
}

describe('HSM seal: recovery-key init, auto-unseal, operator seal', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let api: Api;
  let init: Awaited<ReturnType<typeof initRecovery>>;

  before(async () => {
    token = createSoftHsmToken();
    server = await startHsmServer(token);
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    token?.cleanup();
  });

  it('refuses Shamir parameters, a missing recovery_shares and a recovery_pgp_keys mismatch with a 400 naming the parameter', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ secret_shares: 3, recovery_shares: 3, recovery_threshold: 2 }, 'secret_shares'],
      [{ secret_threshold: 2, recovery_shares: 3, recovery_threshold: 2 }, 'secret_threshold'],
      [{ stored_shares: 2, recovery_shares: 3, recovery_threshold: 2 }, 'stored_shares'],
      [{ recovery_threshold: 2 }, 'recovery_shares'],
      [{ recovery_shares: 3, recovery_threshold: 2, recovery_pgp_keys: ['a', 'b'] }, 'recovery_pgp_keys'],
    ];
    for (const [body, name] of cases) {
      const res = await api.put('sys/init', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
      assert.ok(res.body.errors.join(' ').includes(name), `${JSON.stringify(body)}: ${res.body.errors}`);
    }
    assert.deepEqual((await api.get('sys/init')).body, { initialized: false });
  });

  it('init returns recovery keys and empty unseal key lists, and leaves the server unsealed', async () => {
    init = await initRecovery(api);
    const body = init as unknown as Record<string, unknown>;
    assert.deepEqual(body.keys, []);
    assert.deepEqual(body.keys_base64, []);
    assert.equal(init.recovery_keys.length, 3);
    assert.equal(init.recovery_keys_base64.length, 3);
    assert.equal(Buffer.from(init.recovery_keys_base64[0], 'base64').toString('hex'), init.recovery_keys[0]);
    assert.ok(init.root_token.length > 10);
    api.token = init.root_token;

    const s = (await api.get('sys/seal-status')).body;
    assert.equal(s.sealed, false);
    assert.equal(s.type, 'pkcs11');
    assert.equal(s.recovery_seal, true);
    assert.equal(s.recovery_seal_type, 'shamir');
    assert.equal(s.t, 2);
    assert.equal(s.n, 3);
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    assert.equal((await api.put('kv/db', { password: 'hsm-protected' })).status, 204);
  });

  it('`tresor status` shows the recovery seal rows', async () => {
    const res = await runCli(['status'], { addr: api.addr });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Seal Type\s+pkcs11/);
    assert.match(res.stdout, /Recovery Seal Type\s+shamir/);
    assert.match(res.stdout, /Total Recovery Shares\s+3/);
    assert.doesNotMatch(res.stdout, new RegExp(token.pin));
  });

  it('seal-backend-status says where the key lives to a token that may read it, and only Vault\'s fields without one', async () => {
    const withToken = await api.get('sys/seal-backend-status');
    assert.equal(withToken.status, 200);
    const [backend] = withToken.body.backends;
    assert.equal(backend.library, '/usr/lib/softhsm/libsofthsm2.so');
    assert.equal(backend.token_label, token.label);
    assert.equal(backend.key_label, 'tresor-root');
    assert.equal(backend.mechanism, 'CKM_AES_GCM');
    assert.match(backend.key_id, /label=tresor-root/);
    const anonymous = await new Api(api.addr).get('sys/seal-backend-status');
    assert.equal(anonymous.status, 200);
    assert.deepEqual(Object.keys(anonymous.body.backends[0]).sort(), ['healthy', 'name', 'priority', 'type']);
    for (const body of [withToken.body, anonymous.body]) assert.doesNotMatch(JSON.stringify(body), new RegExp(token.pin));
  });

  it('the seal keys in the token are sensitive and not extractable', async () => {
    const listing = pkcs11Tool(token, ['--list-objects']);
    // AES-GCM needs no HMAC key, so the root key is the only object.
    const block = listing.split(/\n(?=\S)/).find((b) => /label:\s+tresor-root\n/.test(b));
    assert.ok(block, `no object labelled tresor-root in:\n${listing}`);
    const access = /Access:\s+(.*)/.exec(block)?.[1] ?? '';
    const flags = access.split(',').map((f) => f.trim());
    assert.ok(flags.includes('sensitive'), access);
    assert.ok(flags.includes('never extractable'), access);
    assert.ok(!flags.includes('extractable'), access);
  });

  it('restarts auto-unsealed with no human step and reads the data back', async () => {
    await server.stop();
    server = await startHsmServer(token, { dir: server.dir });
    api = new Api(server.api.addr, init.root_token);
    await server.until(async () => !(await sealed(api)), 15_000, 'auto-unseal');
    assert.deepEqual((await api.get('kv/db')).body.data, { password: 'hsm-protected' });
  });

  it('sys/seal keeps it sealed until a threshold of recovery keys; a wrong set is a 400', async () => {
    assert.equal((await api.put('sys/seal', {})).status, 204);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await sealed(api), true);

    // Two made-up shares of the right length combine to some other key.
    const fake = (x: number) => Buffer.concat([Buffer.alloc(32, x * 7), Buffer.from([x])]).toString('hex');
    assert.equal((await api.put('sys/unseal', { key: fake(1) })).status, 200);
    const wrong = await api.put('sys/unseal', { key: fake(2) });
    assert.equal(wrong.status, 400);
    assert.ok(wrong.body.errors.length > 0);
    assert.equal(await sealed(api), true);

    const first = await api.put('sys/unseal', { key: init.recovery_keys[2] });
    assert.equal(first.body.progress, 1);
    const second = await api.put('sys/unseal', { key: init.recovery_keys_base64[0] });
    assert.equal(second.status, 200);
    assert.equal(second.body.sealed, false);
    assert.deepEqual((await api.get('kv/db')).body.data, { password: 'hsm-protected' });
  });
});

describe('HSM seal: the token goes away and comes back', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let api: Api;
  let rootToken: string;

  before(async () => {
    token = createSoftHsmToken();
    server = await startHsmServer(token);
    rootToken = (await initRecovery(server.api)).root_token;
    api = new Api(server.api.addr, rootToken);
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    assert.equal((await api.put('kv/a', { v: '1' })).status, 204);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    if (fs.existsSync(token.tokenDir + '.away')) fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    token?.cleanup();
  });

  it('lost while unsealed: seal-backend-status turns unhealthy, kv reads go on, and it recovers when the token returns', async () => {
    fs.renameSync(token.tokenDir, token.tokenDir + '.away');
    let status: any;
    await server.until(
      async () => {
        status = (await api.get('sys/seal-backend-status')).body;
        return status.healthy === false;
      },
      15_000,
      'an unhealthy seal',
    );
    assert.equal(typeof status.unhealthy_since, 'string');
    assert.ok(!Number.isNaN(Date.parse(status.unhealthy_since)));
    assert.deepEqual((await api.get('kv/a')).body.data, { v: '1' });

    fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    await server.until(async () => (await api.get('sys/seal-backend-status')).body.healthy === true, 20_000, 'a healthy seal');
    // Rotation persists the keyring, which the HSM seal-wraps: a real HSM operation.
    assert.equal((await api.put('sys/rotate', {})).status, 204);
    assert.equal((await api.put('kv/b', { v: '2' })).status, 204);
    assert.deepEqual((await api.get('kv/b')).body.data, { v: '2' });
  });

  it('unreachable at start: stays sealed and logs the PKCS#11 error, then auto-unseals when the token returns', async () => {
    await server?.stop();
    fs.renameSync(token.tokenDir, token.tokenDir + '.away');
    server = await startHsmServer(token, { dir: server.dir, opened: false });
    api = new Api(server.api.addr, rootToken);
    await server.until(async () => /CKR_|pkcs11|PKCS#11/.test(server.output.split('server started')[1] ?? ''), 10_000, 'a PKCS#11 error in the log');
    assert.equal(await sealed(api), true);
    assert.equal(server.exitCode, undefined);

    fs.renameSync(token.tokenDir + '.away', token.tokenDir);
    await server.until(async () => !(await sealed(api)), 25_000, 'auto-unseal after the token returned');
    assert.deepEqual((await api.get('kv/a')).body.data, { v: '1' });
    assert.doesNotMatch(server.output, new RegExp(`\\b${token.pin}\\b`));
  });
});

describe('HSM seal: key label switch', () => {
  let token: SoftHsmToken;
  let server: TestServer | undefined;
  let dir: string;

  before(() => {
    token = createSoftHsmToken();
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    token?.cleanup();
  });

  it('a new key_label still unseals the old blob and re-wraps it under the new key', async () => {
    server = await startHsmServer(token, { keyLabel: 'label-a' });
    dir = server.dir;
    const root = (await initRecovery(server.api)).root_token;
    const api = new Api(server.api.addr, root);
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    assert.equal((await api.put('kv/k', { v: 'x' })).status, 204);
    await server?.stop();

    server = await startHsmServer(token, { keyLabel: 'label-b', dir });
    const apiB = new Api(server.api.addr, root);
    await server.until(async () => !(await sealed(apiB)), 15_000, 'auto-unseal with label-b');
    await server.waitFor('re-wrapped', 5000);
    assert.deepEqual((await apiB.get('kv/k')).body.data, { v: 'x' });
    await server?.stop();

    server = await startHsmServer(token, { keyLabel: 'label-b', dir });
    const again = new Api(server.api.addr, root);
    await server.until(async () => !(await sealed(again)), 15_000, 'auto-unseal after the re-wrap');
    assert.doesNotMatch(server.output, /re-wrapped/);
    assert.deepEqual((await again.get('kv/k')).body.data, { v: 'x' });
  });
});

describe('HSM seal: configuration mistakes', { concurrency: true }, () => {
  let token: SoftHsmToken;
  before(() => {
    token = createSoftHsmToken({ pin: '918273' });
  });
  after(() => token?.cleanup());

  it('an init sent the moment the server starts waits for the seal to open instead of failing', async () => {
    const fresh = createSoftHsmToken({ label: 'early-init' });
    const server = await startHsmServer(fresh, { opened: false });
    try {
      const res = await server.api.put('sys/init', { recovery_shares: 1, recovery_threshold: 1 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(await sealed(server.api), false);
    } finally {
      await server.kill();
      server.cleanup();
      fresh.cleanup();
    }
  });

  it('generate_key false with no key: init is refused with a clear 400 and nothing is initialised', async () => {
    const server = await startHsmServer(token, { generateKey: false, keyLabel: 'absent-key' });
    try {
      await server.until(async () => (await server.api.get('sys/seal-status')).status === 200, 10_000, 'seal-status');
      const res = await server.api.put('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.errors.join(' '), /key_label|generate_key/);
      assert.deepEqual((await server.api.get('sys/init')).body, { initialized: false });
    } finally {
      await server?.kill();
      server.cleanup();
    }
  });

  it('a wrong PIN stops the process naming the PIN problem without printing the PIN', async () => {
    const wrongPin = '555999111';
    const { code, output } = await expectStartFailure(token, { pin: wrongPin });
    assert.notEqual(code, 0);
    assert.match(output, /CKR_PIN_INCORRECT|\bpin\b/i);
    // Only the error: no banner claiming the server started.
    assert.doesNotMatch(output, /server started/i);
    assert.ok(!output.includes(wrongPin), output);
    assert.ok(!output.includes(token.pin), output);
  });

  it('a wrong lib path stops the process naming `lib`', async () => {
    const { code, output } = await expectStartFailure(token, { lib: '/nonexistent/libnothing.so' });
    assert.notEqual(code, 0);
    assert.match(output, /\blib\b/);
  });

  it('an unknown token_label stops the process naming it', async () => {
    const { code, output } = await expectStartFailure(token, { tokenLabel: 'no-such-token' });
    assert.notEqual(code, 0);
    assert.match(output, /token_label/);
    assert.match(output, /no-such-token/);
  });
});
