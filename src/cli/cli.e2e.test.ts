/**
 * End-to-end tests of the real `bin/tresor` executable, run as a child
 * process against a small fixture HTTP server defined here. The fixture only
 * answers fixed Vault-shaped JSON for the routes each test registers; it is
 * not the Tresor server (real-server integration tests live elsewhere).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../test/helpers/build.ts';

const RUN_TIMEOUT_MS = 20_000;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tresor');
// bin/tresor runs dist/: build it before the first timed spawn.
ensureBuilt();

interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}
type FixtureReply = [status: number, body?: unknown];

/** Fixture server for CLI tests: answers registered "METHOD /path" routes, 404 otherwise. */
class CliFixtureServer {
  readonly requests: RecordedRequest[] = [];
  routes = new Map<string, (req: RecordedRequest) => FixtureReply>();
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const recorded: RecordedRequest = { method: req.method!, path: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
      this.requests.push(recorded);
      // Vault's status (and unseal) also ask sys/leader; answer it as a server without HA does.
      const route = this.routes.get(`${req.method} ${req.url}`) ?? (req.url === '/v1/sys/leader' ? () => [200, NO_HA_LEADER] as FixtureReply : undefined);
      const [status, body] = route ? route(recorded) : [404, { errors: [] }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  reply(route: string, status: number, body?: unknown): void {
    this.routes.set(route, () => [status, body]);
  }
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const NO_HA_LEADER = { ha_enabled: false, is_self: false, active_time: '0001-01-01T00:00:00Z', leader_address: '', leader_cluster_address: '', performance_standby: false, performance_standby_last_remote_wal: 0 };

const SEALED_SHAMIR = {
  type: 'shamir',
  initialized: true,
  sealed: true,
  t: 3,
  n: 5,
  progress: 1,
  nonce: 'b9c7a4f0-1111-2222-3333-444455556666',
  version: '0.1.0',
  build_date: '2026-01-01T00:00:00Z',
  migration: false,
  recovery_seal: false,
  storage_type: 'file',
};

const UNSEALED_HSM = {
  type: 'pkcs11',
  initialized: true,
  sealed: false,
  t: 2,
  n: 3,
  progress: 0,
  nonce: '',
  version: '0.1.0',
  build_date: '2026-01-01T00:00:00Z',
  migration: false,
  recovery_seal: true,
  storage_type: 'file',
  cluster_name: 'tresor-cluster-1',
  cluster_id: 'c0ffee00-0000-0000-0000-000000000001',
};

describe('tresor CLI end to end (fixture server)', () => {
  const fixture = new CliFixtureServer();
  let address: string;
  let home: string;

  /** Runs bin/tresor with a clean environment; `stdin` is written and, unless keepOpen, closed. */
  function run(args: string[], opts: { stdin?: string; keepStdinOpen?: boolean; env?: Record<string, string> } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(BIN, args, {
        env: { PATH: process.env.PATH!, HOME: home, TRESOR_ADDR: address, TRESOR_TOKEN_FILE: path.join(home, 'token'), ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      // A CLI that waits forever (e.g. on an open stdin) must fail the test, not hang it.
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`tresor ${args.join(' ')} did not exit within ${RUN_TIMEOUT_MS} ms`));
      }, RUN_TIMEOUT_MS);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (!child.stdin.destroyed) child.stdin.destroy();
        resolve({ code, stdout, stderr });
      });
      if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
      if (!opts.keepStdinOpen) child.stdin.end();
    });
  }

  before(async () => {
    address = await fixture.start();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-cli-e2e-'));
  });
  after(async () => {
    await fixture.stop();
    fs.rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    fixture.routes.clear();
    fixture.requests.length = 0;
  });

  it('status prints the seal table and exits 2 while sealed', async () => {
    fixture.reply('GET /v1/sys/seal-status', 200, SEALED_SHAMIR);
    const r = await run(['status']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, '');
    assert.equal(
      r.stdout,
      [
        'Key                Value',
        '---                -----',
        'Seal Type          shamir',
        'Initialized        true',
        'Sealed             true',
        'Total Shares       5',
        'Threshold          3',
        'Unseal Progress    1/3',
        'Unseal Nonce       b9c7a4f0-1111-2222-3333-444455556666',
        'Version            0.1.0',
        'Build Date         2026-01-01T00:00:00Z',
        'Storage Type       file',
        'HA Enabled         false',
        '',
      ].join('\n'),
    );
  });

  it('status labels recovery shares under an HSM seal and exits 0 when unsealed', async () => {
    fixture.reply('GET /v1/sys/seal-status', 200, UNSEALED_HSM);
    const r = await run(['status']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Seal Type {16}pkcs11$/m);
    assert.match(r.stdout, /^Recovery Seal Type {7}shamir$/m);
    assert.match(r.stdout, /^Total Recovery Shares {4}3$/m);
    assert.match(r.stdout, /^Cluster Name {13}tresor-cluster-1$/m);
    assert.doesNotMatch(r.stdout, /Unseal Progress/);
  });

  it('status -format=json prints the seal-status object with Vault\'s HA fields from sys/leader', async () => {
    fixture.reply('GET /v1/sys/seal-status', 200, UNSEALED_HSM);
    const r = await run(['status', '-format=json']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), { ...UNSEALED_HSM, ha_enabled: false, active_time: '0001-01-01T00:00:00Z' });
  });

  it('status exits 1 when the server cannot be reached', async () => {
    const r = await run(['status'], { env: { TRESOR_ADDR: 'http://127.0.0.1:1' } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error checking seal status: GET http://127.0.0.1:1/v1/sys/seal-status: connection refused (ECONNREFUSED): is a Tresor server listening at 127.0.0.1:1?\n');
  });

  it('operator init under an HSM seal asks for recovery shares and prints recovery keys', async () => {
    fixture.reply('GET /v1/sys/seal-status', 200, { ...UNSEALED_HSM, initialized: false, sealed: true, n: 0, t: 0 });
    fixture.reply('PUT /v1/sys/init', 200, {
      keys: [],
      keys_base64: [],
      recovery_keys: ['aa01', 'bb02', 'cc03'],
      recovery_keys_base64: ['qgE=', 'uwI=', 'zAM='],
      root_token: 'hvs.FixtureRootToken',
    });
    const r = await run(['operator', 'init', '-recovery-shares=3', '-recovery-threshold=2']);
    assert.equal(r.code, 0, r.stderr);
    const initRequest = fixture.requests.find((q) => q.path === '/v1/sys/init')!;
    assert.deepEqual(initRequest.body, { recovery_shares: 3, recovery_threshold: 2 });
    assert.match(r.stdout, /^Recovery Key 1: qgE=\nRecovery Key 2: uwI=\nRecovery Key 3: zAM=\n\nInitial Root Token: hvs\.FixtureRootToken\n/);
    assert.match(r.stdout, /Recovery key initialized with 3 key shares and a key threshold of 2\./);
    assert.doesNotMatch(r.stdout, /Unseal Key/);
  });

  it('operator init with a Shamir seal sends 5/3 by default and prints unseal keys', async () => {
    fixture.reply('GET /v1/sys/seal-status', 200, { ...SEALED_SHAMIR, initialized: false, progress: 0 });
    fixture.reply('PUT /v1/sys/init', 200, { keys: ['01'], keys_base64: ['AQ=='], root_token: 'hvs.R' });
    const r = await run(['operator', 'init']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fixture.requests.find((q) => q.path === '/v1/sys/init')!.body, { secret_shares: 5, secret_threshold: 3 });
    assert.match(r.stdout, /^Unseal Key 1: AQ==\n\nInitial Root Token: hvs\.R\n\nTresor initialized with 5 key shares and a key threshold of 3\./);
  });

  it('a 400 from the server is printed in Vault\'s error format with exit code 2', async () => {
    fixture.reply('GET /v1/sys/seal-status', 200, { ...SEALED_SHAMIR, initialized: false, progress: 0 });
    fixture.reply('PUT /v1/sys/init', 400, { errors: ['secret threshold must not exceed the number of shares'] });
    const r = await run(['operator', 'init', '-key-shares=2', '-key-threshold=3']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `Error initializing: Error making API request.\n\nURL: PUT ${address}/v1/sys/init\nCode: 400. Errors:\n\n* secret threshold must not exceed the number of shares\n`,
    );
  });

  it('operator init -status exits 2 when the server is not initialised', async () => {
    fixture.reply('GET /v1/sys/init', 200, { initialized: false });
    const r = await run(['operator', 'init', '-status']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, 'Tresor is not initialized\n');
  });

  it('operator unseal reads the key from piped stdin without echoing it', async () => {
    fixture.routes.set('PUT /v1/sys/unseal', () => [200, { ...SEALED_SHAMIR, sealed: false, progress: 0 }]);
    const key = 'c2VjcmV0LXVuc2VhbC1zaGFyZQ==';
    // The pipe stays open: the CLI must stop at the first line, as a prompt does.
    const r = await run(['operator', 'unseal'], { stdin: `${key}\n`, keepStdinOpen: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fixture.requests.find((q) => q.path === '/v1/sys/unseal')!.body, { key });
    assert.match(r.stdout, /^Sealed {10}false$/m);
    assert.ok(!r.stdout.includes(key) && !r.stderr.includes(key), 'the key share must not be printed');
  });

  it('operator unseal -reset sends reset instead of a key', async () => {
    fixture.reply('PUT /v1/sys/unseal', 200, { ...SEALED_SHAMIR, progress: 0 });
    const r = await run(['operator', 'unseal', '-reset']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fixture.requests.find((q) => q.path === '/v1/sys/unseal')!.body, { reset: true });
  });

  it('usage mistakes exit 1 with a message and a pointer to -h', async () => {
    const r = await run(['status', 'extra']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Too many arguments \(expected 0, got 1\)\n\nRun "tresor status -h" for usage\.\n$/);
    assert.equal(fixture.requests.length, 0);
  });

  it('login checks the token with lookup-self and stores it with mode 0600', async () => {
    fixture.routes.set('GET /v1/auth/token/lookup-self', (req) =>
      req.headers['x-vault-token'] === 'hvs.LoginToken'
        ? [200, { data: { accessor: 'acc1', policies: ['default'], ttl: 3600, renewable: true } }]
        : [403, { errors: ['permission denied'] }],
    );
    const r = await run(['login', '-'], { stdin: 'hvs.LoginToken\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^token_duration {7}1h$/m);
    const file = path.join(home, 'token');
    assert.equal(fs.readFileSync(file, 'utf8'), 'hvs.LoginToken');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    const denied = await run(['login', 'hvs.Wrong']);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /^Error authenticating: Error making API request\.[\s\S]*Code: 403\. Errors:\n\n\* permission denied\n$/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'hvs.LoginToken');
  });

  it('kv get finds a v2 mount by preflight and prints path, metadata and data sections', async () => {
    fixture.reply('GET /v1/sys/internal/ui/mounts/secret/app', 200, { data: { path: 'secret/', type: 'kv', options: { version: '2' } } });
    fixture.reply('GET /v1/secret/data/app', 200, {
      data: { data: { password: 'hunter2' }, metadata: { created_time: '2026-01-01T00:00:00Z', deletion_time: '', destroyed: false, version: 1 } },
    });
    const r = await run(['kv', 'get', 'secret/app'], { env: { TRESOR_TOKEN: 'hvs.T' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^= Secret Path =\nsecret\/data\/app\n\n/);
    assert.match(r.stdout, /=+ Metadata =+\nKey +Value\n--- +-----\ncreated_time +2026-01-01T00:00:00Z\ndeletion_time +n\/a\n/);
    assert.match(r.stdout, /=+ Data =+\nKey +Value\n--- +-----\npassword +hunter2\n$/);
    assert.equal(fixture.requests.at(-1)!.headers['x-vault-token'], 'hvs.T');

    const field = await run(['kv', 'get', '-field=password', 'secret/app'], { env: { TRESOR_TOKEN: 'hvs.T' } });
    assert.equal(field.stdout, 'hunter2\n');
  });

  it('read of a missing path says "No value found" and exits 2', async () => {
    const r = await run(['read', 'secret/none'], { env: { TRESOR_TOKEN: 'hvs.T' } });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'No value found at secret/none\n');
  });

  it('server without -config or -dev is a usage error and loads no server', async () => {
    const r = await run(['server']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^At least one -config is required \(or use -dev\)/);
  });

  it('write sends k=v pairs and a value read from stdin with k=-', async () => {
    fixture.reply('PUT /v1/cubbyhole/note', 204);
    const r = await run(['write', 'cubbyhole/note', 'title=hello', 'body=-'], { stdin: 'multi word value\n', env: { TRESOR_TOKEN: 'hvs.T' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Success! Data written to: cubbyhole/note\n');
    assert.deepEqual(fixture.requests.at(-1)!.body, { title: 'hello', body: 'multi word value' });
  });

  it('tresor with no command lists the commands and exits 127', async () => {
    const r = await run([]);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^Usage: tresor <command> \[args\]/);
    assert.match(r.stderr, /operator unseal +Provide a key share/);
  });
});
