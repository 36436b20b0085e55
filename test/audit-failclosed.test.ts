/**
 * Fail closed, logrotate and the storage-directory guard, against real
 * server child processes: with the only audit device broken (its file
 * replaced by a directory and the server sent SIGHUP; its TCP peer gone)
 * a request is refused with a 500 and its write is not applied; once
 * repaired, requests go through again. SIGHUP reopens a renamed file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Api, TestServer } from './helpers/server.ts';

const AUDIT_FAILED = { errors: ['internal error', 'no enabled audit device could record the request'] };

async function until(fn: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('audit: fail closed and logrotate (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-audit-fc-'));

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('file: SIGHUP after a rename (logrotate) opens a new file; entries continue there', async () => {
    const file = path.join(dir, 'rotate.log');
    assert.equal((await api.put('sys/audit/file', { type: 'file', options: { file_path: file } })).status, 204);
    assert.equal((await api.put('secret/data/before-rotate', { data: { v: '1' } })).status, 200);
    fs.renameSync(file, `${file}.1`);
    server.proc.kill('SIGHUP');
    await until(() => fs.existsSync(file), 'the reopened audit file');
    assert.equal((await api.put('secret/data/after-rotate', { data: { v: '2' } })).status, 200);
    const old = fs.readFileSync(`${file}.1`, 'utf8');
    const fresh = fs.readFileSync(file, 'utf8');
    assert.ok(old.includes('secret/data/before-rotate') && !old.includes('secret/data/after-rotate'));
    assert.ok(fresh.includes('secret/data/after-rotate'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it('file: with the only device broken the request is refused (500) and not applied; repaired, it works again', async () => {
    const file = path.join(dir, 'rotate.log');
    assert.equal((await api.put('secret/data/fc', { data: { v: 'original' } })).status, 200);
    // Break it: the file is moved away and a directory takes its name (root ignores chmod), then SIGHUP.
    fs.renameSync(file, `${file}.2`);
    fs.mkdirSync(file);
    server.proc.kill('SIGHUP');
    await until(() => server.output.includes('reopening device file/ failed'), 'the failed reopen in the log');
    const refused = await api.put('secret/data/fc', { data: { v: 'changed-while-broken' } });
    assert.equal(refused.status, 500);
    assert.deepEqual(refused.body, AUDIT_FAILED);
    const refusedNew = await api.put('secret/data/fc-new', { data: { v: 'x' } });
    assert.equal(refusedNew.status, 500);
    // Reads are refused too (nothing runs unaudited).
    assert.equal((await api.get('secret/data/fc')).status, 500);
    // Repair: the directory goes; the next entry opens the file again.
    fs.rmdirSync(file);
    const read = await api.get('secret/data/fc');
    assert.equal(read.status, 200);
    assert.equal(read.body.data.data.v, 'original', 'the refused write was not applied');
    assert.equal((await api.get('secret/data/fc-new')).status, 404, 'the refused create was not applied');
    const log = fs.readFileSync(file, 'utf8');
    assert.ok(log.includes('"path":"secret/data/fc"'));
    assert.equal((await api.delete('sys/audit/file')).status, 204);
  });

  it('one working device is enough: a broken device beside a working one does not refuse requests', async () => {
    const good = path.join(dir, 'good.log');
    const bad = path.join(dir, 'bad.log');
    assert.equal((await api.put('sys/audit/good', { type: 'file', options: { file_path: good } })).status, 204);
    assert.equal((await api.put('sys/audit/bad', { type: 'file', options: { file_path: bad } })).status, 204);
    fs.rmSync(bad);
    fs.mkdirSync(bad);
    server.proc.kill('SIGHUP');
    await until(() => server.output.includes('reopening device bad/ failed'), 'the failed reopen in the log');
    assert.equal((await api.put('secret/data/one-is-enough', { data: { v: '1' } })).status, 200);
    assert.ok(fs.readFileSync(good, 'utf8').includes('secret/data/one-is-enough'));
    fs.rmdirSync(bad);
    assert.equal((await api.delete('sys/audit/bad')).status, 204);
    assert.equal((await api.delete('sys/audit/good')).status, 204);
  });

  it('socket: the TCP peer gone refuses requests (500, not applied); a listener back on the port repairs it', async () => {
    let received = '';
    const conns = new Set<net.Socket>();
    const listen = (port = 0) =>
      new Promise<net.Server>((resolve) => {
        const srv = net.createServer((s) => {
          conns.add(s);
          s.on('data', (d) => (received += d));
        });
        srv.listen(port, '127.0.0.1', () => resolve(srv));
      });
    let peer = await listen();
    const port = (peer.address() as net.AddressInfo).port;
    assert.equal((await api.put('sys/audit/tcp', { type: 'socket', options: { address: `127.0.0.1:${port}`, write_timeout: '1s' } })).status, 204);
    assert.equal((await api.put('secret/data/sock-fc', { data: { v: 'original' } })).status, 200);
    await until(() => received.includes('secret/data/sock-fc'), 'the entry at the peer');
    // The peer goes away: connections closed, nothing listens on the port.
    await new Promise<void>((r) => {
      peer.close(() => r());
      for (const c of conns) c.destroy();
    });
    await new Promise((r) => setTimeout(r, 200));
    const refused = await api.put('secret/data/sock-fc', { data: { v: 'changed-while-gone' } });
    assert.equal(refused.status, 500, JSON.stringify(refused.body));
    assert.deepEqual(refused.body, AUDIT_FAILED);
    peer = await listen(port);
    try {
      const read = await api.get('secret/data/sock-fc');
      assert.equal(read.status, 200);
      assert.equal(read.body.data.data.v, 'original', 'the refused write was not applied');
      assert.equal((await api.delete('sys/audit/tcp')).status, 204);
    } finally {
      peer.close();
      for (const c of conns) c.destroy();
    }
  });
});

describe('audit: file storage server (storage directory guard, table kept across restarts)', () => {
  let server: TestServer;
  let api: Api;
  let unsealKey: string;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-audit-st-'));

  before(async () => {
    server = await TestServer.start();
    const init = await server.api.put('sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal(init.status, 200, JSON.stringify(init.body));
    unsealKey = init.body.keys[0];
    assert.equal((await server.api.put('sys/unseal', { key: unsealKey })).status, 200);
    api = new Api(server.api.addr, init.body.root_token);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('a file_path inside the storage directory (or through a symlink to it) is refused, nothing written', async () => {
    const data = path.join(server.dir, 'data');
    const link = path.join(logDir, 'link-to-data');
    fs.symlinkSync(data, link);
    for (const file_path of [path.join(data, 'audit.log'), data, path.join(link, 'core', 'x.log')]) {
      const res = await api.put('sys/audit/st', { type: 'file', options: { file_path } });
      assert.equal(res.status, 400, file_path);
      assert.deepEqual(res.body, { errors: ['file_path must not be inside the storage or plugin directory'] });
    }
    assert.ok(!fs.existsSync(path.join(data, 'audit.log')));
    assert.deepEqual((await api.get('sys/audit')).body.data, {});
  });

  it('the audit table and salt survive a restart (same hash); the device logs after unseal', async () => {
    const file = path.join(logDir, 'kept.log');
    assert.equal((await api.put('sys/audit/kept', { type: 'file', options: { file_path: file } })).status, 204);
    const before = (await api.put('sys/audit-hash/kept', { input: 'same-input' })).body.data.hash;
    await server.stop();
    server = await TestServer.start({ dir: server.dir });
    assert.equal((await server.api.put('sys/unseal', { key: unsealKey })).status, 200);
    api = new Api(server.api.addr, api.token);
    assert.equal((await api.put('sys/audit-hash/kept', { input: 'same-input' })).body.data.hash, before);
    assert.deepEqual(Object.keys((await api.get('sys/audit')).body.data), ['kept/']);
    assert.equal((await api.put('secret-none/x', {})).status >= 400, true);
    assert.ok(fs.readFileSync(file, 'utf8').includes('"path":"secret-none/x"'));
  });

  it('a clean shutdown under load: every acknowledged request has its request and response entries', async () => {
    const file = path.join(logDir, 'kept.log');
    assert.equal((await api.post('sys/mounts/load', { type: 'kv' })).status, 204);
    const acknowledged: string[] = [];
    const worker = async (w: number) => {
      // Until the server is gone (fetch throws), so writes are in flight when SIGTERM arrives.
      for (let i = 0; i < 20_000; i++) {
        try {
          const res = await api.put(`load/k${w}-${i}`, { v: `value-${w}-${i}` });
          if (res.status === 204 || res.status === 200) acknowledged.push(`load/k${w}-${i}`);
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await until(() => acknowledged.length >= 40, 'some acknowledged writes');
    server.proc.kill('SIGTERM');
    await Promise.all(workers);
    await server.waitExit();
    const logged = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const responded = new Set(logged.filter((e) => e.type === 'response' && !e.error).map((e) => e.request.path));
    const requested = new Set(logged.filter((e) => e.type === 'request').map((e) => e.request.path));
    assert.ok(acknowledged.length >= 40);
    for (const p of acknowledged) assert.ok(requested.has(p) && responded.has(p), `entries of the acknowledged write ${p}`);
  });
});
