/**
 * The real `bin/tresor` CLI against a real `tresor server` (Shamir seal):
 * init, unseal (argument and stdin), status, key-status, rotate, seal,
 * JSON output and error exit codes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, TestServer, type CliResult } from './helpers/server.ts';
import { pgpDecrypt, pgpPair } from './recovery-helpers.ts';

/** `Key    Value` table rows as a map (first run of 2+ spaces splits). */
function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S.*?)\s{2,}(.*)$/.exec(line);
    if (m) rows.set(m[1], m[2].trim());
  }
  return rows;
}

describe('tresor CLI against a real server', () => {
  let server: TestServer;
  let cli: (args: string[], opts?: { token?: string; input?: string }) => Promise<CliResult>;
  let unsealKeys: string[] = [];
  let rootToken = '';

  before(async () => {
    server = await TestServer.start();
    cli = (args, opts = {}) => runCli(args, { addr: server.api.addr, ...opts });
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('status on an uninitialised server exits 2 and says Initialized false', async () => {
    const res = await cli(['status']);
    assert.equal(res.code, 2, res.stderr);
    const rows = tableRows(res.stdout);
    assert.equal(rows.get('Initialized'), 'false');
    assert.equal(rows.get('Sealed'), 'true');
  });

  it('operator init -key-shares=3 -key-threshold=2 prints 3 unseal keys and a root token', async () => {
    const res = await cli(['operator', 'init', '-key-shares=3', '-key-threshold=2']);
    assert.equal(res.code, 0, res.stderr);
    unsealKeys = [...res.stdout.matchAll(/^Unseal Key (\d+): (\S+)$/gm)].map((m) => m[2]);
    assert.equal(unsealKeys.length, 3, res.stdout);
    rootToken = /^Initial Root Token: (\S+)$/m.exec(res.stdout)?.[1] ?? '';
    assert.ok(rootToken.length > 10, res.stdout);
    assert.match(res.stdout, /3 key shares and a key threshold of 2/);
  });

  it('a bad request is printed as an error with a non-zero exit code', async () => {
    const res = await cli(['operator', 'init', '-key-shares=3', '-key-threshold=2']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /already initialized/i);
    assert.match(res.stderr, /400/);
  });

  it('status while sealed exits 2 with the share table', async () => {
    const res = await cli(['status']);
    assert.equal(res.code, 2);
    const rows = tableRows(res.stdout);
    assert.equal(rows.get('Seal Type'), 'shamir');
    assert.equal(rows.get('Initialized'), 'true');
    assert.equal(rows.get('Sealed'), 'true');
    assert.equal(rows.get('Total Shares'), '3');
    assert.equal(rows.get('Threshold'), '2');
    assert.equal(rows.get('Storage Type'), 'file');
  });

  it('operator unseal with a key argument, then with the key on stdin, unseals', async () => {
    const first = await cli(['operator', 'unseal', unsealKeys[0]]);
    assert.equal(first.code, 0, first.stderr); // as in Vault: a share accepted is success, sealed or not
    assert.equal(tableRows(first.stdout).get('Unseal Progress'), '1/2');

    const second = await cli(['operator', 'unseal'], { input: `${unsealKeys[2]}\n` });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(tableRows(second.stdout).get('Sealed'), 'false');
    assert.ok(!second.stdout.includes(unsealKeys[2]), 'the key read from stdin was echoed');
  });

  it('status when unsealed exits 0; -format=json prints the seal-status object', async () => {
    const table = await cli(['status']);
    assert.equal(table.code, 0);
    assert.ok(tableRows(table.stdout).get('Cluster ID'));
    const json = await cli(['status', '-format=json']);
    assert.equal(json.code, 0);
    const body = JSON.parse(json.stdout);
    assert.equal(body.sealed, false);
    assert.equal(body.t, 2);
    assert.equal(body.n, 3);
  });

  it('operator key-status and operator rotate move the term from 1 to 2', async () => {
    const before = await cli(['operator', 'key-status'], { token: rootToken });
    assert.equal(before.code, 0, before.stderr);
    assert.equal(tableRows(before.stdout).get('Key Term'), '1');
    const rotate = await cli(['operator', 'rotate'], { token: rootToken });
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /2/);
    const after = await cli(['operator', 'key-status', '-format=json'], { token: rootToken });
    assert.equal(after.code, 0, after.stderr);
    const body = JSON.parse(after.stdout);
    assert.equal(body.term ?? body.data?.term, 2);
  });

  it('operator key-status without a token fails with 403 and a non-zero exit', async () => {
    const res = await cli(['operator', 'key-status']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /permission denied/);
  });

  it('operator seal seals the server', async () => {
    const res = await cli(['operator', 'seal'], { token: rootToken });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await server.api.get('sys/seal-status')).body.sealed, true);
    assert.equal((await cli(['status'])).code, 2);
  });
});

describe('tresor operator init -format=json against a real server', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start();
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('prints the init response as JSON whose keys unseal the server', async () => {
    const res = await runCli(['operator', 'init', '-key-shares=1', '-key-threshold=1', '-format=json'], { addr: server.api.addr });
    assert.equal(res.code, 0, res.stderr);
    const body = JSON.parse(res.stdout);
    assert.equal(body.unseal_keys_b64?.length ?? body.keys_base64?.length, 1, res.stdout);
    assert.equal(typeof body.root_token, 'string');
    const key = (body.unseal_keys_b64 ?? body.keys_base64)[0];
    const unseal = await runCli(['operator', 'unseal', key], { addr: server.api.addr });
    assert.equal(unseal.code, 0, unseal.stderr + unseal.stdout);
  });
});

describe('operator init -pgp-keys', () => {
  it('prints base64 PGP-encrypted shares that `base64 -d | gpg -dq` turns into working unseal keys', async () => {
    const server = await TestServer.start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-init-pgp-'));
    try {
      const holders = await Promise.all(['ann', 'bob'].map((name) => pgpPair(name)));
      const files = holders.map((h, i) => {
        const file = path.join(dir, `holder${i}.asc`);
        fs.writeFileSync(file, h.privateKey.toPublic().armor());
        return file;
      });
      const res = await runCli(['operator', 'init', '-key-shares=2', '-key-threshold=2', `-pgp-keys=${files.join(',')}`], { addr: server.api.addr });
      assert.equal(res.code, 0, res.stderr);
      const printed = [...res.stdout.matchAll(/^Unseal Key \d+: (\S+)$/gm)].map((m) => m[1]);
      assert.equal(printed.length, 2, res.stdout);
      const keys = await Promise.all(printed.map((share, i) => pgpDecrypt(share, holders[i].privateKey)));
      for (const key of keys) await server.api.put('sys/unseal', { key });
      assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
    } finally {
      await server.kill();
      server.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
