/**
 * The real `tresor server` (Shamir seal, file storage) driven over HTTP:
 * init, unseal, seal status, health, tokens, restart and crash, rotation,
 * body limits, path tricks, TLS and -dev mode.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { Api, runCli, TestServer } from './helpers/server.ts';

interface InitBody {
  keys: string[];
  keys_base64: string[];
  root_token: string;
}

/** Sends `rawPath` byte for byte (fetch would normalise `..` and `%2e` away). */
function rawRequest(port: number, method: string, rawPath: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: token ? { 'X-Vault-Token': token } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function unsealWith(api: Api, keys: string[]): Promise<any> {
  let last: any;
  for (const key of keys) {
    const res = await api.put('sys/unseal', { key });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    last = res.body;
  }
  return last;
}

async function initServer(api: Api): Promise<InitBody> {
  const res = await api.put('sys/init', { secret_shares: 5, secret_threshold: 3 });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as InitBody;
}

describe('Shamir server over HTTP', () => {
  let server: TestServer;
  let other: TestServer;
  let api: Api;
  let init: InitBody;

  before(async () => {
    [server, other] = await Promise.all([TestServer.start(), TestServer.start()]);
    api = server.api;
  });
  after(async () => {
    for (const s of [server, other]) {
      await s?.kill();
      s?.cleanup();
    }
  });

  it('reports an uninitialised server: sys/init false, health 501 (or uninitcode), seal-status not initialised', async () => {
    assert.deepEqual((await api.get('sys/init')).body, { initialized: false });
    assert.equal((await api.get('sys/health')).status, 501);
    assert.equal((await api.get('sys/health?uninitcode=299')).status, 299);
    const status = (await api.get('sys/seal-status')).body;
    assert.equal(status.initialized, false);
    assert.equal(status.sealed, true);
    assert.equal(status.type, 'shamir');
  });

  it('refuses bad init parameters with 400 and errors, leaving the server uninitialised', async () => {
    const bad: Record<string, unknown>[] = [
      { secret_shares: 3, secret_threshold: 5 },
      { secret_shares: 0, secret_threshold: 0 },
      { secret_shares: 3, secret_threshold: 1 },
      { secret_shares: 256, secret_threshold: 3 },
      { secret_shares: 5, secret_threshold: 3, recovery_shares: 5 },
      { secret_shares: 'five', secret_threshold: 3 },
      { secret_shares: 5, secret_threshold: 'x3' },
      { secret_shares: 5.5, secret_threshold: 3 },
      {},
    ];
    for (const body of bad) {
      const res = await api.put('sys/init', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, JSON.stringify(res.body));
    }
    assert.deepEqual((await api.get('sys/init')).body, { initialized: false });
  });

  it('initialises once with 5 hex and base64 shares and a root token; a second init is a 400', async () => {
    init = await initServer(api);
    assert.equal(init.keys.length, 5);
    assert.equal(init.keys_base64.length, 5);
    for (let i = 0; i < 5; i++) {
      assert.match(init.keys[i], /^[0-9a-f]+$/);
      assert.equal(Buffer.from(init.keys_base64[i], 'base64').toString('hex'), init.keys[i]);
    }
    assert.equal(new Set(init.keys).size, 5);
    assert.ok(typeof init.root_token === 'string' && init.root_token.length > 10);
    assert.deepEqual((await api.get('sys/init')).body, { initialized: true });

    const again = await api.put('sys/init', { secret_shares: 5, secret_threshold: 3 });
    assert.equal(again.status, 400);
    assert.ok(again.body.errors.length > 0);
  });

  it('while sealed: health 503 (or sealedcode), HEAD works, token paths answer 503 "Vault is sealed"', async () => {
    assert.equal((await api.get('sys/health')).status, 503);
    assert.equal((await api.get('sys/health?sealedcode=200')).status, 200);
    const head = await fetch(`${api.addr}/v1/sys/health`, { method: 'HEAD' });
    assert.equal(head.status, 503);
    assert.equal(await head.text(), '');

    const lookup = await api.get('auth/token/lookup-self', init.root_token);
    assert.equal(lookup.status, 503);
    assert.deepEqual(lookup.body.errors, ['Vault is sealed']);
    const mounts = await api.get('sys/mounts', init.root_token);
    assert.equal(mounts.status, 503);
    assert.equal((await api.get('sys/init')).status, 200);
  });

  it('seal-status while sealed has every field with its type and no cluster identity', async () => {
    const s = (await api.get('sys/seal-status')).body;
    assert.equal(s.type, 'shamir');
    assert.equal(s.initialized, true);
    assert.equal(s.sealed, true);
    assert.equal(s.t, 3);
    assert.equal(s.n, 5);
    assert.equal(s.progress, 0);
    assert.equal(typeof s.nonce, 'string');
    assert.equal(typeof s.version, 'string');
    assert.equal(typeof s.build_date, 'string');
    assert.equal(s.migration, false);
    assert.equal(s.recovery_seal, false);
    assert.equal(s.storage_type, 'file');
    assert.equal(s.cluster_name, undefined);
    assert.equal(s.cluster_id, undefined);
  });

  it('unseal progress keeps its nonce, ignores duplicate and malformed shares with a 400, and resets on request', async () => {
    const first = await unsealWith(api, [init.keys[0]]);
    assert.equal(first.progress, 1);
    assert.equal(first.sealed, true);
    assert.ok(first.nonce.length > 0);

    const dup = await api.put('sys/unseal', { key: init.keys_base64[0] });
    assert.equal(dup.status, 400);
    assert.ok(dup.body.errors.length > 0);
    const junk = await api.put('sys/unseal', { key: 'not-a-key!!' });
    assert.equal(junk.status, 400);
    assert.ok(junk.body.errors.length > 0);
    assert.equal((await api.get('sys/seal-status')).body.progress, 1);

    const second = await unsealWith(api, [init.keys_base64[1]]);
    assert.equal(second.progress, 2);
    assert.equal(second.nonce, first.nonce);

    const reset = await api.put('sys/unseal', { reset: true });
    assert.equal(reset.status, 200);
    assert.equal(reset.body.progress, 0);
    assert.equal((await api.get('sys/seal-status')).body.progress, 0);
  });

  it('shares from another server fail at the threshold with 400 and leave it sealed; the right shares then unseal it', async () => {
    const foreign = await initServer(other.api);
    await unsealWith(api, foreign.keys.slice(0, 2));
    const third = await api.put('sys/unseal', { key: foreign.keys[2] });
    assert.equal(third.status, 400);
    assert.ok(third.body.errors.length > 0);
    const status = (await api.get('sys/seal-status')).body;
    assert.equal(status.sealed, true);
    assert.equal(status.progress, 0);

    const done = await unsealWith(api, [init.keys[0], init.keys_base64[1], init.keys[2]]);
    assert.equal(done.sealed, false);
    assert.equal(done.progress, 0);
  });

  it('seal-status and health when unsealed: cluster identity present, 200 (or activecode)', async () => {
    const s = (await api.get('sys/seal-status')).body;
    assert.equal(s.sealed, false);
    assert.equal(typeof s.cluster_name, 'string');
    assert.ok(s.cluster_name.length > 0);
    assert.equal(typeof s.cluster_id, 'string');
    assert.ok(s.cluster_id.length > 0);
    const health = await api.get('sys/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.initialized, true);
    assert.equal(health.body.sealed, false);
    assert.equal((await api.get('sys/health?activecode=202')).status, 202);
    assert.equal((await api.get('sys/health?standbyok=true')).status, 200);
  });

  it('token auth: none or garbage → 403 permission denied; X-Vault-Token and Authorization: Bearer both work', async () => {
    const none = await api.get('auth/token/lookup-self', '');
    assert.equal(none.status, 403);
    assert.deepEqual(none.body, { errors: ['permission denied'] });
    const garbage = await api.get('auth/token/lookup-self', 'hvs.garbage');
    assert.equal(garbage.status, 403);
    assert.deepEqual(garbage.body, { errors: ['permission denied'] });

    const viaHeader = await api.get('auth/token/lookup-self', init.root_token);
    assert.equal(viaHeader.status, 200);
    assert.deepEqual(viaHeader.body.data.policies, ['root']);
    const viaBearer = await fetch(`${api.addr}/v1/auth/token/lookup-self`, { headers: { Authorization: `Bearer ${init.root_token}` } });
    assert.equal(viaBearer.status, 200);
    assert.deepEqual(((await viaBearer.json()) as any).data.policies, ['root']);
  });

  it('stores a kv v1 secret under a new mount', async () => {
    api.token = init.root_token;
    assert.equal((await api.post('sys/mounts/kv', { type: 'kv' })).status, 204);
    assert.equal((await api.put('kv/app', { password: 'before-rotation' })).status, 204);
    assert.deepEqual((await api.get('kv/app')).body.data, { password: 'before-rotation' });
  });

  it('rotation: 204, term 1→2, install_time changes, old data still reads', async () => {
    const before = (await api.get('sys/key-status')).body;
    assert.equal(before.term, 1);
    assert.equal(typeof before.encryptions, 'number');
    await new Promise((r) => setTimeout(r, 5));
    const rotate = await api.put('sys/rotate', {});
    assert.equal(rotate.status, 204);
    const afterRotate = (await api.get('sys/key-status')).body;
    assert.equal(afterRotate.term, 2);
    assert.equal(afterRotate.data.term, 2);
    assert.notEqual(afterRotate.install_time, before.install_time);
    assert.equal(typeof afterRotate.encryptions, 'number');
    assert.deepEqual((await api.get('kv/app')).body.data, { password: 'before-rotation' });
    assert.equal((await api.put('kv/after', { n: '2' })).status, 204);
  });

  it('sys/rotate with a token whose policy lacks sudo → 403', async () => {
    const policy = 'path "sys/rotate" { capabilities = ["update"] }\npath "sys/seal" { capabilities = ["update"] }';
    assert.equal((await api.put('sys/policies/acl/rotator', { policy })).status, 204);
    const created = await api.post('auth/token/create', { policies: ['rotator'] });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const limited = created.body.auth.client_token as string;
    const res = await api.put('sys/rotate', {}, limited);
    assert.equal(res.status, 403);
    assert.deepEqual(res.body.errors, ['permission denied']);
    assert.equal((await api.put('sys/seal', {}, limited)).status, 403);
    assert.equal((await api.get('sys/key-status')).body.term, 2);
  });

  it('path tricks are refused with a 4xx and never reach another route', async () => {
    const tricks = ['/v1/secret/../sys/seal', '/v1/sys/%2e%2e/x', '/v1/kv/%2e%2e/sys/seal', '/v1/secret%2Ffoo', '/v1//sys/seal', '/v1/sys//seal', '/v1/kv/./app'];
    for (const p of tricks) {
      const res = await rawRequest(server.port, 'PUT', p, init.root_token);
      assert.ok(res.status >= 400 && res.status < 500, `${p} → ${res.status} ${res.body}`);
      assert.equal((await api.get('sys/seal-status')).body.sealed, false, `${p} sealed the server`);
    }
  });

  it('a non-JSON body or a JSON array body → 400 with errors', async () => {
    for (const body of ['{not json', '[1,2]', '"text"']) {
      const res = await fetch(`${api.addr}/v1/kv/app`, { method: 'PUT', headers: { 'X-Vault-Token': init.root_token }, body });
      assert.equal(res.status, 400, body);
      assert.ok(((await res.json()) as any).errors.length > 0);
    }
    assert.deepEqual((await api.get('kv/app')).body.data, { password: 'before-rotation' });
  });

  it('after SIGTERM and restart: sealed, a different 3 of 5 shares unseal, data and key term survive', async () => {
    const earlier = (await api.get('sys/seal-status')).body;
    await server.stop();
    assert.equal(server.exitCode, 0);
    server = await TestServer.start({ dir: server.dir });
    api = new Api(server.api.addr, init.root_token);
    const status = (await api.get('sys/seal-status')).body;
    assert.equal(status.initialized, true);
    assert.equal(status.sealed, true);
    const done = await unsealWith(api, [init.keys[4], init.keys_base64[3], init.keys[1]]);
    assert.equal(done.sealed, false);
    assert.deepEqual((await api.get('kv/app')).body.data, { password: 'before-rotation' });
    assert.deepEqual((await api.get('kv/after')).body.data, { n: '2' });
    assert.equal((await api.get('sys/key-status')).body.term, 2);
    const now = (await api.get('sys/seal-status')).body;
    assert.deepEqual([now.cluster_name, now.cluster_id], [earlier.cluster_name, earlier.cluster_id]);
  });

  it('after SIGKILL right after an acknowledged write, the write is there on restart', async () => {
    assert.equal((await api.put('kv/crash', { v: 'acknowledged' })).status, 204);
    await server.kill();
    server = await TestServer.start({ dir: server.dir });
    api = new Api(server.api.addr, init.root_token);
    await unsealWith(api, init.keys.slice(0, 3));
    assert.deepEqual((await api.get('kv/crash')).body.data, { v: 'acknowledged' });
  });

  it('sys/seal without a token → 403; with the root token → 204 and sealed', async () => {
    assert.equal((await api.put('sys/seal', {}, '')).status, 403);
    assert.equal((await api.get('sys/seal-status')).body.sealed, false);
    assert.equal((await api.put('sys/seal', {})).status, 204);
    assert.equal((await api.get('sys/seal-status')).body.sealed, true);
    assert.equal((await api.get('kv/app')).status, 503);
  });
});

describe('listener max_request_size', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({
      config: `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address          = "127.0.0.1:{{PORT}}"
  tls_disable      = true
  max_request_size = 1024
}
`,
    });
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('a body over max_request_size → 413 with errors; a small one is served', async () => {
    const big = await server.api.put('sys/init', { secret_shares: 5, secret_threshold: 3, padding: 'x'.repeat(2048) });
    assert.equal(big.status, 413);
    assert.ok(Array.isArray(big.body.errors) && big.body.errors.length > 0);
    assert.deepEqual((await server.api.get('sys/init')).body, { initialized: false });
    assert.equal((await server.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 })).status, 200);
  });
});

describe('TLS listener', () => {
  let server: TestServer;
  let certFile: string;
  before(async () => {
    const dir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'tresor-tls-'));
    certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], {
      stdio: 'ignore',
    });
    server = await TestServer.start({
      dir,
      config: `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address       = "127.0.0.1:{{PORT}}"
  tls_cert_file = "${certFile}"
  tls_key_file  = "${keyFile}"
}
`,
    });
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('serves the API over HTTPS to a client trusting the certificate', async () => {
    assert.match(server.output, /tls: "enabled"/);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: server.port, path: '/v1/sys/seal-status', ca: fs.readFileSync(certFile) }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.equal(JSON.parse(body).initialized, false);
  });

  it('the CLI reaches it with NODE_EXTRA_CA_CERTS', async () => {
    const res = await runCli(['status', '-format=json'], { addr: `https://127.0.0.1:${server.port}`, env: { NODE_EXTRA_CA_CERTS: certFile } });
    assert.equal(JSON.parse(res.stdout).initialized, false, res.stderr);
  });

  it('plain HTTP to the TLS port does not get an API answer', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/v1/sys/seal-status`).then(
      (r) => r.status,
      () => 'refused',
    );
    assert.notEqual(res, 200);
  });
});

describe('-dev mode', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ args: ['-dev', '-dev-root-token-id=root'], readyText: 'Root Token:' });
    await server.waitFor('Development mode');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('prints the address and the chosen root token, starts unsealed, and mounts secret/ as kv v2', async () => {
    assert.match(server.output, /Root Token: root\n/);
    assert.ok(server.output.includes(`http://127.0.0.1:${server.port}`));
    const api = new Api(server.api.addr, 'root');
    assert.equal((await api.get('sys/seal-status')).body.sealed, false);
    const mounts = await api.get('sys/mounts');
    assert.equal(mounts.body.data['secret/'].type, 'kv');
    assert.equal(mounts.body.data['secret/'].options.version, '2');
    assert.equal((await api.put('secret/data/x', { data: { a: '1' } })).status, 200);
    const read = await api.get('secret/data/x');
    assert.deepEqual(read.body.data.data, { a: '1' });
    assert.equal(read.body.data.metadata.version, 1);
  });
});
