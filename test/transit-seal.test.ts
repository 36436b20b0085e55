/**
 * `seal "transit"` against a second real Tresor server's transit engine:
 * recovery-key init, auto-unseal on restart, a seal-wrapped KV mount, token
 * renewal, the peer down at start-up and back, and start-up refusals for a
 * token without permission and a missing key. The token only ever travels
 * through VAULT_TOKEN and must never appear in the output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Api, freePort, TestServer } from './helpers/server.ts';

const KEY = 'autounseal';

/** The peer: file storage and Shamir, so it keeps its transit key across a restart on the same port. */
class Peer {
  server!: TestServer;
  unsealKey = '';
  rootToken = '';
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async create(): Promise<Peer> {
    const peer = new Peer(await freePort(), fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'tresor-peer-')));
    await peer.start();
    try {
      await peer.setUp();
    } catch (err) {
      await peer.server.kill();
      peer.cleanup();
      throw err;
    }
    return peer;
  }

  private async setUp(): Promise<void> {
    const peer = this;
    const init = await peer.server.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    peer.unsealKey = init.body.keys_base64[0];
    peer.rootToken = init.body.root_token;
    await peer.unseal();
    const api = peer.api;
    assert.equal((await api.post('sys/mounts/transit', { type: 'transit' })).status, 204);
    assert.ok([200, 204].includes((await api.post(`transit/keys/${KEY}`, {})).status));
    await api.writePolicy(
      'autounseal',
      `path "transit/encrypt/${KEY}" { capabilities = ["update"] }\npath "transit/decrypt/${KEY}" { capabilities = ["update"] }\n`,
    );
    await api.writePolicy('otherkey', `path "transit/encrypt/other" { capabilities = ["update"] }\npath "transit/decrypt/other" { capabilities = ["update"] }\n`);
  }

  get api(): Api {
    const api = this.server.api;
    api.token = this.rootToken;
    return api;
  }
  get address(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = await TestServer.start({ dir: this.dir, port: this.port });
  }
  async unseal(): Promise<void> {
    const res = await this.server.api.put('sys/unseal', { key: this.unsealKey });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.sealed, false);
  }
  async token(policy: string, ttl = '1h'): Promise<string> {
    const auth = await this.api.createToken({ policies: [policy], ttl, no_default_policy: false });
    return auth.client_token;
  }
  async stop(): Promise<void> {
    await this.server.stop();
  }
  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function transitConfig(peer: Peer, extra = ''): string {
  return `
storage "file" { path = "{{DATA}}" }
listener "tcp" {
  address     = "127.0.0.1:{{PORT}}"
  tls_disable = true
}
seal "transit" {
  address    = "${peer.address}"
  key_name   = "${KEY}"
  mount_path = "transit/"
${extra}
}
`;
}

async function startSealed(peer: Peer, token: string, o: { dir?: string; extra?: string; readyText?: string } = {}): Promise<TestServer> {
  return TestServer.start({
    config: transitConfig(peer, o.extra),
    env: { VAULT_TOKEN: token, TRESOR_HSM_HEARTBEAT_MS: '300' },
    dir: o.dir,
    readyText: o.readyText,
  });
}

/** Starts a server expected to stop by itself; returns its exit code and output. */
async function expectStartFailure(peer: Peer, token: string, o: { dir?: string; extra?: string } = {}): Promise<{ code: number | null; output: string }> {
  let server: TestServer | undefined;
  try {
    server = await startSealed(peer, token, o);
    const info = await server.waitExit(20_000);
    return { code: info.code, output: server.output };
  } catch (err) {
    const m = /server exited \((\{.*?\})\) before "[^"]*":\n([\s\S]*)$/.exec((err as Error).message);
    if (!m) throw err;
    return { code: JSON.parse(m[1]).code, output: m[2] };
  } finally {
    await server?.kill();
    if (!o.dir) server?.cleanup();
  }
}

/**
 * Every file under `dir` with its bytes, to show a refused start changed
 * nothing. SQLite's -shm index and an empty -wal come and go with each open;
 * a non-empty WAL would hold writes and is kept.
 */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('-shm') || (entry.name.endsWith('-wal') && fs.statSync(p).size === 0)) continue;
      else out.set(path.relative(dir, p), fs.readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

describe('transit seal through a second Tresor server', () => {
  let peer: Peer;
  let token: string;
  let server: TestServer | undefined;
  let dir: string;
  let rootToken: string;

  before(async () => {
    peer = await Peer.create();
    // A short TTL: the seal must renew it in the background to keep working.
    token = await peer.token('autounseal', '6s');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    await peer?.server.kill();
    peer?.cleanup();
  });

  it('initialises with recovery keys, serves a seal-wrapped KV mount and reports its seal', async () => {
    server = await startSealed(peer, token);
    await server.waitFor('transit seal opened', 15_000);
    dir = server.dir;
    const api = server.api;
    let status = (await api.get('sys/seal-status')).body;
    assert.equal(status.type, 'transit');
    assert.equal(status.initialized, false);

    const init = await api.put('sys/init', { recovery_shares: 3, recovery_threshold: 2 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    assert.equal(init.body.recovery_keys_base64.length, 3);
    assert.deepEqual(init.body.keys_base64, []);
    rootToken = init.body.root_token;
    api.token = rootToken;
    status = (await api.get('sys/seal-status')).body;
    assert.equal(status.sealed, false);
    assert.equal(status.recovery_seal, true);
    assert.equal(status.type, 'transit');

    const mount = await api.post('sys/mounts/wrapped', { type: 'kv', seal_wrap: true });
    assert.equal(mount.status, 204, JSON.stringify(mount.body));
    assert.equal((await api.put('wrapped/db', { password: 'hunter2' })).status, 204);
    const read = await api.get('wrapped/db');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.password, 'hunter2');
    // The stored value is not the plaintext anywhere on disk.
    for (const bytes of snapshot(path.join(dir, 'data')).values()) assert.ok(!Buffer.from(bytes, 'base64').includes('hunter2'));

    const backend = (await api.get('sys/seal-backend-status')).body;
    assert.equal(backend.healthy, true);
  });

  it('renews its short-lived token in the background', async () => {
    assert.ok(server);
    // Past the 6 s TTL: without renewal every call to the peer would now be refused.
    await new Promise((r) => setTimeout(r, 8000));
    assert.match(server.output, /transit seal: token renewed/);
    const api = server.api;
    assert.equal((await api.put('wrapped/after-ttl', { v: '1' })).status, 204);
    assert.equal((await api.get('wrapped/after-ttl')).body.data.v, '1');
  });

  it('auto-unseals through the peer on restart and reads the seal-wrapped value back', async () => {
    await server!.stop();
    server = await startSealed(peer, token, { dir });
    await server.waitFor('auto-unsealed through the transit seal', 20_000);
    server.api.token = rootToken;
    assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
    assert.equal((await server.api.get('wrapped/db')).body.data.password, 'hunter2');
    assert.ok(!server.output.includes(token), 'the token never appears in the output');
  });

  it('with the peer down at start-up stays sealed, says why, and unseals by itself once the peer is back', async () => {
    await server!.stop();
    // A token that outlives the outage (the 6 s one would expire while renewal cannot reach the peer).
    token = await peer.token('autounseal');
    await peer.stop();
    server = await startSealed(peer, token, { dir });
    await server.waitFor('transit seal not reachable', 15_000);
    assert.match(server.output, /peer unreachable \(ECONNREFUSED\)/);
    const status = await server.api.get('sys/seal-status');
    assert.equal(status.body.sealed, true);
    assert.equal(status.body.initialized, true);
    const backend = (await server.api.get('sys/seal-backend-status')).body;
    assert.equal(backend.healthy, false);
    assert.ok(backend.unhealthy_since);

    await peer.start();
    await peer.unseal();
    await server.waitFor('auto-unsealed through the transit seal', 40_000);
    server.api.token = rootToken;
    assert.equal((await server.api.get('wrapped/db')).body.data.password, 'hunter2');
    assert.ok(!server.output.includes(token));
  });

  it('while unsealed, a lost peer is reported unhealthy, wrapped writes fail with 503 naming the peer, other requests go on; it recovers by itself', async () => {
    const api = server!.api;
    await peer.stop();
    await server!.until(async () => (await api.get('sys/seal-backend-status')).body.healthy === false, 15_000, 'seal reported unhealthy');
    const backend = (await api.get('sys/seal-backend-status')).body;
    assert.equal(backend.backends[0].type, 'transit');
    assert.ok(backend.unhealthy_since);
    assert.equal((await api.get('sys/mounts')).status, 200, 'requests that need no seal keep working');
    const failed = await api.put('wrapped/outage', { v: '1' });
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.match(failed.body.errors[0], /transit.*peer unreachable \(ECONNREFUSED\)/);
    assert.ok(!JSON.stringify(failed.body).includes(token));
    assert.equal((await api.get('wrapped/outage')).status, 404, 'the failed write stored nothing');

    await peer.start();
    await peer.unseal();
    await server!.until(async () => (await api.get('sys/seal-backend-status')).body.healthy === true, 20_000, 'seal healthy again');
    assert.equal((await api.put('wrapped/outage', { v: '2' })).status, 204);
    assert.equal((await api.get('wrapped/outage')).body.data.v, '2');
  });

  it('refuses to start with a token that may not use the key, naming the stanza and the peer status, and changes nothing', async () => {
    await server!.stop();
    const before = snapshot(path.join(dir, 'data'));
    const denied = await peer.token('otherkey');
    const { code, output } = await expectStartFailure(peer, denied, { dir });
    assert.notEqual(code, 0);
    assert.match(output, /seal "transit": the token may not use key "autounseal" at transit\/ \(decrypt transit\/autounseal: 403 permission denied\)/);
    assert.ok(!output.includes(denied), 'the token never appears in the output');
    assert.deepEqual(snapshot(path.join(dir, 'data')), before);
  });

  it('refuses to start when the key does not exist on the peer, without creating it', async () => {
    const before = snapshot(path.join(dir, 'data'));
    const missing = await expectStartFailureWithKey(peer, 'no-such-key', dir);
    assert.notEqual(missing.code, 0);
    assert.match(missing.output, /seal "transit": transit key "no-such-key" not found at transit\/ \(decrypt transit\/no-such-key: 400 encryption key not found\)/);
    assert.ok(!missing.output.includes(peer.rootToken));
    assert.equal((await peer.api.get('transit/keys/no-such-key')).status, 404, 'the probe created no key');
    assert.deepEqual(snapshot(path.join(dir, 'data')), before);
  });
});

async function expectStartFailureWithKey(peer: Peer, keyName: string, dir: string): Promise<{ code: number | null; output: string }> {
  let server: TestServer | undefined;
  const config = transitConfig(peer).replace(`key_name   = "${KEY}"`, `key_name   = "${keyName}"`);
  try {
    server = await TestServer.start({ config, env: { VAULT_TOKEN: peer.rootToken }, dir });
    const info = await server.waitExit(20_000);
    return { code: info.code, output: server.output };
  } catch (err) {
    const m = /server exited \((\{.*?\})\) before "[^"]*":\n([\s\S]*)$/.exec((err as Error).message);
    if (!m) throw err;
    return { code: JSON.parse(m[1]).code, output: m[2] };
  } finally {
    await server?.kill();
  }
}
