/**
 * Security fixes around operations, each reproduced as the attack over HTTP
 * against real `tresor server` child processes and shown refused:
 * mounting the token store or system backend as a secrets engine;
 * locking operators out of generate-root and rekey, or wiping their
 * progress, from one anonymous client (CVE-2026-5807 style), and the
 * listener options that switch those endpoints off; transit ignoring
 * associated_data; sys/init wiping a store that lost its seal config; and
 * the SoftHSM2 token script putting PINs on command lines.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../src/storage/file.ts';
import { Api, ROOT, TestServer, type ApiResponse } from './helpers/server.ts';
import { SOFTHSM_LIB } from './helpers/softhsm.ts';

/** One API call from a chosen loopback source address (another client, as far as the server can tell). */
function callFrom(localAddress: string, server: TestServer, method: string, apiPath: string, body?: unknown): Promise<ApiResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        localAddress,
        method,
        path: `/v1/${apiPath}`,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** An initialised, unsealed Shamir server on file storage (3 shares, threshold 2). */
async function startShamir(config?: string): Promise<{ server: TestServer; keys: string[]; rootToken: string }> {
  const server = await TestServer.start(config ? { config } : {});
  const init = await server.api.put('sys/init', { secret_shares: 3, secret_threshold: 2 });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  for (const key of init.body.keys.slice(0, 2)) assert.equal((await server.api.put('sys/unseal', { key })).status, 200);
  assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
  return { server, keys: init.body.keys, rootToken: init.body.root_token };
}

describe('only real secrets engines can be mounted (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  let teamToken: string;
  let victim: { client_token: string; accessor: string };

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    const policy = [
      'path "sys/mounts/team/*" { capabilities = ["create", "read", "update", "delete", "sudo"] }',
      'path "team/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }',
    ].join('\n');
    assert.equal((await api.put('sys/policies/acl/team-admin', { policy })).status, 204);
    const team = await api.post('auth/token/create', { policies: ['team-admin'] });
    teamToken = team.body.auth.client_token;
    const other = await api.post('auth/token/create', { policies: ['default'], meta: { owner: 'someone-else' } });
    victim = other.body.auth;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  const mounts = async () => (await api.get('sys/mounts')).body.data as Record<string, any>;

  it('the attack: a team admin mounting the token store under team/ is refused with Vault\'s 403, nothing is mounted, other tokens are intact', async () => {
    // What the team token may not do directly...
    assert.equal((await api.post('auth/token/lookup-accessor', { accessor: victim.accessor }, teamToken)).status, 403);
    // ...it tries through a copy of the token store under its own prefix.
    const attack = await api.post('sys/mounts/team/token', { type: 'token' }, teamToken);
    assert.equal(attack.status, 403, JSON.stringify(attack.body));
    assert.deepEqual(attack.body, { errors: ['mount type of "token" is not mountable'] });
    assert.equal((await mounts())['team/token/'], undefined);

    for (const op of ['lookup-accessor', 'revoke-accessor']) {
      const res = await api.post(`team/token/${op}`, { accessor: victim.accessor }, teamToken);
      assert.equal(res.status, 404, `${op}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.data, undefined);
    }
    const still = await api.get('auth/token/lookup-self', victim.client_token);
    assert.equal(still.status, 200, 'the victim token still works');
    assert.deepEqual(still.body.data.meta, { owner: 'someone-else' });
  });

  it('system, identity and cubbyhole are not mountable either (403, also for root); unknown types are Vault\'s catalog 400', async () => {
    for (const type of ['system', 'identity', 'cubbyhole', 'token']) {
      for (const token of [teamToken, 'root']) {
        const res = await api.post(`sys/mounts/team/${type}`, { type }, token);
        assert.equal(res.status, 403, `${type}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body, { errors: [`mount type of "${type}" is not mountable`] });
      }
    }
    const unknown = await api.post('sys/mounts/team/pki', { type: 'pki' }, teamToken);
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body, { errors: ['plugin not found in the catalog: pki'] });
    const table = await mounts();
    assert.deepEqual(Object.keys(table).filter((p) => p.startsWith('team/')), []);
    assert.equal(table['sys/'].type, 'system');
    assert.equal(table['identity/'].type, 'identity');
  });

  it('kv, generic (kv version 1, as in Vault) and transit mount; generic takes no version option', async () => {
    assert.equal((await api.post('sys/mounts/team/kv', { type: 'kv' }, teamToken)).status, 204);
    assert.equal((await api.post('sys/mounts/team/transit', { type: 'transit' }, teamToken)).status, 204);
    const generic = await api.post('sys/mounts/team/generic', { type: 'generic' }, teamToken);
    assert.equal(generic.status, 204, JSON.stringify(generic.body));
    const versioned = await api.post('sys/mounts/team/generic2', { type: 'generic', options: { version: '2' } }, teamToken);
    assert.equal(versioned.status, 400);
    assert.deepEqual(versioned.body, { errors: ['secrets engine "generic" does not allow setting a version'] });
    const table = await mounts();
    assert.equal(table['team/generic/'].type, 'generic');
    assert.equal(table['team/generic2/'], undefined);
    assert.equal((await api.put('team/generic/app', { password: 'p1' }, teamToken)).status, 204);
    assert.deepEqual((await api.get('team/generic/app', teamToken)).body.data, { password: 'p1' });
    assert.equal((await api.post('team/transit/keys/k', {}, teamToken)).status, 200);
  });

  it('sys/remount moves none of the system mounts', async () => {
    const before = await mounts();
    for (const from of ['sys', 'auth/token', 'cubbyhole', 'identity']) {
      const res = await api.post('sys/remount', { from, to: `moved-${from.replace('/', '-')}` });
      assert.equal(res.status, 400, `${from}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errors.length, 1);
    }
    const afterTable = await mounts();
    assert.deepEqual(Object.keys(afterTable).sort(), Object.keys(before).sort());
    assert.equal((await api.get('auth/token/lookup-self')).status, 200, 'the token store still answers at auth/token/');
  });
});

describe('generate-root and rekey cannot be locked out or wiped by an anonymous client', () => {
  let server: TestServer;
  let keys: string[];
  const ATTACKER = '127.0.0.1';
  const OPERATOR = '127.0.0.2';

  before(async () => {
    ({ server, keys } = await startShamir());
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  for (const [kind, attemptPath, startBody] of [
    ['generate-root', 'sys/generate-root/attempt', {}],
    ['rekey', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 }],
  ] as const) {
    it(`${kind}: a client looping start+cancel exhausts only its own address's limit; an operator elsewhere still starts, and the looper cannot cancel it`, async () => {
      let limited: ApiResponse | undefined;
      for (let i = 0; i < 12 && !limited; i++) {
        const start = await callFrom(ATTACKER, server, 'PUT', attemptPath, startBody);
        if (start.status === 429) {
          limited = start;
          break;
        }
        assert.equal(start.status, 200, JSON.stringify(start.body));
        const cancel = await callFrom(ATTACKER, server, 'DELETE', attemptPath, { nonce: start.body.nonce });
        if (cancel.status === 429) limited = cancel;
        else assert.equal(cancel.status, 204, JSON.stringify(cancel.body));
      }
      assert.ok(limited, 'the looping client is limited');
      assert.equal(limited.status, 429);
      assert.match(limited.body.errors[0], /too many .* attempts started or cancelled from this address/);
      assert.equal((await callFrom(ATTACKER, server, 'PUT', attemptPath, startBody)).status, 429);

      const operator = await callFrom(OPERATOR, server, 'PUT', attemptPath, startBody);
      assert.equal(operator.status, 200, `the operator is not locked out: ${JSON.stringify(operator.body)}`);
      const update = kind === 'generate-root' ? 'sys/generate-root/update' : 'sys/rekey/update';
      assert.equal((await callFrom(OPERATOR, server, 'PUT', update, { key: keys[0], nonce: operator.body.nonce })).status, 200);

      // The looper can read the nonce (the status is public, as in Vault) but may neither cancel nor replace the attempt.
      const status = await callFrom(ATTACKER, server, 'GET', attemptPath);
      assert.equal(status.body.nonce, operator.body.nonce);
      assert.equal((await callFrom(ATTACKER, server, 'DELETE', attemptPath, { nonce: status.body.nonce })).status, 429);
      const replace = await callFrom(OPERATOR, server, 'PUT', attemptPath, startBody);
      assert.equal(replace.status, 400, 'a start never replaces an attempt in progress');
      assert.deepEqual(replace.body, { errors: [kind === 'generate-root' ? 'root generation already in progress' : 'rekey already in progress'] });
      const kept = await server.api.get(attemptPath);
      assert.equal(kept.body.nonce, operator.body.nonce);
      assert.equal(kept.body.progress, 1);

      assert.equal((await callFrom(OPERATOR, server, 'DELETE', attemptPath, { nonce: operator.body.nonce })).status, 204);
    });
  }

  it('generate-root cancel without the nonce or with a wrong one is a 400; the attempt and its progress remain', async () => {
    const start = await callFrom('127.0.0.3', server, 'PUT', 'sys/generate-root/attempt', {});
    assert.equal(start.status, 200);
    assert.equal((await server.api.put('sys/generate-root/update', { key: keys[1], nonce: start.body.nonce })).body.progress, 1);
    const missing = await callFrom('127.0.0.4', server, 'DELETE', 'sys/generate-root/attempt');
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, { errors: ["'nonce' must be specified for this root generation operation"] });
    const wrong = await callFrom('127.0.0.4', server, 'DELETE', 'sys/generate-root/attempt', { nonce: 'a-guessed-nonce' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body, { errors: ['incorrect nonce supplied for this root generation operation'] });
    const rekeyWrong = await callFrom('127.0.0.4', server, 'DELETE', 'sys/rekey/init', { nonce: 'a-guessed-nonce' });
    assert.equal(rekeyWrong.status, 204, 'no rekey in progress: nothing to cancel');

    const kept = await server.api.get('sys/generate-root/attempt');
    assert.equal(kept.body.started, true);
    assert.equal(kept.body.nonce, start.body.nonce);
    assert.equal(kept.body.progress, 1);
    // The key holders carry on and finish.
    const done = await server.api.put('sys/generate-root/update', { key: keys[2], nonce: start.body.nonce });
    assert.equal(done.body.complete, true);
  });

  it('starts, cancels and refusals are logged with the client address, without keys, OTPs or the guessed nonce', async () => {
    const log = server.output;
    assert.match(log, /generate-root: attempt started \(nonce [0-9a-f-]+, OTP\) from 127\.0\.0\.2/);
    assert.match(log, /generate-root: attempt cancelled \(nonce [0-9a-f-]+\) from 127\.0\.0\.1/);
    assert.match(log, /generate-root: start refused from 127\.0\.0\.1: too many starts and cancels from this address/);
    assert.match(log, /generate-root: start refused from 127\.0\.0\.2: an attempt is already in progress/);
    assert.match(log, /generate-root: cancel from 127\.0\.0\.4 refused: no nonce given/);
    assert.match(log, /generate-root: cancel from 127\.0\.0\.4 refused: wrong nonce given/);
    assert.match(log, /rekey: start refused from 127\.0\.0\.1: too many starts and cancels/);
    for (const secret of [...keys, 'a-guessed-nonce']) assert.ok(!log.includes(secret), 'no key material or guessed nonce in the log');
  });
});

describe('listener options disable_unauthed_rekey_endpoints and disable_unauthed_generate_root_endpoints', () => {
  let server: TestServer;
  let rootToken: string;

  before(async () => {
    const config = `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
  disable_unauthed_rekey_endpoints         = true
  disable_unauthed_generate_root_endpoints = "true"
}
`;
    ({ server, rootToken } = await startShamir(config));
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('refuses every unauthenticated rekey and generate-root endpoint with 405; nothing starts; the sudo backup endpoints still answer', async () => {
    const cases: [string, string, unknown?][] = [
      ['GET', 'sys/rekey/init'],
      ['PUT', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 }],
      ['DELETE', 'sys/rekey/init', { nonce: 'x' }],
      ['PUT', 'sys/rekey/update', { key: 'abcd', nonce: 'x' }],
      ['GET', 'sys/rekey/verify'],
      ['PUT', 'sys/rekey-recovery-key/init', { secret_shares: 1, secret_threshold: 1 }],
      ['GET', 'sys/generate-root/attempt'],
      ['PUT', 'sys/generate-root/attempt', {}],
      ['DELETE', 'sys/generate-root/attempt', { nonce: 'x' }],
      ['PUT', 'sys/generate-root/update', { key: 'abcd', nonce: 'x' }],
    ];
    for (const [method, path, body] of cases) {
      for (const token of [undefined, rootToken]) {
        const res = await server.api.call(method, path, body, token);
        assert.equal(res.status, 405, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.errors[0], /unauthenticated (rekey|generate-root) endpoints are disabled on this listener/);
      }
    }
    assert.equal((await server.api.get('sys/rekey/backup', rootToken)).status, 400, 'no backup stored, but the route answers (Vault: no backed-up keys found)');
    assert.equal((await server.api.get('sys/rekey/backup')).status, 403);
    assert.match(server.output, /http: refused PUT sys\/rekey\/init from 127\.0\.0\.1: disabled on this listener/);
    assert.doesNotMatch(server.output, /rekey: started|generate-root: attempt started/);
  });
});

describe('transit binds associated_data (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    assert.equal((await api.post('transit/keys/tenants', {})).status, 200);
    assert.equal((await api.post('transit/keys/tenants-chacha', { type: 'chacha20-poly1305' })).status, 200);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  for (const [key, failure] of [
    ['tenants', 'cipher: message authentication failed'],
    ['tenants-chacha', 'chacha20poly1305: message authentication failed'],
  ] as const) {
    it(`${key}: encrypted for tenantA, it decrypts neither for tenantB nor without associated data (400, Vault's error); for tenantA it does`, async () => {
      const enc = await api.post(`transit/encrypt/${key}`, { plaintext: b64('tenant A payroll'), associated_data: b64('tenantA') });
      assert.equal(enc.status, 200, JSON.stringify(enc.body));
      const { ciphertext } = enc.body.data;
      for (const other of [{ associated_data: b64('tenantB') }, {}]) {
        const res = await api.post(`transit/decrypt/${key}`, { ciphertext, ...other });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.deepEqual(res.body, { errors: [failure] });
      }
      const ok = await api.post(`transit/decrypt/${key}`, { ciphertext, associated_data: b64('tenantA') });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.data.plaintext, b64('tenant A payroll'));
    });
  }

  it('batch items carry their own associated_data: each decrypts only with its own', async () => {
    const enc = await api.post('transit/encrypt/tenants', {
      batch_input: [
        { plaintext: b64('for A'), associated_data: b64('tenantA'), reference: 'a' },
        { plaintext: b64('for B'), associated_data: b64('tenantB'), reference: 'b' },
      ],
    });
    assert.equal(enc.status, 200, JSON.stringify(enc.body));
    const [a, b] = enc.body.data.batch_results.map((r: { ciphertext: string }) => r.ciphertext);
    const swapped = await api.post('transit/decrypt/tenants', {
      batch_input: [
        { ciphertext: a, associated_data: b64('tenantB'), reference: 'a' },
        { ciphertext: b, associated_data: b64('tenantA'), reference: 'b' },
      ],
    });
    assert.equal(swapped.status, 400, 'every item failed');
    assert.deepEqual(swapped.body.data.batch_results, [
      { plaintext: '', error: 'cipher: message authentication failed', reference: 'a' },
      { plaintext: '', error: 'cipher: message authentication failed', reference: 'b' },
    ]);
    const matched = await api.post('transit/decrypt/tenants', {
      batch_input: [
        { ciphertext: a, associated_data: b64('tenantA'), reference: 'a' },
        { ciphertext: b, associated_data: b64('tenantB'), reference: 'b' },
        { ciphertext: b, reference: 'none' },
      ],
    });
    assert.equal(matched.status, 200);
    assert.deepEqual(matched.body.data.batch_results, [
      { plaintext: b64('for A'), reference: 'a' },
      { plaintext: b64('for B'), reference: 'b' },
      { plaintext: '', error: 'cipher: message authentication failed', reference: 'none' },
    ]);
  });

  it('datakey binds it too; a malformed value is a 400 naming the field; rewrap refuses it', async () => {
    const key = await api.post('transit/datakey/plaintext/tenants', { associated_data: b64('tenantA') });
    assert.equal(key.status, 200);
    assert.equal((await api.post('transit/decrypt/tenants', { ciphertext: key.body.data.ciphertext })).status, 400);
    const ok = await api.post('transit/decrypt/tenants', { ciphertext: key.body.data.ciphertext, associated_data: b64('tenantA') });
    assert.equal(ok.body.data.plaintext, key.body.data.plaintext);
    const bad = await api.post('transit/encrypt/tenants', { plaintext: b64('x'), associated_data: 'tenant A!' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { errors: ['unable to get associated_data/additional_data from factory[0]: illegal base64 data at input byte 6'] });
    const rewrap = await api.post('transit/rewrap/tenants', { ciphertext: key.body.data.ciphertext, associated_data: b64('tenantA') });
    assert.equal(rewrap.status, 400);
    assert.match(rewrap.body.errors[0], /associated_data is not supported by rewrap/);
  });
});

describe('init never wipes storage that lost only its seal config (file storage)', () => {
  let server: TestServer | undefined;
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('deleting core/seal-config from the SQLite store makes sys/init a 400 (Vault\'s message); every other row stays', async () => {
    const first = await startShamir();
    server = first.server;
    const api = server.api;
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' }, first.rootToken)).status, 204);
    assert.equal((await api.put('kv/payroll', { iban: 'DE00 1234' }, first.rootToken)).status, 204);
    const dir = server.dir;
    await server.stop();

    const dbFile = path.join(dir, 'data', DATABASE_FILE);
    const db = new Database(dbFile);
    const deleted = db.prepare('DELETE FROM kv WHERE key = ?').run('core/seal-config');
    assert.equal(deleted.changes, 1);
    const rowsBefore = db.prepare('SELECT key, value FROM kv ORDER BY key').all() as { key: string; value: Buffer }[];
    db.close();
    assert.ok(rowsBefore.some((r) => r.key === 'core/keyring'));

    server = await TestServer.start({ dir });
    assert.equal((await server.api.get('sys/init')).body.initialized, false);
    const init = await server.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(init.status, 400, JSON.stringify(init.body));
    assert.deepEqual(init.body, { errors: ['core: barrier reports initialized but no seal configuration found'] });
    await server.waitFor('init refused: the storage holds data but no seal configuration');
    await server.stop();

    const check = new Database(dbFile, { readonly: true });
    const rowsAfter = check.prepare('SELECT key, value FROM kv ORDER BY key').all() as { key: string; value: Buffer }[];
    check.close();
    assert.deepEqual(rowsAfter, rowsBefore, 'nothing was wiped or written');

    // Putting the seal config back (a restore) brings the data back with the old keys.
    const restore = new Database(dbFile);
    restore.prepare('INSERT INTO kv (key, value) VALUES (?, ?)').run(
      'core/seal-config',
      Buffer.from(JSON.stringify({ type: 'shamir', secret_shares: 3, secret_threshold: 2, stored_shares: 0 })),
    );
    restore.close();
    server = await TestServer.start({ dir });
    for (const key of first.keys.slice(0, 2)) assert.equal((await server.api.put('sys/unseal', { key })).status, 200);
    assert.deepEqual((await server.api.get('kv/payroll', first.rootToken)).body.data, { iban: 'DE00 1234' });
  });
});

describe('scripts/softhsm-token.sh keeps the PINs out of every command line', () => {
  it('no process it starts carries a PIN in its arguments or environment, and the token opens with exactly those PINs', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-softhsm-argv-'));
    try {
      // Every external command the script runs goes through a wrapper that records its argv and environment.
      const bin = path.join(work, 'bin');
      const log = path.join(work, 'exec.log');
      fs.mkdirSync(bin);
      for (const cmd of ['node', 'mkdir', 'cat', 'dirname', 'softhsm2-util', 'pkcs11-tool']) {
        const real = cmd === 'node' ? process.execPath : execFileSync('sh', ['-c', `command -v ${cmd} || true`], { encoding: 'utf8' }).trim();
        const target = real || '/bin/false';
        fs.writeFileSync(path.join(bin, cmd), `#!/bin/sh\n{ echo "== ${cmd} $*"; env; } >> "${log}"\nexec "${target}" "$@"\n`, { mode: 0o755 });
      }
      const pin = 'user-pin-7f3a91';
      const soPin = 'so-pin-c0ffee42';
      const conf = execFileSync(path.join(ROOT, 'scripts', 'softhsm-token.sh'), [path.join(work, 'hsm'), 'argv-test'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TRESOR_SOFTHSM_PIN: pin, TRESOR_SOFTHSM_SO_PIN: soPin },
      }).trim();
      assert.equal(conf, path.join(work, 'hsm', 'softhsm2.conf'), 'stdout is the SOFTHSM2_CONF path alone');
      const recorded = fs.readFileSync(log, 'utf8');
      assert.match(recorded, /== node .*softhsm-init-token\.(?:ts|js) \/.*libsofthsm2\.so argv-test/, 'the initialiser ran through the wrapper');
      assert.ok(!recorded.includes(pin) && !recorded.includes(soPin), 'no PIN in any argv or environment');

      // The token takes the user PIN and the SO PIN it was given (C_Login in a child, PINs on stdin), and refuses another.
      const login = (userType: 'user' | 'so', value: string) =>
        spawnSync(process.execPath, ['--input-type=module', '-e', LOGIN_SCRIPT, SOFTHSM_LIB, 'argv-test', userType], {
          input: value,
          encoding: 'utf8',
          env: { ...process.env, SOFTHSM2_CONF: conf },
        });
      assert.equal(login('user', pin).stdout.trim(), 'ok');
      assert.equal(login('so', soPin).stdout.trim(), 'ok');
      assert.match(login('user', 'not-the-pin').stdout, /CKR_PIN_INCORRECT/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

/** Logs in to the token labelled argv[2] as argv[3] ("user" or "so") with the PIN on stdin; prints "ok" or the error. */
const LOGIN_SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))});
const pkcs11js = require('pkcs11js');
const [lib, label, type] = process.argv.slice(1);
let pin = '';
for await (const chunk of process.stdin) pin += chunk;
const m = new pkcs11js.PKCS11();
m.load(lib);
m.C_Initialize();
try {
  const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.trim() === label);
  const session = m.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  m.C_Login(session, type === 'so' ? pkcs11js.CKU_SO : pkcs11js.CKU_USER, pin);
  console.log('ok');
} catch (err) {
  console.log(String(err.message));
} finally {
  m.C_Finalize();
}
`;
