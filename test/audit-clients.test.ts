/**
 * Audit devices through Vault clients and the CLI against a real
 * `tresor server -dev`: hvac's enable_audit_device,
 * list_enabled_audit_devices, calculate_hash and disable_audit_device;
 * node-vault's audits, enableAudit, disableAudit (and a write to
 * sys/audit-hash); `tresor audit enable|list|disable`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import nodeVault from 'node-vault';
import { runCli, TestServer } from './helpers/server.ts';
import { assertNoContent, assertVaultError, runHvac } from './helpers/hvac.ts';

describe('audit devices through clients (-dev server)', () => {
  let server: TestServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-audit-cl-'));

  before(async () => {
    server = await TestServer.startDev();
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hvac: enable_audit_device, list_enabled_audit_devices, calculate_hash, disable_audit_device', async () => {
    const file = path.join(dir, 'hvac.log');
    const out = await runHvac('sys_audit', 'audit_devices', { addr: server.api.addr, token: 'root' }, { file_path: file });
    assertNoContent(out.enable, 'enable_audit_device');
    assert.deepEqual(out.list.data['hvac-file/'], { path: 'hvac-file/', type: 'file', description: 'hvac log', options: { file_path: file }, local: false });
    assert.match(out.hash.data.hash, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal(out.hash_again.data.hash, out.hash.data.hash);
    assertVaultError(out.bad, 400, ['unknown backend type: "nope"']);
    assertNoContent(out.disable, 'disable_audit_device');
    assert.deepEqual(out.list_after.data, {});
    // The kv write's password in the log is the hash calculate_hash gave.
    const log = fs.readFileSync(file, 'utf8');
    assert.ok(log.includes(`"password":"${out.hash.data.hash}"`));
    assert.ok(!log.includes('"password":"hvac-input"'));
  });

  it('node-vault: audits, enableAudit, disableAudit and a write to sys/audit-hash', async () => {
    const file = path.join(dir, 'nv.log');
    const client = nodeVault({ apiVersion: 'v1', endpoint: server.api.addr, token: 'root' });
    await client.enableAudit({ name: 'nv', type: 'file', description: 'node-vault', options: { file_path: file } });
    const listed = await client.audits();
    assert.equal(listed.data['nv/'].type, 'file');
    assert.equal(listed['nv/'].options.file_path, file, 'the table is also at the top level, as Vault answers');
    const hashed = await client.write('sys/audit-hash/nv', { input: 'nv-input' });
    assert.match(hashed.data.hash, /^hmac-sha256:/);
    await assert.rejects(client.enableAudit({ name: 'nv2', type: 'file', options: { file_path: 'relative.log' } }), (err: any) => {
      assert.equal(err.response.statusCode, 400);
      assert.deepEqual(err.response.body, { errors: ['file_path must be an absolute path'] });
      return true;
    });
    await client.disableAudit({ name: 'nv' });
    assert.deepEqual((await client.audits()).data, {});
  });

  it('CLI: audit enable (options as key=value, -path, -description), list (-detailed, -format=json), disable', async () => {
    const file = path.join(dir, 'cli.log');
    const cli = (...args: string[]) => runCli(args, { addr: server.api.addr, token: 'root' });
    const empty = await cli('audit', 'list');
    assert.equal(empty.code, 2);
    assert.match(empty.stdout, /No audit devices are enabled\./);
    const en = await cli('audit', 'enable', '-path=cli-log', '-description=from the cli', 'file', `file_path=${file}`, 'mode=0640');
    assert.equal(en.code, 0, en.stderr);
    assert.match(en.stdout, /Success! Enabled the file audit device at: cli-log\//);
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    const list = await cli('audit', 'list');
    assert.equal(list.code, 0);
    assert.match(list.stdout, /Path\s+Type\s+Description/);
    assert.match(list.stdout, /cli-log\/\s+file\s+from the cli/);
    const detailed = await cli('audit', 'list', '-detailed');
    assert.match(detailed.stdout, /Replication\s+Options/);
    assert.match(detailed.stdout, /replicated/);
    assert.ok(detailed.stdout.includes(file));
    const json = await cli('audit', 'list', '-format=json');
    assert.equal(JSON.parse(json.stdout)['cli-log/'].options.file_path, file);
    const bad = await cli('audit', 'enable', 'file');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /file_path is required/);
    const dis = await cli('audit', 'disable', 'cli-log');
    assert.equal(dis.code, 0, dis.stderr);
    assert.match(dis.stdout, /Success! Disabled audit device \(if it was enabled\) at: cli-log\//);
    assert.equal((await cli('audit', 'list')).code, 2);
  });
});
