/**
 * Audit devices against a real `tresor server -dev`: the file device on a
 * real file, the socket device on real TCP, UDP and unix-socket listeners,
 * syslog on the system's /dev/log when there is one; Vault's entry shape;
 * HMACs that match sys/audit-hash; refusals logged; bad enable requests
 * refused with the table unchanged.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import * as os from 'node:os';
import * as path from 'node:path';
import { Api, TestServer } from './helpers/server.ts';

const SECRET = 'hunter2-audit-secret';

/** The JSON entries of an audit log. */
function entries(text: string): any[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

async function until(fn: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function auditTable(api: Api): Promise<Record<string, unknown>> {
  const res = await api.get('sys/audit');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

async function hashOf(api: Api, device: string, input: string): Promise<string> {
  const res = await api.put(`sys/audit-hash/${device}`, { input });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.match(res.body.data.hash, /^hmac-sha256:[0-9a-f]{64}$/);
  return res.body.data.hash;
}

/** Writes the secret and returns the request/response entries of that write found in `text`. */
function writeEntries(text: string, secretPath: string): { request: any; response: any } {
  const all = entries(text).filter((e) => e.request?.path === secretPath && e.request?.operation !== 'read');
  const request = all.find((e) => e.type === 'request');
  const response = all.find((e) => e.type === 'response' && e.request.id === request?.request.id);
  assert.ok(request && response, `request and response entries of ${secretPath} in:\n${text}`);
  return { request, response };
}

describe('audit devices (-dev server)', () => {
  let server: TestServer;
  let api: Api;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-audit-'));

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('file: one JSON line per request and response, in Vault\'s shape, secrets and tokens hashed', async () => {
    const file = path.join(dir, 'audit.log');
    const enabled = await api.put('sys/audit/file', { type: 'file', description: 'main log', options: { file_path: file } });
    assert.equal(enabled.status, 204, JSON.stringify(enabled.body));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const table = await auditTable(api);
    assert.deepEqual(table['file/'], { path: 'file/', type: 'file', description: 'main log', options: { file_path: file }, local: false });

    const wrote = await api.put('secret/data/app', { data: { password: SECRET, nested: { list: [SECRET, 7] } } });
    assert.equal(wrote.status, 200);
    const read = await api.get('secret/data/app');
    assert.equal(read.status, 200);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes(SECRET), 'the secret value must not appear in the log');
    assert.ok(!/"(client_token|accessor)":"(?!hmac-sha256:)/.test(text), 'tokens and accessors are hashed');

    const { request, response } = writeEntries(text, 'secret/data/app');
    const h = await hashOf(api, 'file', SECRET);
    const hRoot = await hashOf(api, 'file', 'root');
    assert.equal(request.request.data.data.password, h);
    assert.deepEqual(request.request.data.data.nested.list, [h, 7]);
    assert.equal(request.auth.client_token, hRoot);
    assert.equal(request.request.client_token, hRoot);
    assert.match(request.auth.accessor, /^hmac-sha256:/);
    assert.deepEqual(request.auth.policies, ['root']);
    assert.equal(request.auth.token_type, 'service');
    assert.equal(request.request.operation, 'update');
    assert.equal(request.request.mount_type, 'kv');
    assert.equal(request.request.mount_point, 'secret/');
    assert.deepEqual(request.request.namespace, { id: 'root' });
    assert.equal(request.request.remote_address, '127.0.0.1');
    assert.ok(request.request.remote_port > 0);
    assert.ok(!Number.isNaN(Date.parse(request.time)));
    assert.equal(response.type, 'response');
    assert.equal(response.request.id, wrote.body.request_id, 'the body and the entries share the request id');
    assert.equal(response.response.data.version, 1, 'numbers stay as they are');
    // Order: each request entry comes before its response entry.
    const lines = text.split('\n');
    assert.ok(lines.findIndex((l) => l.includes(request.request.id) && l.includes('"type":"request"')) < lines.findIndex((l) => l.includes(request.request.id) && l.includes('"type":"response"')));
    // The read's response data carries the secret, hashed.
    const readResponse = entries(text).find((e) => e.type === 'response' && e.request.path === 'secret/data/app' && e.request.operation === 'read');
    assert.equal(readResponse.response.data.data.password, h);
    // Other devices hash with another salt; the same device always gives the same hash.
    assert.equal(await hashOf(api, 'file', SECRET), h);
  });

  it('a request refused for its token (403) is logged with its error', async () => {
    const file = path.join(dir, 'audit.log');
    const before = fs.readFileSync(file, 'utf8').length;
    const res = await api.put('secret/data/app', { data: { password: 'x' } }, 'not-a-token');
    assert.equal(res.status, 403);
    const added = entries(fs.readFileSync(file, 'utf8').slice(before));
    assert.deepEqual(added.map((e) => e.type), ['request', 'response']);
    assert.equal(added[0].error, 'permission denied');
    assert.equal(added[0].request.client_token, await hashOf(api, 'file', 'not-a-token'));
  });

  it('tokens handed out (login, token create) appear only hashed; stdout and discard paths work', async () => {
    const file = path.join(dir, 'audit.log');
    assert.equal((await api.post('sys/auth/userpass', { type: 'userpass' })).status, 204);
    assert.equal((await api.post('auth/userpass/users/alice', { password: 'alice-password-1', token_policies: 'default' })).status, 204);
    const login = await api.post('auth/userpass/login/alice', { password: 'alice-password-1' }, '');
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const created = await api.createToken({ policies: ['default'] });
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of [login.body.auth.client_token, created.client_token, created.accessor, 'alice-password-1']) {
      assert.ok(!text.includes(secret), 'a token, accessor or password in the clear');
    }
    const loginResponse = entries(text).find((e) => e.type === 'response' && e.request.path === 'auth/userpass/login/alice');
    assert.equal(loginResponse.response.auth.client_token, await hashOf(api, 'file', login.body.auth.client_token));
    assert.equal(loginResponse.request.mount_type, 'userpass');
    assert.equal(loginResponse.request.data.password, await hashOf(api, 'file', 'alice-password-1'));
    assert.equal((await api.put('sys/audit/nowhere', { type: 'file', options: { file_path: 'discard' } })).status, 204);
    assert.equal((await api.put('sys/audit/out', { type: 'file', options: { file_path: 'stdout' } })).status, 204);
    assert.equal((await api.put('secret/data/to-stdout', { data: { v: 'x' } })).status, 200);
    await until(() => server.output.includes('"path":"secret/data/to-stdout"'), 'the entry on the server\'s stdout');
    assert.equal((await api.delete('sys/audit/nowhere')).status, 204);
    assert.equal((await api.delete('sys/audit/out')).status, 204);
  });

  it('file options: log_raw, hmac_accessor=false, prefix, jsonx, mode, elide_list_responses', async () => {
    const raw = path.join(dir, 'raw.log');
    const x = path.join(dir, 'x.log');
    assert.equal((await api.put('sys/audit/raw', { type: 'file', options: { file_path: raw, log_raw: 'true', prefix: 'AUDIT ', mode: '0640', elide_list_responses: true } })).status, 204);
    assert.equal((await api.put('sys/audit/x', { type: 'file', options: { file_path: x, format: 'jsonx', hmac_accessor: 'false' } })).status, 204);
    assert.equal(fs.statSync(raw).mode & 0o777, 0o640);
    await api.put('secret/data/list/a', { data: { k: 'raw-visible' } });
    await api.put('secret/data/list/b', { data: { k: 'raw-visible' } });
    const listed = await api.list('secret/metadata/list');
    assert.equal(listed.status, 200);
    const rawText = fs.readFileSync(raw, 'utf8');
    assert.ok(rawText.split('\n').filter(Boolean).every((l) => l.startsWith('AUDIT {')));
    const rawEntries = entries(rawText.split('\n').map((l) => l.slice('AUDIT '.length)).join('\n'));
    assert.ok(rawText.includes('raw-visible'), 'log_raw keeps values');
    const listResponse = rawEntries.find((e) => e.type === 'response' && e.request.operation === 'list');
    assert.equal(listResponse.response.data.keys, 2, 'elide_list_responses: keys become their count');
    const xText = fs.readFileSync(x, 'utf8');
    const first = xText.split('\n').find((l) => l.includes('<json:string name="path">secret/data/list/a</json:string>'))!;
    assert.match(first, /^<\?xml version="1\.0" encoding="UTF-8"\?><json:object .*<json:string name="type">request<\/json:string>/);
    assert.ok(!xText.includes('raw-visible'));
    // hmac_accessor=false: the accessor in the clear, the token still hashed.
    const accessor = (await api.get('auth/token/lookup-self')).body.data.accessor;
    assert.ok(fs.readFileSync(x, 'utf8').includes(`<json:string name="accessor">${accessor}</json:string>`));
    assert.equal((await api.delete('sys/audit/raw')).status, 204);
    assert.equal((await api.delete('sys/audit/x')).status, 204);
  });

  it('socket: tcp, udp and unix listeners receive the entries', async () => {
    const received: Record<string, string> = { tcp: '', udp: '', unix: '' };
    const tcp = net.createServer((s) => s.on('data', (d) => (received.tcp += d)));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m) => (received.udp += m));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const sockPath = path.join(dir, 'audit.sock');
    const unix = net.createServer((s) => s.on('data', (d) => (received.unix += d)));
    await new Promise<void>((r) => unix.listen(sockPath, r));
    try {
      const tcpPort = (tcp.address() as net.AddressInfo).port;
      const udpPort = udp.address().port;
      assert.equal((await api.put('sys/audit/tcp', { type: 'socket', options: { address: `127.0.0.1:${tcpPort}`, socket_type: 'tcp', write_timeout: '2s' } })).status, 204);
      assert.equal((await api.put('sys/audit/udp', { type: 'socket', options: { address: `127.0.0.1:${udpPort}`, socket_type: 'udp' } })).status, 204);
      assert.equal((await api.put('sys/audit/unix', { type: 'socket', options: { address: sockPath, socket_type: 'unix' } })).status, 204);
      assert.equal((await api.put('secret/data/sock', { data: { password: SECRET } })).status, 200);
      for (const kind of ['tcp', 'udp', 'unix'] as const) {
        await until(() => received[kind].includes('"path":"secret/data/sock"') && received[kind].includes('"type":"response"'), `${kind} entries`);
        const { request } = writeEntries(received[kind], 'secret/data/sock');
        assert.equal(request.request.data.data.password, await hashOf(api, kind, SECRET));
        assert.ok(!received[kind].includes(SECRET));
      }
      for (const kind of ['tcp', 'udp', 'unix']) assert.equal((await api.delete(`sys/audit/${kind}`)).status, 204);
    } finally {
      tcp.close();
      udp.close();
      unix.close();
    }
  });

  it('syslog: to /dev/log when the system has one; otherwise enable is a clear 400', async () => {
    const before = await auditTable(api);
    const res = await api.put('sys/audit/syslog', { type: 'syslog', options: { facility: 'LOCAL0', tag: 'tresor-test' } });
    if (!fs.existsSync('/dev/log')) {
      // Explicit runtime condition: this machine runs no syslog daemon, so only the refusal can be checked.
      console.log('# syslog: /dev/log does not exist on this machine; checking the refusal only');
      assert.equal(res.status, 400);
      assert.match(res.body.errors[0], /\/dev\/log does not exist/);
      assert.deepEqual(await auditTable(api), before);
      return;
    }
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal((await api.put('secret/data/syslog', { data: { password: SECRET } })).status, 200);
    assert.equal((await api.delete('sys/audit/syslog')).status, 204);
  });

  it('syslog through a real unix datagram socket (TRESOR_SYSLOG_SOCKET): RFC 5424 messages with the tag and facility', async () => {
    // A second server whose syslog socket is a datagram socket bound by python (Node cannot bind one).
    const sock = path.join(dir, 'syslog.sock');
    const { spawn } = await import('node:child_process');
    const receiver = spawn('python3', ['-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(sock)})`,
      'print("ready", flush=True)',
      'while True:',
      '    print(s.recv(70000).decode().replace("\\n", " "), flush=True)',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    receiver.stdout!.on('data', (d) => (got += d));
    const syslogServer = await TestServer.start({ args: ['-dev', '-dev-root-token-id=root'], env: { TRESOR_SYSLOG_SOCKET: sock } });
    try {
      await until(() => got.includes('ready'), 'the syslog receiver');
      const sapi = new Api(syslogServer.api.addr, 'root');
      const res = await sapi.put('sys/audit/syslog', { type: 'syslog', options: { facility: 'LOCAL0', tag: 'tresor-test' } });
      assert.equal(res.status, 204, JSON.stringify(res.body));
      assert.equal((await sapi.put('secret/data/via-syslog', { data: { password: SECRET } })).status, 200);
      await until(() => got.includes('"path":"secret/data/via-syslog"') && /"type":"response".*via-syslog/.test(got), 'syslog messages');
      // <134> = facility local0 (16) * 8 + severity info (6); RFC 5424 version 1; the tag as APP-NAME.
      const line = got.split('\n').find((l) => l.includes('"path":"secret/data/via-syslog"'))!;
      assert.match(line, /^<134>1 \S+ \S+ tresor-test /);
      const entry = JSON.parse(line.slice(line.indexOf('{')));
      assert.equal(entry.request.data.data.password, await hashOf(sapi, 'syslog', SECRET));
      assert.ok(!got.includes(SECRET));
      const bad = await sapi.put('sys/audit/syslog2', { type: 'syslog', options: { facility: 'nope' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.errors[0], /unknown syslog facility/);
    } finally {
      await syslogServer.kill();
      syslogServer.cleanup();
      receiver.kill();
    }
  });

  it('bad enable requests are 4xx and leave the audit table unchanged', async () => {
    const before = await auditTable(api);
    const bad: [string, unknown, number, RegExp][] = [
      ['sys/audit/u', { type: 'nope', options: {} }, 400, /^unknown backend type: "nope"$/],
      ['sys/audit/u', { options: {} }, 400, /^unknown backend type: ""$/],
      ['sys/audit/u', { type: 'file', options: {} }, 400, /^file_path is required$/],
      ['sys/audit/u', { type: 'file', options: { file_path: `${dir}/../etc/x.log` } }, 400, /must not contain "\.\." segments/],
      ['sys/audit/u', { type: 'file', options: { file_path: 'relative/audit.log' } }, 400, /must be an absolute path/],
      ['sys/audit/u', { type: 'file', options: { file_path: path.join(dir, 'no-such-dir', 'a.log') } }, 400, /sanity check failed/],
      ['sys/audit/u', { type: 'file', options: { file_path: path.join(dir, 'm.log'), mode: 'rw' } }, 400, /"mode"/],
      ['sys/audit/u', { type: 'file', options: { file_path: path.join(dir, 'm.log'), format: 'xml' } }, 400, /unknown format type "xml"/],
      ['sys/audit/u', { type: 'socket', options: {} }, 400, /^address is required$/],
      ['sys/audit/u', { type: 'socket', options: { address: '127.0.0.1:1', socket_type: 'sctp' } }, 400, /socket_type/],
      ['sys/audit/file', { type: 'file', options: { file_path: path.join(dir, 'dup.log') } }, 400, /^path already in use$/],
      ['sys/audit/u', { type: 'file', options: 'not-a-map' }, 400, /options/],
      ['sys/audit/u', { type: 'file', options: { file_path: path.join(dir, 'm.log') }, local: 'maybe' }, 400, /local/],
      ['sys/audit/u', { type: 'file', options: { file_path: path.join(dir, 'm.log'), log_raw: 'maybe' } }, 400, /"log_raw"/],
    ];
    for (const [p, body, status, message] of bad) {
      const res = await api.put(p, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.ok(Array.isArray(res.body.errors) && message.test(res.body.errors[0]), `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'm.log')));
    // Without sudo: 403 for list, enable, disable and hash.
    await api.writePolicy('audit-nosudo', 'path "sys/audit*" { capabilities = ["create", "read", "update", "delete", "list"] }');
    const token = (await api.createToken({ policies: ['audit-nosudo'] })).client_token;
    for (const [method, p, body] of [['GET', 'sys/audit', undefined], ['PUT', 'sys/audit/n', { type: 'file', options: { file_path: path.join(dir, 'n.log') } }], ['DELETE', 'sys/audit/file', undefined], ['PUT', 'sys/audit-hash/file', { input: 'x' }]] as const) {
      const res = await api.call(method, p, body, token);
      assert.equal(res.status, 403, `${method} ${p}`);
      assert.deepEqual(res.body, { errors: ['permission denied'] });
    }
    assert.ok(!fs.existsSync(path.join(dir, 'n.log')));
    assert.deepEqual(await auditTable(api), before);
    // Framework decoding: null is absent, "true" is a bool, unknown and "__proto__" keys are harmless.
    const lenient = await api.call('PUT', 'sys/audit/lenient', '{"type":"file","description":null,"local":"true","__proto__":{"x":1},"bogus":1,"options":{"file_path":"' + path.join(dir, 'lenient.log') + '"}}');
    assert.equal(lenient.status, 204, JSON.stringify(lenient.body));
    assert.deepEqual((await auditTable(api))['lenient/'], { path: 'lenient/', type: 'file', description: '', options: { file_path: path.join(dir, 'lenient.log') }, local: true });
    assert.equal((await api.delete('sys/audit/lenient')).status, 204);
    assert.equal((await api.call('PATCH', 'sys/audit/lenient', {})).status, 405);
    assert.deepEqual(await auditTable(api), before);
    const hashMissing = await api.put('sys/audit-hash/file', {});
    assert.equal(hashMissing.status, 400);
    assert.deepEqual(hashMissing.body, { errors: ['the "input" parameter is empty'] });
  });
});
