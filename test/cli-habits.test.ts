/**
 * The CLI's Vault habits, through `bin/tresor` child processes against real
 * `tresor server` processes (and, where a server must misbehave on purpose,
 * a small stand-in): TLS mismatches in both directions, the client timeout
 * and retries, output formats and field names, help and unknown commands,
 * key checks, one-line errors, and the commands Vault's CLI has.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, TestServer, TRESOR_BIN, type CliResult } from './helpers/server.ts';

/** Connects, sends `text`, and resolves with everything the server sent before closing. */
function rawExchange(port: number, text: string | Buffer, timeoutMs = 5000): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closed: false });
    }, timeoutMs);
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closed: true });
    });
    socket.write(text);
  });
}

/** Runs the CLI and measures how long it took. */
async function timed(args: string[], opts: Parameters<typeof runCli>[1] = {}): Promise<CliResult & { ms: number }> {
  const t0 = Date.now();
  const res = await runCli(args, opts);
  return { ...res, ms: Date.now() - t0 };
}

/** The start of a TLS ClientHello record (handshake, TLS 1.0 record version). */
const CLIENT_HELLO_START = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]);

describe('TLS mismatches', () => {
  let tlsServer: TestServer;
  let plainServer: TestServer;
  let certFile: string;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-habits-tls-'));
    certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    [tlsServer, plainServer] = await Promise.all([
      TestServer.start({
        dir,
        config: `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address       = "127.0.0.1:{{PORT}}"
  tls_cert_file = "${certFile}"
  tls_key_file  = "${keyFile}"
}
`,
      }),
      TestServer.startDev(),
    ]);
  });
  after(async () => {
    await Promise.all([tlsServer?.kill(), plainServer?.kill()]);
    tlsServer?.cleanup();
    plainServer?.cleanup();
  });

  it('plain HTTP to the TLS port gets Go\'s "400 Client sent an HTTP request to an HTTPS server", not a hang-up', async () => {
    const { received, closed } = await rawExchange(tlsServer.port, 'GET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(received, 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
    assert.ok(closed, 'the connection is closed after the answer');
    const viaFetch = await fetch(`http://127.0.0.1:${tlsServer.port}/v1/sys/health`);
    assert.equal(viaFetch.status, 400);
    assert.equal(await viaFetch.text(), 'Client sent an HTTP request to an HTTPS server.\n');
    // TLS clients are still served on the same port.
    const ok = await runCli(['status', '-format=json'], { addr: `https://127.0.0.1:${tlsServer.port}`, env: { TRESOR_CACERT: certFile } });
    assert.equal(JSON.parse(ok.stdout).initialized, false, ok.stderr);
  });

  it('a TLS handshake on the plain port is answered with a 400 at once, not after the header timeout', async () => {
    const t0 = Date.now();
    const { received, closed } = await rawExchange(plainServer.port, CLIENT_HELLO_START);
    assert.ok(closed && Date.now() - t0 < 2000, `closed at once (${Date.now() - t0} ms)`);
    assert.match(received, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal((await plainServer.api.get('sys/health')).status, 200);
  });

  it('status -address=http:// against the TLS server says the server speaks TLS, in one line, exit 1', async () => {
    const res = await timed(['status'], { addr: `http://127.0.0.1:${tlsServer.port}` });
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^Error checking seal status: GET http:\/\/127\.0\.0\.1:\d+\/v1\/sys\/seal-status: the server speaks TLS: use an https:\/\/ address\n$/);
  });

  it('status -address=https:// against the plain server says it speaks plain HTTP and does not hang', async () => {
    const res = await timed(['status', `-address=https://127.0.0.1:${plainServer.port}`]);
    assert.equal(res.code, 1);
    assert.ok(res.ms < 8000, `answered quickly (${res.ms} ms)`);
    assert.match(res.stderr, /^Error checking seal status: GET https:\/\/127\.0\.0\.1:\d+\/v1\/sys\/seal-status: the server speaks plain HTTP, not TLS: use an http:\/\/ address \([^)]*\)\n$/);
  });

  it('an untrusted certificate is one line naming -ca-cert; a missing CA file is refused before anything is sent', async () => {
    const untrusted = await runCli(['status'], { addr: `https://127.0.0.1:${tlsServer.port}` });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /^Error checking seal status: GET https:\S+: the server's TLS certificate is not trusted \(self[- ]signed certificate\): give its CA with -ca-cert or TRESOR_CACERT\n$/);

    const missing = await runCli(['status'], { addr: `https://127.0.0.1:${tlsServer.port}`, env: { TRESOR_CACERT: '/nonexistent/ca.pem' } });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: cannot read the CA certificate file /nonexistent/ca.pem: no such file or directory\n');
  });

  it('-tls-server-name checks the certificate against that name instead of the address', async () => {
    const wrongName = await runCli(['status', '-tls-server-name=vault.example.com', `-ca-cert=${certFile}`], { addr: `https://127.0.0.1:${tlsServer.port}` });
    assert.equal(wrongName.code, 1);
    assert.match(wrongName.stderr, /TLS certificate does not name|does not match certificate/);
  });
});

describe('client timeout and retries', () => {
  let silent: net.Server;
  let silentPort: number;
  const accepted: net.Socket[] = [];

  before(async () => {
    // Accepts connections and never answers: what a wedged server or a wrong port looks like.
    silent = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  after(async () => {
    accepted.forEach((s) => s.destroy());
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('-client-timeout, TRESOR_CLIENT_TIMEOUT and VAULT_CLIENT_TIMEOUT bound a request to a server that never answers', async () => {
    const addr = `http://127.0.0.1:${silentPort}`;
    const byFlag = await timed(['status', '-client-timeout=1s'], { addr });
    assert.equal(byFlag.code, 1);
    assert.ok(byFlag.ms < 6000, `gave up after about a second (${byFlag.ms} ms)`);
    assert.match(byFlag.stderr, /^Error checking seal status: GET \S+: no answer within 1s \(the client timeout; set -client-timeout or TRESOR_CLIENT_TIMEOUT to wait longer\)\n$/);

    const byTresorEnv = await timed(['status'], { addr, env: { TRESOR_CLIENT_TIMEOUT: '1500ms' } });
    assert.match(byTresorEnv.stderr, /no answer within 1500ms/);
    const byVaultEnv = await timed(['status'], { addr, env: { VAULT_CLIENT_TIMEOUT: '1' } });
    assert.match(byVaultEnv.stderr, /no answer within 1s/);
    assert.ok(byVaultEnv.ms < 6000);
  });

  it('an unparsable timeout is a usage error that names its source', async () => {
    const res = await runCli(['status'], { addr: `http://127.0.0.1:${silentPort}`, env: { VAULT_CLIENT_TIMEOUT: 'soon' } });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^could not parse VAULT_CLIENT_TIMEOUT: use a duration such as "30s" or "2m"\n/);
  });

  describe('VAULT_MAX_RETRIES', () => {
    let server: http.Server;
    let addr: string;
    let replies: number[] = [];
    let seen = 0;
    before(async () => {
      // Answers the queued statuses in turn, then 200 with a seal status.
      server = http.createServer((req, res) => {
        req.resume();
        seen++;
        const status = replies.shift() ?? 200;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 200 ? JSON.stringify({ type: 'shamir', initialized: true, sealed: false, t: 1, n: 1 }) : JSON.stringify({ errors: [`status ${status}`] }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      addr = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('is off unless set, as in Vault\'s CLI: one 503 is the answer', async () => {
      replies = [503];
      seen = 0;
      const res = await runCli(['read', 'sys/seal-status'], { addr });
      assert.equal(res.code, 2);
      assert.equal(seen, 1);
      assert.match(res.stderr, /Code: 503\. Errors:\n\n\* status 503/);
    });

    it('when set, retries 5xx and 412 with a backoff, but not 501 or 4xx', async () => {
      replies = [503, 412];
      seen = 0;
      const t0 = Date.now();
      const ok = await runCli(['read', '-field=sealed', 'sys/seal-status'], { addr, env: { VAULT_MAX_RETRIES: '2' } });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, 'false\n');
      assert.equal(seen, 3);
      assert.ok(Date.now() - t0 >= 3000, 'waited 1-1.5 s, then 2-3 s, between attempts');

      replies = [500, 500];
      seen = 0;
      const exhausted = await runCli(['read', 'sys/seal-status'], { addr, env: { TRESOR_MAX_RETRIES: '1' } });
      assert.equal(exhausted.code, 2);
      assert.equal(seen, 2, 'one try and one retry');

      for (const status of [501, 400, 403]) {
        replies = [status];
        seen = 0;
        const res = await runCli(['read', 'sys/seal-status'], { addr, env: { VAULT_MAX_RETRIES: '3' } });
        assert.equal(res.code, 2);
        assert.equal(seen, 1, `${status} is not retried`);
      }
      replies = [];
    });
  });
});

/** `Key    Value` table rows as a map (the first run of 2+ spaces splits). */
function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S.*?)\s{2,}(.*)$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.trim());
  }
  return rows;
}

/** Vault's `operator init -format=json` names (command/operator_init.go, machineInit). */
const VAULT_INIT_JSON_FIELDS = [
  'recovery_keys_b64',
  'recovery_keys_hex',
  'recovery_keys_shares',
  'recovery_keys_threshold',
  'root_token',
  'unseal_keys_b64',
  'unseal_keys_hex',
  'unseal_shares',
  'unseal_threshold',
];

describe('output formats and Vault CLI field names (Shamir server)', () => {
  let server: TestServer;
  let cli: (args: string[], opts?: { token?: string; input?: string }) => Promise<CliResult>;
  let init: Record<string, unknown>;

  before(async () => {
    server = await TestServer.start();
    cli = (args, opts = {}) => runCli(args, { addr: server.api.addr, ...opts });
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('keys are checked when entered: a share that is not hex or base64 is refused before it is sent', async () => {
    const initRes = await server.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(initRes.status, 200);
    for (const args of [['operator', 'unseal', 'notakey'], ['operator', 'unseal', 'zz!!'], ['operator', 'unseal', 'abc']]) {
      const res = await cli(args);
      assert.equal(res.code, 1, args.join(' '));
      assert.match(res.stderr, /^That is not a key share: a share is hex or base64 of 16 to 33 bytes/);
      assert.ok(!res.stderr.includes(args[2]!), 'the typed text is not echoed');
    }
    const fromStdin = await cli(['operator', 'unseal'], { input: 'notakey\n' });
    assert.equal(fromStdin.code, 1);
    assert.match(fromStdin.stderr, /^That is not a key share/);
    // Nothing reached the server: no unseal progress, and the server's own (different) 400 never shows.
    const status = (await server.api.get('sys/seal-status')).body;
    assert.equal(status.progress, 0);
    assert.equal(status.sealed, true);
    // Start over on a fresh server for the init below.
    await server.kill();
    server.cleanup();
    server = await TestServer.start();
  });

  it('operator init -format=json prints exactly Vault CLI\'s names, whose keys unseal the server', async () => {
    const res = await cli(['operator', 'init', '-key-shares=3', '-key-threshold=2', '-format=json']);
    assert.equal(res.code, 0, res.stderr);
    init = JSON.parse(res.stdout);
    assert.deepEqual(Object.keys(init).sort(), VAULT_INIT_JSON_FIELDS);
    assert.equal((init.unseal_keys_hex as string[]).length, 3);
    assert.equal((init.unseal_keys_b64 as string[]).length, 3);
    assert.equal(init.unseal_shares, 3);
    assert.equal(init.unseal_threshold, 2);
    assert.deepEqual([init.recovery_keys_b64, init.recovery_keys_hex, init.recovery_keys_shares, init.recovery_keys_threshold], [[], [], 0, 0]);
    assert.match(init.root_token as string, /^hvs\./);
    for (const key of (init.unseal_keys_hex as string[]).slice(0, 2)) assert.equal((await cli(['operator', 'unseal', key])).code, 0);
    assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
  });

  it('status -format=json includes ha_enabled; -format=yaml and -format=table work too', async () => {
    const json = await cli(['status', '-format=json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.ha_enabled, false);
    assert.equal(parsed.sealed, false);
    assert.equal(parsed.type, 'shamir');
    const yaml = await cli(['status', '-format=yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.match(yaml.stdout, /^ha_enabled: false$/m);
    assert.match(yaml.stdout, /^sealed: false$/m);
    assert.match(yaml.stdout, /^type: shamir$/m);
    const table = await cli(['status', '-format=table']);
    assert.equal(tableRows(table.stdout).get('HA Enabled'), 'false');
    const viaEnv = await runCli(['status'], { addr: server.api.addr, env: { VAULT_FORMAT: 'yml' } });
    assert.match(viaEnv.stdout, /^initialized: true$/m);
    const bad = await cli(['status', '-format=xml']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^invalid format "xml": use "table", "json" or "yaml"/);
  });

  it('operator key-status prints its fields once (-format=json, yaml, -field)', async () => {
    const token = init.root_token as string;
    const json = await cli(['operator', 'key-status', '-format=json'], { token });
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(status).sort(), ['encryptions', 'install_time', 'term']);
    assert.equal(status.term, 1);
    const yaml = await cli(['operator', 'key-status', '-format=yaml'], { token });
    assert.deepEqual(yaml.stdout.trim().split('\n').map((l) => l.split(':')[0]), ['encryptions', 'install_time', 'term']);
    assert.equal((await cli(['operator', 'key-status', '-field=term'], { token })).stdout, '1\n');
  });

  it('-field=NAME works on read-like commands and says when a field is missing', async () => {
    const token = init.root_token as string;
    assert.equal((await cli(['status', '-field=type'])).stdout, 'shamir\n');
    assert.equal((await cli(['read', '-field=initialized', 'sys/health'])).stdout, 'true\n');
    assert.equal((await cli(['token', 'lookup', '-field=policies'], { token })).stdout, '[root]\n');
    const json = await cli(['token', 'lookup', '-field=policies', '-format=json'], { token });
    assert.deepEqual(JSON.parse(json.stdout), ['root']);
    const missing = await cli(['read', '-field=nope', 'sys/health']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Field "nope" not present in secret\n');
  });

  it('read of raw sys answers (sys/health, sys/seal-status, sys/seal-backend-status) prints their fields as a table', async () => {
    const health = await cli(['read', 'sys/health']);
    assert.equal(health.code, 0, health.stderr);
    const rows = tableRows(health.stdout);
    assert.equal(rows.get('initialized'), 'true');
    assert.equal(rows.get('sealed'), 'false');
    assert.match(rows.get('server_time_utc') ?? '', /^\d+$/);
    assert.equal(tableRows((await cli(['read', 'sys/seal-status'])).stdout).get('type'), 'shamir');
    assert.equal(tableRows((await cli(['read', 'sys/seal-backend-status'])).stdout).get('healthy'), 'true');
    const yaml = await cli(['read', '-format=yaml', 'sys/health']);
    assert.match(yaml.stdout, /^initialized: true$/m);
  });

  it('durations are shown as Vault shows them (ttl 59m57s), raw with -field', async () => {
    const token = init.root_token as string;
    const child = await server.api.post('auth/token/create', { ttl: '1h', policies: ['default'] }, token);
    const lookup = await cli(['token', 'lookup', child.body.auth.client_token], { token });
    assert.equal(lookup.code, 0, lookup.stderr);
    assert.match(tableRows(lookup.stdout).get('ttl') ?? '', /^(59m5\ds|1h)$/);
    assert.equal(tableRows(lookup.stdout).get('creation_ttl'), '1h');
    assert.equal(tableRows(lookup.stdout).get('explicit_max_ttl'), '0s');
    assert.match((await cli(['token', 'lookup', '-field=creation_ttl', child.body.auth.client_token], { token })).stdout, /^3600\n$/);
  });
});

describe('operator init under the HSM seal', () => {
  it('says the recovery keys authorise rekey, generate-root and unsealing after a manual seal', async () => {
    const { createSoftHsmToken, hsmServerConfig } = await import('./helpers/softhsm.ts');
    const token = createSoftHsmToken({ label: 'cli-habits' });
    const server = await TestServer.start({ config: hsmServerConfig(token), env: { ...token.env, VAULT_HSM_PIN: token.pin } });
    try {
      await server.waitFor('pkcs11 seal opened', 15_000);
      const res = await runCli(['operator', 'init', '-recovery-shares=3', '-recovery-threshold=2'], { addr: server.api.addr });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Recovery Key 3: \S+$/m);
      const text = res.stdout.replace(/\s+/g, ' ');
      assert.match(text, /a quorum of recovery key shares authorises rekeying, generating a new root token, and unsealing after the server was sealed by hand/);
      assert.doesNotMatch(text, /cannot unseal/i);
      assert.doesNotMatch(res.stdout + res.stderr, /\bVault\b/);
    } finally {
      await server.kill();
      server.cleanup();
      token.cleanup();
    }
  });
});

describe('version, help and unknown commands', () => {
  const local = (args: string[]) => runCli(args, { addr: 'http://127.0.0.1:1' });

  it('tresor version, -version and -v exit 0 with the version', async () => {
    for (const args of [['version'], ['-version'], ['-v'], ['--version']]) {
      const res = await local(args);
      assert.equal(res.code, 0, args.join(' '));
      assert.match(res.stdout, /^Tresor v\d+\.\d+\.\d+\S*, built \d{4}-\d\d-\d\dT/, args.join(' '));
    }
    const { VERSION } = await import('../src/core/core.ts');
    assert.ok((await local(['version'])).stdout.startsWith(`Tresor v${VERSION},`));
  });

  it('tresor help, help GROUP, help COMMAND and GROUP -h exit 0 with usage', async () => {
    const all = await local(['help']);
    assert.equal(all.code, 0);
    assert.match(all.stderr, /^Usage: tresor <command> \[args\]/);
    assert.match(all.stderr, /^ {4}version +Print the Tresor version$/m);
    const group = await local(['help', 'operator']);
    assert.equal(group.code, 0);
    assert.match(group.stderr, /^Usage: tresor operator <command> \[args\]/);
    const one = await local(['help', 'kv', 'get']);
    assert.equal(one.code, 0);
    assert.match(one.stderr, /^Usage: tresor kv get \[options\] PATH/);
    for (const args of [['operator', '-h'], ['kv', 'metadata', '--help'], ['-h'], ['token', '-help']]) {
      const res = await local(args);
      assert.equal(res.code, 0, args.join(' '));
      assert.match(res.stderr, /^Usage: tresor /, args.join(' '));
    }
  });

  it('-h on every command and subcommand exits 0 with its usage', async () => {
    const { allCommands } = await import('../src/cli/main.ts');
    const COMMANDS = await allCommands();
    // A few as real processes, every one through the same entry point in-process (50 spawns would be slow).
    for (const name of [['status'], ['operator', 'generate-root'], ['kv', 'metadata', 'patch'], ['print', 'token'], ['server']]) {
      const res = await local([...name, '-h']);
      assert.equal(res.code, 0, name.join(' '));
      assert.match(res.stderr, new RegExp(`^Usage: tresor ${name.join(' ')}\\b`));
    }
    const { runCli: runInProcess } = await import('../src/cli/main.ts');
    for (const command of COMMANDS) {
      let err = '';
      const io = { env: {}, stdout: () => {}, stderr: (t: string) => (err += t), readStdin: async () => '', promptSecret: async () => '' };
      const code = await runInProcess([...command.name, '-h'], io);
      assert.equal(code, 0, command.name.join(' '));
      assert.match(err, new RegExp(`^Usage: tresor ${command.name.join(' ')}\\b`), command.name.join(' '));
    }
  });

  it('the first-word table names the module of every command, so no command is unreachable', async () => {
    const { COMMAND_MODULES } = await import('../src/cli/main.ts');
    let seen = 0;
    for (const loaders of Object.values(COMMAND_MODULES)) {
      for (const load of loaders) {
        for (const command of await load()) {
          seen++;
          const word = command.name[0]!;
          assert.ok(Object.hasOwn(COMMAND_MODULES, word), `no table entry for "${command.name.join(' ')}"`);
          assert.ok(COMMAND_MODULES[word]!.includes(load), `"${command.name.join(' ')}" is not loaded by its first word`);
        }
      }
    }
    assert.ok(seen > 40, `only ${seen} commands found`);
  });

  it('an unknown command says so and suggests the closest one; exit 127 only then', async () => {
    const typo = await local(['stauts']);
    assert.equal(typo.code, 127);
    assert.equal(typo.stderr, 'Unknown command "stauts". Did you mean "status"?\n\nRun "tresor help" to list the commands.\n');
    const sub = await local(['operator', 'unsael', 'x']);
    assert.equal(sub.code, 127);
    assert.match(sub.stderr, /^Unknown command "operator unsael"\. Did you mean "operator unseal"\?/);
    const far = await local(['frobnicate']);
    assert.equal(far.code, 127);
    assert.match(far.stderr, /^Unknown command "frobnicate"\.\n/);
    const helpTypo = await local(['help', 'stauts']);
    assert.equal(helpTypo.code, 127);
    assert.match(helpTypo.stderr, /Did you mean "status"\?/);
  });
});

describe('one clear line for every error a user can cause', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await TestServer.startDev();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-habits-err-'));
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Exactly one line of text, no stack frames, no Node error names. */
  function assertOneLine(res: CliResult, pattern: RegExp): void {
    assert.notEqual(res.code, 0);
    assert.equal(res.stderr.trimEnd().split('\n').length, 1, res.stderr);
    assert.doesNotMatch(res.stderr, /\n\s+at |ERR_|Error: E[A-Z]+:/, res.stderr);
    assert.match(res.stderr, pattern);
  }

  it('a token file in a missing directory, or one that is a directory', async () => {
    const missingDir = path.join(dir, 'no', 'such', 'dir', 'token');
    const login = await runCli(['login', 'root'], { addr: server.api.addr, env: { TRESOR_TOKEN_FILE: missingDir } });
    assertOneLine(login, new RegExp(`^Error: cannot store the token in ${missingDir}: the directory ${path.dirname(missingDir)} does not exist \\(TRESOR_TOKEN_FILE sets where it goes\\)\\n$`));
    const isDir = await runCli(['token', 'lookup'], { addr: server.api.addr, env: { TRESOR_TOKEN_FILE: dir } });
    assertOneLine(isDir, /^Error: cannot read the token file \S+: it is a directory\n$/);
  });

  it('a missing CA file, client certificate or an unreachable address', async () => {
    assertOneLine(await runCli(['status'], { addr: server.api.addr, env: { TRESOR_CACERT: '/nonexistent' } }), /^Error: cannot read the CA certificate file \/nonexistent: no such file or directory\n$/);
    assertOneLine(
      await runCli(['status', '-client-cert=/nonexistent/c.pem', '-client-key=/nonexistent/k.pem'], { addr: server.api.addr }),
      /^Error: cannot read the client certificate file \/nonexistent\/c\.pem: no such file or directory\n$/,
    );
    const half = await runCli(['status', '-client-cert=/x.pem'], { addr: server.api.addr });
    assert.equal(half.code, 1);
    // A usage mistake: its one line, then where to find the usage.
    assert.equal(half.stderr, '-client-cert and -client-key must be given together\n\nRun "tresor status -h" for usage.\n');
    assertOneLine(await runCli(['kv', 'get', 'secret/x'], { addr: 'http://127.0.0.1:1', token: 'root' }), /connection refused \(ECONNREFUSED\): is a Tresor server listening at 127\.0\.0\.1:1\?\n$/);
    assertOneLine(await runCli(['status'], { addr: 'http://no-such-host.invalid:8200' }), /cannot resolve the host name "no-such-host\.invalid"/);
  });

  it('errors say Tresor, not Vault', async () => {
    const all = [
      await runCli(['operator', 'init', '-status'], { addr: server.api.addr }),
      await runCli(['status'], { addr: 'http://127.0.0.1:1' }),
      await runCli(['print', 'token'], { env: { TRESOR_TOKEN_FILE: path.join(dir, 'none') } }),
    ];
    assert.equal(all[0]!.stdout, 'Tresor is initialized\n');
    for (const res of all) assert.doesNotMatch(res.stdout + res.stderr, /\bVault\b/);
  });
});

describe('Vault CLI commands and flags', () => {
  let server: TestServer;
  let dir: string;
  let cli: (args: string[], opts?: { token?: string; input?: string; env?: NodeJS.ProcessEnv }) => Promise<CliResult>;
  const ok = async (args: string[], opts: { token?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const res = await cli(args, opts);
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
    return res.stdout;
  };
  before(async () => {
    server = await TestServer.startDev();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-habits-cmd-'));
    cli = (args, opts = {}) => runCli(args, { addr: server.api.addr, token: 'root', ...opts });
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('token lookup -self, token renew -self, token lookup -accessor', async () => {
    const created = await server.api.createToken({ ttl: '1h', policies: ['default'] });
    const self = await ok(['token', 'lookup', '-self'], { token: created.client_token });
    assert.equal(tableRows(self).get('accessor'), created.accessor);
    const byAccessor = await ok(['token', 'lookup', '-accessor', created.accessor]);
    assert.equal(tableRows(byAccessor).get('id'), 'n/a');
    assert.equal(tableRows(byAccessor).get('accessor'), created.accessor);
    const renewed = JSON.parse(await ok(['token', 'renew', '-self', '-increment=2h', '-format=json'], { token: created.client_token }));
    assert.equal(renewed.auth.lease_duration, 7200);
    const mixed = await cli(['token', 'lookup', '-self', created.client_token]);
    assert.equal(mixed.code, 1);
  });

  it('print token prints the token in use; none is exit 2', async () => {
    assert.equal(await ok(['print', 'token'], { token: 'hvs.Example' }), 'hvs.Example\n');
    const none = await runCli(['print', 'token'], { env: { TRESOR_TOKEN_FILE: path.join(dir, 'absent') } });
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
  });

  it('-output-curl-string prints the request instead of sending it; -header adds headers but not X-Vault-*', async () => {
    const curl = await ok(['kv', 'put', '-output-curl-string', '-header=X-Trace=abc 1', 'secret/curl', 'k=v']);
    // kv put asks for the mount first: that is the request printed (as Vault does).
    assert.equal(curl, `curl -H "X-Trace: abc 1" -H "X-Vault-Request: true" -H "X-Vault-Token: $(tresor print token)" ${server.api.addr}/v1/sys/internal/ui/mounts/secret/curl\n`);
    const write = await ok(['write', '-output-curl-string', 'secret/data/curl', "note=it's"]);
    assert.equal(write, `curl -X PUT -H "X-Vault-Request: true" -H "X-Vault-Token: $(tresor print token)" -H "Content-Type: application/json" -d '{"note":"it'"'"'s"}' ${server.api.addr}/v1/secret/data/curl\n`);
    assert.equal((await server.api.get('secret/data/curl')).status, 404, 'nothing was written');
    const refused = await cli(['status', '-header=X-Vault-Token=evil']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^-header: headers starting with "X-Vault-" cannot be set this way \(X-Vault-Token\)/);
  });

  it('-non-interactive fails at once instead of prompting at a terminal', async () => {
    // `script` gives the CLI a terminal, where it would otherwise wait at the hidden prompt.
    const run = (extra: string) =>
      new Promise<{ code: number | null; out: string; ms: number }>((resolve) => {
        const t0 = Date.now();
        const child = execFile('script', ['-qec', `${TRESOR_BIN} login ${extra}`, '/dev/null'], { env: { ...process.env, TRESOR_ADDR: server.api.addr }, timeout: 8000 }, (err, stdout) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: stdout, ms: Date.now() - t0 }),
        );
        child.stdin?.end();
      });
    const res = await run('-non-interactive');
    assert.ok(res.ms < 7000, `did not wait (${res.ms} ms)`);
    assert.match(res.out, /-non-interactive: "Token" would be asked at the terminal; give it as an argument or on stdin/);
    // Piped stdin is still read with -non-interactive.
    const piped = await cli(['login', '-non-interactive', '-no-store'], { input: 'root\n', token: undefined });
    assert.equal(piped.code, 0, piped.stderr);
  });

  it('-client-cert and -client-key authenticate to a server that requires a client certificate', async () => {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'srv.key', '-out', 'srv.pem');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=client', '-keyout', 'client.key', '-out', 'client.csr');
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'client.pem');
    const https = await import('node:https');
    const seen: string[] = [];
    const mtls = https.createServer(
      { key: fs.readFileSync(path.join(dir, 'srv.key')), cert: fs.readFileSync(path.join(dir, 'srv.pem')), ca: fs.readFileSync(path.join(dir, 'ca.pem')), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        seen.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? ''));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'shamir', initialized: true, sealed: false, t: 1, n: 1 }));
      },
    );
    await new Promise<void>((r) => mtls.listen(0, '127.0.0.1', r));
    const addr = `https://127.0.0.1:${(mtls.address() as net.AddressInfo).port}`;
    try {
      const caFlag = `-ca-cert=${path.join(dir, 'srv.pem')}`;
      const withCert = await runCli(['read', '-field=sealed', caFlag, `-client-cert=${path.join(dir, 'client.pem')}`, `-client-key=${path.join(dir, 'client.key')}`, 'sys/seal-status'], { addr });
      assert.equal(withCert.code, 0, withCert.stderr);
      assert.equal(withCert.stdout, 'false\n');
      assert.deepEqual(seen, ['client']);
      const viaEnv = await runCli(['read', '-field=sealed', caFlag, 'sys/seal-status'], { addr, env: { VAULT_CLIENT_CERT: path.join(dir, 'client.pem'), VAULT_CLIENT_KEY: path.join(dir, 'client.key') } });
      assert.equal(viaEnv.code, 0, viaEnv.stderr);
      const without = await runCli(['read', caFlag, 'sys/seal-status'], { addr });
      assert.notEqual(without.code, 0);
      assert.equal(without.stderr.trimEnd().split('\n').length, 1, without.stderr);
      assert.equal(seen.length, 2, 'the request without a certificate was not served');
    } finally {
      await new Promise<void>((r) => mtls.close(() => r()));
    }
  });

  it('kv rollback writes an old version as the new current one; deleted versions are refused', async () => {
    await ok(['kv', 'put', 'secret/rb', 'v=one']);
    await ok(['kv', 'put', 'secret/rb', 'v=two']);
    const out = await ok(['kv', 'rollback', '-version=1', 'secret/rb']);
    assert.match(out, /^version\s+3$/m);
    assert.equal(await ok(['kv', 'get', '-field=v', 'secret/rb']), 'one\n');
    await ok(['kv', 'delete', '-versions=2', 'secret/rb']);
    const deleted = await cli(['kv', 'rollback', '-version=2', 'secret/rb']);
    assert.equal(deleted.code, 2);
    assert.equal(deleted.stderr, 'Cannot roll back to a version that has been deleted\n');
    const noVersion = await cli(['kv', 'rollback', 'secret/rb']);
    assert.equal(noVersion.code, 1);
    assert.match(noVersion.stderr, /^Must specify a version with -version/);
    assert.equal((await server.api.get('secret/metadata/rb')).body.data.current_version, 3);
  });

  it('kv metadata patch changes only what is given', async () => {
    await ok(['kv', 'put', 'secret/mp', 'a=1']);
    await ok(['kv', 'metadata', 'put', '-max-versions=7', '-custom-metadata=owner=ops', 'secret/mp']);
    assert.match(await ok(['kv', 'metadata', 'patch', '-cas-required=true', '-custom-metadata=team=core', 'secret/mp']), /^Success! Data written to: secret\/metadata\/mp$/m);
    const meta = (await server.api.get('secret/metadata/mp')).body.data;
    assert.equal(meta.max_versions, 7);
    assert.equal(meta.cas_required, true);
    assert.deepEqual(meta.custom_metadata, { owner: 'ops', team: 'core' });
    assert.equal(await ok(['kv', 'metadata', 'get', '-field=max_versions', 'secret/mp']), '7\n');
    const nothing = await cli(['kv', 'metadata', 'patch', 'secret/mp']);
    assert.equal(nothing.code, 1);
  });

  it('kv enable-versioning sends Vault\'s tune request; the server\'s refusal is shown and nothing changes', async () => {
    await ok(['secrets', 'enable', '-path=kv1', 'kv']);
    const res = await cli(['kv', 'enable-versioning', 'kv1']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^Error tuning secrets engine: Error making API request\.[\s\S]*Code: 400\. Errors:\n\n\* changing the KV version of an existing mount is not supported\n$/);
    assert.equal((await server.api.get('sys/mounts')).body.data['kv1/'].options.version, '1');
    assert.match(await ok(['kv', 'enable-versioning', 'secret']), /^Success! Tuned the secrets engine at: secret\/$/m);
  });

  it('secrets move waits for the move and prints its result', async () => {
    await ok(['secrets', 'enable', '-path=mv-from', 'kv']);
    await server.api.put('mv-from/k', { v: 'moved' });
    const out = await ok(['secrets', 'move', 'mv-from', 'mv-to']);
    assert.match(out, /^Started moving secrets engine mv-from\/ to mv-to\/, with migration ID \S+\nSuccess! Finished moving secrets engine mv-from\/ to mv-to\/, with migration ID \S+\n$/);
    assert.deepEqual((await server.api.get('mv-to/k')).body.data, { v: 'moved' });
  });

  it('kv get of a soft-deleted version prints its metadata and says it was deleted', async () => {
    await ok(['kv', 'put', 'secret/gone', 'p=1']);
    await ok(['kv', 'delete', 'secret/gone']);
    const res = await cli(['kv', 'get', 'secret/gone']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^=+ Secret Path =+\nsecret\/data\/gone\n\n=+ Metadata =+\n/);
    assert.match(res.stdout, /^deletion_time\s+\d{4}-/m);
    assert.doesNotMatch(res.stdout, /Data =/);
    assert.match(res.stderr, /^Version 1 of secret\/gone was deleted at /);
    const json = JSON.parse(await ok(['kv', 'get', '-format=json', 'secret/gone']));
    assert.equal(json.data.data, null);
    assert.notEqual(json.data.metadata.deletion_time, '');
    const field = await cli(['kv', 'get', '-field=p', 'secret/gone']);
    assert.equal(field.code, 1);
  });
});
