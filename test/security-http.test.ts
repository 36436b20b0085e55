/**
 * Adversarial suite for the HTTP listener, against real `tresor server -dev`
 * child processes on loopback: slow and abandoned connections are timed out
 * (http_read_header_timeout, http_read_timeout, http_idle_timeout), open
 * connections are capped and running out of file descriptors does not end
 * the process, anonymous requests get a small body limit, and deeply nested
 * JSON is refused before any handler walks it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { DEV_ROOT_TOKEN, TestServer } from './helpers/server.ts';

const HEADER_TIMEOUT_MS = 1000;
const READ_TIMEOUT_MS = 3000;
const IDLE_TIMEOUT_MS = 1000;

function devConfig(extra = ''): string {
  return `listener "tcp" {
  address                  = "127.0.0.1:{{PORT}}"
  tls_disable              = true
  http_read_header_timeout = "${HEADER_TIMEOUT_MS}ms"
  http_read_timeout        = "${READ_TIMEOUT_MS / 1000}s"
  http_idle_timeout        = "${IDLE_TIMEOUT_MS / 1000}s"
${extra}}
`;
}

async function startDev(opts: { config?: string; maxOpenFiles?: number } = {}): Promise<TestServer> {
  const server = await TestServer.start({
    args: ['-dev', `-dev-root-token-id=${DEV_ROOT_TOKEN}`],
    config: opts.config ?? devConfig(),
    maxOpenFiles: opts.maxOpenFiles,
  });
  server.api.token = DEV_ROOT_TOKEN;
  return server;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw client connection that records what the server sends and when it closes. */
class Probe {
  readonly socket: net.Socket;
  readonly opened = Date.now();
  received = '';
  closedAt: number | undefined;
  private readonly closedPromise: Promise<void>;
  private trickle: NodeJS.Timeout | undefined;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => (this.received += d));
    this.socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.closedAt = Date.now();
        clearInterval(this.trickle);
        resolve();
      }),
    );
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** Keeps sending `text` every `everyMs`, so timeouts that restart on activity never fire. */
  keepSending(text: string, everyMs: number): void {
    this.trickle = setInterval(() => this.write(text), everyMs);
  }

  /** Resolves with the close time, or undefined if still open after `ms`. */
  async closedWithin(ms: number): Promise<number | undefined> {
    await Promise.race([this.closedPromise, sleep(ms)]);
    return this.closedAt;
  }

  destroy(): void {
    clearInterval(this.trickle);
    this.socket.destroy();
  }
}

/** Polls sys/health until `stop` resolves; returns every latency (ms) and status. */
function pollHealth(server: TestServer, stop: Promise<unknown>): Promise<{ status: number; ms: number }[]> {
  const results: { status: number; ms: number }[] = [];
  let done = false;
  void stop.then(() => (done = true));
  return (async () => {
    while (!done) {
      const t0 = Date.now();
      let status = 0;
      try {
        status = (await server.api.get('sys/health')).status;
      } catch {
        status = -1;
      }
      results.push({ status, ms: Date.now() - t0 });
      await sleep(100);
    }
    return results;
  })();
}

function assertVault408(probe: Probe): void {
  assert.match(probe.received, /^HTTP\/1\.1 408 /, `a 408, got ${JSON.stringify(probe.received.slice(0, 80))}`);
  const body = probe.received.slice(probe.received.indexOf('\r\n\r\n') + 4);
  assert.deepEqual(JSON.parse(body), { errors: ['timed out reading the request headers'] });
}

describe('listener timeouts (http_read_header_timeout, http_read_timeout, http_idle_timeout)', () => {
  let server: TestServer;
  before(async () => {
    server = await startDev();
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it('closes hundreds of slow-header connections with a 408 within the header timeout while sys/health keeps answering', async () => {
    const COUNT = 300;
    const probes: Probe[] = [];
    for (let i = 0; i < COUNT; i++) probes.push(new Probe(server.port));
    await Promise.all(probes.map((p) => p.connected()));
    const t0 = Date.now();
    probes.forEach((p, i) => {
      // A third send nothing, a third trickle header lines (the LIST rewriter
      // holds these back from Node's parser), a third trickle a LIST head.
      if (i % 3 === 0) return;
      p.write(i % 3 === 1 ? 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n' : 'LIST /v1/secret/metadata HTTP/1.1\r\nX-Vault-Token: root\r\n');
      p.keepSending('X-Slow: 1\r\n', 200);
    });
    const allClosed = Promise.all(probes.map((p) => p.closedWithin(HEADER_TIMEOUT_MS + 2000)));
    const health = pollHealth(server, allClosed);
    const closedAt = await allClosed;
    const polls = await health;
    try {
      const open = closedAt.filter((t) => t === undefined).length;
      assert.equal(open, 0, `${open} of ${COUNT} slow connections still open ${HEADER_TIMEOUT_MS + 2000} ms after they started`);
      const earliest = Math.min(...(closedAt as number[])) - t0;
      const latest = Math.max(...(closedAt as number[])) - t0;
      assert.ok(earliest >= HEADER_TIMEOUT_MS - 200, `closed by the timeout, not at once (earliest after ${earliest} ms)`);
      assert.ok(latest <= HEADER_TIMEOUT_MS + 1000, `all closed soon after the timeout (latest after ${latest} ms)`);
      for (const p of probes) assertVault408(p);
      assert.ok(polls.length >= 3, 'sys/health was polled throughout');
      for (const poll of polls) assert.equal(poll.status, 200, `sys/health answered ${poll.status}`);
      const slowest = Math.max(...polls.map((p) => p.ms));
      assert.ok(slowest < 1000, `sys/health answered within a second throughout (slowest ${slowest} ms)`);
    } finally {
      probes.forEach((p) => p.destroy());
    }
  });

  it('times a keep-alive connection out when idle, and a trickled second request from its first byte', async () => {
    const request = 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';
    // Idle after one answered request: closed by http_idle_timeout (Node adds a 1 s grace).
    const idle = new Probe(server.port);
    await idle.connected();
    idle.write(request);
    await server.until(async () => idle.received.includes('"initialized"'), 2000, 'the first response');
    const answeredAt = Date.now();
    const idleClosed = await idle.closedWithin(IDLE_TIMEOUT_MS + 3000);
    assert.ok(idleClosed !== undefined, 'an idle keep-alive connection is closed');
    assert.ok(idleClosed - answeredAt >= IDLE_TIMEOUT_MS - 100, `not before the idle timeout (${idleClosed - answeredAt} ms)`);

    // A second request trickled byte by byte keeps the socket busy, but its head is never complete.
    const slow = new Probe(server.port);
    await slow.connected();
    slow.write(request);
    await server.until(async () => slow.received.includes('"initialized"'), 2000, 'the first response');
    slow.received = '';
    const started = Date.now();
    slow.write('GET /v1/sys/health HTTP/1.1\r\n');
    slow.keepSending('X', 100);
    const slowClosed = await slow.closedWithin(HEADER_TIMEOUT_MS + 2000);
    slow.destroy();
    assert.ok(slowClosed !== undefined, 'a trickled head is cut off');
    assert.ok(slowClosed - started <= HEADER_TIMEOUT_MS + 700, `within the header timeout of its first byte (${slowClosed - started} ms)`);
    assertVault408(slow);
  });

  it('closes a connection whose body does not arrive within http_read_timeout, and nothing is written', async () => {
    const probe = new Probe(server.port);
    await probe.connected();
    const body = JSON.stringify({ data: { v: 'x'.repeat(200) } });
    probe.write(`PUT /v1/secret/data/slow-body HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${DEV_ROOT_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => probe.write(body[sent++] ?? ''), 100);
    const closedAt = await probe.closedWithin(READ_TIMEOUT_MS + 2000);
    clearInterval(drip);
    probe.destroy();
    assert.ok(closedAt !== undefined, 'the slow body is cut off');
    assert.ok(closedAt - probe.opened <= READ_TIMEOUT_MS + 700, `within the read timeout (${closedAt - probe.opened} ms)`);
    assert.ok(closedAt - probe.opened >= READ_TIMEOUT_MS - 200, `not before it (${closedAt - probe.opened} ms)`);
    assert.ok(sent < body.length, 'the body was still incomplete');
    const read = await server.api.get('secret/data/slow-body');
    assert.equal(read.status, 404);
    assert.equal((await server.api.get('sys/health')).status, 200);
  });
});

describe('listener connection cap and file-descriptor exhaustion', () => {
  it('closes connections beyond max_connections at once and answers again once the slow ones time out', async () => {
    const server = await startDev({ config: devConfig('  max_connections = 20\n') });
    const probes: Probe[] = [];
    try {
      for (let i = 0; i < 20; i++) probes.push(new Probe(server.port));
      await Promise.all(probes.map((p) => p.connected()));
      await sleep(200);
      const extra = new Probe(server.port);
      extra.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n');
      const extraClosed = await extra.closedWithin(1000);
      assert.ok(extraClosed !== undefined && extraClosed - extra.opened < 900, 'the connection beyond the cap is closed at once');
      assert.equal(extra.received, '', 'and not served');
      // A client sees the refusal at once (a reset), rather than waiting.
      await assert.rejects(server.api.get('sys/health'), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNRESET');
      // The slow connections hit the header timeout; then there is room again.
      await Promise.all(probes.map((p) => p.closedWithin(HEADER_TIMEOUT_MS + 2000)));
      assert.ok(probes.every((p) => p.closedAt !== undefined), 'the slow connections were timed out');
      assert.equal((await server.api.get('sys/health')).status, 200);
      assert.match(server.output, /connection limit \(20\) reached; refusing new connections/);
      assert.equal(server.exitCode, undefined);
    } finally {
      probes.forEach((p) => p.destroy());
      await server.stop();
      server.cleanup();
    }
  });

  it('survives running out of file descriptors (EMFILE) with a cap above the limit, and serves again once they free up', async () => {
    const server = await startDev({ config: devConfig('  max_connections = 5000\n'), maxOpenFiles: 96 });
    const probes: Probe[] = [];
    try {
      for (let i = 0; i < 150; i++) probes.push(new Probe(server.port));
      await Promise.all(probes.map((p) => p.connected().catch(() => {})));
      // Those the process had no descriptor for are closed, not left hanging.
      await server.until(async () => probes.filter((p) => p.closedAt !== undefined).length >= 30, 3000, 'connections beyond the descriptor limit to be closed');
      probes.forEach((p) => p.destroy());
      await server.until(
        async () => {
          try {
            return (await server.api.get('sys/health')).status === 200;
          } catch {
            return false;
          }
        },
        5000,
        'sys/health to answer again',
      );
      assert.equal(server.exitCode, undefined, 'the server is still running');
    } finally {
      probes.forEach((p) => p.destroy());
      await server.stop();
      server.cleanup();
    }
  });

  it('derives the default cap from the descriptor limit, so the process keeps descriptors of its own', async () => {
    // 96 descriptors: a default cap of 48 connections.
    const server = await startDev({ maxOpenFiles: 96 });
    const probes: Probe[] = [];
    try {
      for (let i = 0; i < 48; i++) probes.push(new Probe(server.port));
      await Promise.all(probes.map((p) => p.connected()));
      await sleep(200);
      const extra = new Probe(server.port);
      assert.ok((await extra.closedWithin(1000)) !== undefined, 'the 49th connection is closed');
      await server.until(async () => /connection limit \(48\) reached/.test(server.output), 2000, 'the connection-limit log line');
      probes.forEach((p) => p.destroy());
      await server.until(async () => (await server.api.get('sys/health').catch(() => ({ status: 0 }))).status === 200, 3000, 'sys/health');
    } finally {
      probes.forEach((p) => p.destroy());
      await server.stop();
      server.cleanup();
    }
  });
});

describe('request bodies: anonymous size limit and JSON nesting depth', () => {
  let server: TestServer;
  before(async () => {
    server = await startDev();
  });
  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const MiB = 1024 * 1024;

  async function raw(method: string, path: string, body: string | ReadableStream, headers: Record<string, string> = {}) {
    const t0 = Date.now();
    const res = await fetch(`${server.api.addr}/v1/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      ...(typeof body === 'string' ? {} : { duplex: 'half' }),
    } as RequestInit);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: Date.now() - t0 };
  }

  it('refuses a 1 MiB body to sys/unseal with a quick 413, with or without a token and Content-Length', async () => {
    const big = JSON.stringify({ key: 'a'.repeat(MiB) });
    for (const headers of [{}, { 'X-Vault-Token': DEV_ROOT_TOKEN }] as Record<string, string>[]) {
      const res = await raw('PUT', 'sys/unseal', big, headers);
      assert.equal(res.status, 413);
      assert.deepEqual(res.body, { errors: ['http: request body too large'] });
      assert.ok(res.ms < 1000, `quickly (${res.ms} ms)`);
    }
    // Chunked (no Content-Length): cut off while reading.
    const chunks = [Buffer.from('{"key":"'), ...Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024, 0x61)), Buffer.from('"}')];
    const stream = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const chunked = await raw('PUT', 'sys/unseal', stream);
    assert.equal(chunked.status, 413);
    assert.deepEqual(chunked.body, { errors: ['http: request body too large'] });
    // The same for any request without a token (it could only be refused).
    assert.equal((await raw('PUT', 'secret/data/anon', JSON.stringify({ data: { v: 'a'.repeat(MiB) } }))).status, 413);
    const status = await server.api.get('sys/seal-status');
    assert.equal(status.body.sealed, false);
    assert.equal(status.body.progress, 0);
    assert.equal((await server.api.get('sys/health')).status, 200);
  });

  it('still takes an init-sized body of PGP keys on sys/init, and big bodies from a token on other paths', async () => {
    // 10 + 10 keys of armored-RSA-4096 size (about 4.3 KB of base64 each) and a root token key: parsed, not refused for size.
    const fakeKey = Buffer.alloc(3300, 1).toString('base64');
    const body = { secret_shares: 10, secret_threshold: 3, pgp_keys: Array(10).fill(fakeKey), recovery_pgp_keys: Array(10).fill(fakeKey), root_token_pgp_key: fakeKey };
    assert.ok(JSON.stringify(body).length > 90_000);
    const init = await raw('PUT', 'sys/init', JSON.stringify(body));
    assert.notEqual(init.status, 413);
    assert.equal(init.status, 400, JSON.stringify(init.body)); // already initialised (dev)
    // A token holder keeps max_request_size (32 MiB) on other paths.
    const big = await raw('PUT', 'secret/data/big', JSON.stringify({ data: { v: 'b'.repeat(MiB) } }), { 'X-Vault-Token': DEV_ROOT_TOKEN });
    assert.equal(big.status, 200, JSON.stringify(big.body));
    assert.equal((await server.api.get('secret/data/big')).body.data.data.v.length, MiB);
  });

  it('gives a made-up or revoked token no more body than no token: 413 at the anonymous limit, nothing written', async () => {
    const body = JSON.stringify({ data: { v: 'c'.repeat(MiB) } });
    const made = await raw('PUT', 'secret/data/fake', body, { 'X-Vault-Token': 'hvs.made-up-token-value' });
    assert.equal(made.status, 413);
    assert.deepEqual(made.body, { errors: ['http: request body too large'] });
    const child = await server.api.createToken({ policies: ['root'] });
    assert.equal((await server.api.post('auth/token/revoke', { token: child.client_token })).status, 204);
    assert.equal((await raw('PUT', 'secret/data/fake', body, { 'X-Vault-Token': child.client_token })).status, 413);
    // A small body with a bad token still reaches the token check (403, not 413).
    assert.equal((await raw('PUT', 'secret/data/fake', '{"data":{"v":1}}', { 'X-Vault-Token': 'hvs.made-up-token-value' })).status, 403);
    assert.equal((await server.api.get('secret/data/fake')).status, 404);
  });

  const nested = (levels: number) => '{"a":'.repeat(levels - 1) + '{"a":1}' + '}'.repeat(levels - 1);

  it('refuses 20,000-level JSON with a 400 on kv v2 writes, merge patches and public endpoints; nothing is written', async () => {
    const deep = `{"data":${nested(20_000)}}`;
    const write = await raw('PUT', 'secret/data/deep', deep, { 'X-Vault-Token': DEV_ROOT_TOKEN });
    assert.equal(write.status, 400);
    assert.deepEqual(write.body, { errors: ['failed to parse JSON input: JSON input exceeds allowed nesting depth'] });
    assert.equal((await server.api.get('secret/data/deep')).status, 404);

    assert.equal((await server.api.put('secret/data/patched', { data: { a: 1 } })).status, 200);
    const patch = await raw('PATCH', 'secret/data/patched', deep, { 'X-Vault-Token': DEV_ROOT_TOKEN, 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patch.status, 400);
    assert.deepEqual(patch.body, { errors: ['failed to parse JSON input: JSON input exceeds allowed nesting depth'] });
    const after = await server.api.get('secret/data/patched');
    assert.deepEqual(after.body.data.data, { a: 1 });
    assert.equal(after.body.data.metadata.version, 1);

    const arrays = await raw('PUT', 'sys/unseal', '['.repeat(20_000) + ']'.repeat(20_000));
    assert.equal(arrays.status, 400);
    assert.deepEqual(arrays.body, { errors: ['failed to parse JSON input: JSON input exceeds allowed nesting depth'] });
    assert.equal((await server.api.get('sys/health')).status, 200);
  });

  it('takes 500 levels (Vault\'s max_json_depth default) on a write and a merge patch, and refuses 501', async () => {
    const token = { 'X-Vault-Token': DEV_ROOT_TOKEN };
    assert.equal((await raw('PUT', 'secret/data/d500', `{"data":${nested(499)}}`, token)).status, 200);
    const patch = await raw('PATCH', 'secret/data/d500', `{"data":${nested(499)}}`, { ...token, 'Content-Type': 'application/merge-patch+json' });
    assert.equal(patch.status, 200, JSON.stringify(patch.body));
    assert.equal((await raw('PUT', 'secret/data/d501', `{"data":${nested(500)}}`, token)).status, 400);
    assert.equal((await server.api.get('secret/data/d501')).status, 404);
  });
});
