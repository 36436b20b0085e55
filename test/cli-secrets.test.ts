/**
 * The `tresor` CLI (a real child process per command) against a real
 * `tresor server -dev`: secrets, login, token, policy, kv and the generic
 * read/write/delete commands. Results are checked through the HTTP API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Api, runCli, TestServer, type CliResult } from './helpers/server.ts';

describe('tresor CLI against a -dev server', () => {
  let server: TestServer;
  let api: Api;
  let work: string;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tresor-cli-it-'));
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** Runs the CLI as root (or `token`) with a token file private to this test run. */
  function cli(args: string[], opts: { token?: string; input?: string; tokenFile?: string } = {}): Promise<CliResult> {
    return runCli(args, {
      addr: api.addr,
      token: opts.tokenFile ? undefined : (opts.token ?? 'root'),
      input: opts.input,
      env: { TRESOR_TOKEN_FILE: opts.tokenFile ?? path.join(work, 'unused-token') },
    });
  }
  async function ok(args: string[], opts: Parameters<typeof cli>[1] = {}): Promise<string> {
    const res = await cli(args, opts);
    assert.equal(res.code, 0, `tresor ${args.join(' ')} → ${res.code}\n${res.stdout}\n${res.stderr}`);
    return res.stdout;
  }
  const mounts = async () => (await api.get('sys/mounts')).body.data as Record<string, any>;
  const writeFile = (name: string, text: string) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    return file;
  };

  describe('secrets', () => {
    it('enable -path -description kv mounts kv v1 with that description', async () => {
      assert.match(await ok(['secrets', 'enable', '-path=cli-x', '-description=team store', 'kv']), /Success! Enabled the kv secrets engine at: cli-x\//);
      const m = (await mounts())['cli-x/'];
      assert.equal(m.type, 'kv');
      assert.equal(m.description, 'team store');
      assert.deepEqual(m.options, { version: '1' });
    });

    it('enable -version=2 kv mounts kv v2 at kv/; a duplicate exits 2 with the server\'s error', async () => {
      await ok(['secrets', 'enable', '-version=2', 'kv']);
      assert.deepEqual((await mounts())['kv/'].options, { version: '2' });
      const dup = await cli(['secrets', 'enable', '-version=2', 'kv']);
      assert.equal(dup.code, 2);
      assert.match(dup.stderr, /already in use/);
    });

    it('list shows the mounts; -detailed adds Seal Wrap and External Entropy Access columns', async () => {
      const plain = await ok(['secrets', 'list']);
      const header = plain.split('\n')[0];
      for (const col of ['Path', 'Type', 'Accessor', 'Description']) assert.ok(header.includes(col), header);
      for (const p of ['cubbyhole/', 'identity/', 'secret/', 'sys/']) assert.match(plain, new RegExp(`^${p}\\s`, 'm'));
      const detailed = await ok(['secrets', 'list', '-detailed']);
      const detailedHeader = detailed.split('\n')[0];
      for (const col of ['Seal Wrap', 'External Entropy Access', 'Default TTL', 'Max TTL', 'Options', 'UUID']) {
        assert.ok(detailedHeader.includes(col), `missing column ${col}: ${detailedHeader}`);
      }
      const sysRow = detailed.split('\n').find((l) => l.startsWith('sys/'))!;
      assert.ok(sysRow.includes((await mounts())['sys/'].uuid));
      const json = JSON.parse(await ok(['secrets', 'list', '-format=json']));
      assert.equal(json['secret/'].type, 'kv');
    });

    it('tune sets the description and default lease TTL', async () => {
      await ok(['secrets', 'enable', '-path=cli-tune', 'kv']);
      await ok(['secrets', 'tune', '-description=tuned', '-default-lease-ttl=1h', 'cli-tune']);
      const m = (await mounts())['cli-tune/'];
      assert.equal(m.description, 'tuned');
      assert.equal(m.config.default_lease_ttl, 3600);
    });

    it('move carries the data to the new path; disable removes the mount', async () => {
      await ok(['secrets', 'enable', '-path=cli-from', 'kv']);
      await api.put('cli-from/k', { v: 'moved' });
      await ok(['secrets', 'move', 'cli-from', 'cli-to']);
      assert.equal((await mounts())['cli-from/'], undefined);
      assert.deepEqual((await api.get('cli-to/k')).body.data, { v: 'moved' });
      assert.match(await ok(['secrets', 'disable', 'cli-to']), /Success! Disabled/);
      assert.equal((await mounts())['cli-to/'], undefined);
    });

    it('enable of a reserved path exits 2', async () => {
      const res = await cli(['secrets', 'enable', '-path=sys/mine', 'kv']);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /reserved/);
    });
  });

  describe('login and token', () => {
    it('login TOKEN stores the token in TRESOR_TOKEN_FILE with mode 0600; later commands use it', async () => {
      await api.put('sys/policies/acl/cli-reader', { policy: 'path "secret/data/cli/*" {\n  capabilities = ["read", "list"]\n}\n' });
      const token = (await api.post('auth/token/create', { policies: ['cli-reader'] })).body.auth.client_token;
      const tokenFile = path.join(work, 'login-token');
      const out = await ok(['login', token], { tokenFile });
      assert.match(out, /Success!/);
      assert.equal(fs.readFileSync(tokenFile, 'utf8').trim(), token);
      assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
      const lookup = JSON.parse(await ok(['token', 'lookup', '-format=json'], { tokenFile }));
      assert.deepEqual(lookup.data.policies, ['cli-reader', 'default']);
      const bad = await cli(['login', 'hvs.not-valid'], { tokenFile: path.join(work, 'bad-login') });
      assert.equal(bad.code, 2);
      assert.equal(fs.existsSync(path.join(work, 'bad-login')), false);
    });

    it('token create -policy -ttl -format=json, token lookup, renew, capabilities and revoke', async () => {
      await api.put('sys/policies/acl/cli-app', { policy: 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n' });
      const created = JSON.parse(await ok(['token', 'create', '-policy=cli-app', '-ttl=1h', '-format=json']));
      const token: string = created.auth.client_token;
      assert.deepEqual(created.auth.policies, ['cli-app', 'default']);
      assert.equal(created.auth.lease_duration, 3600);

      const lookup = await ok(['token', 'lookup', token]);
      assert.match(lookup, /^policies\s+\[cli-app default\]$/m);
      // Duration-like keys are shown as Vault shows them.
      assert.match(lookup, /^creation_ttl\s+1h$/m);
      const byAccessor = await ok(['token', 'lookup', '-accessor', created.auth.accessor]);
      assert.match(byAccessor, /^policies\s+\[cli-app default\]$/m);

      const renewed = JSON.parse(await ok(['token', 'renew', '-increment=2h', '-format=json', token]));
      assert.equal(renewed.auth.lease_duration, 7200);

      assert.equal((await ok(['token', 'capabilities', 'secret/data/app/x'], { token })).trim(), 'list, read');
      assert.equal((await ok(['token', 'capabilities', 'secret/data/other'], { token })).trim(), 'deny');

      await ok(['token', 'revoke', token]);
      assert.equal((await api.get('auth/token/lookup-self', token)).status, 403);
      const gone = await cli(['token', 'lookup', token]);
      assert.equal(gone.code, 2);
    });

    it('token revoke -self revokes the token in use', async () => {
      const token = (await api.post('auth/token/create', { policies: ['default'] })).body.auth.client_token;
      await ok(['token', 'revoke', '-self'], { token });
      assert.equal((await api.get('auth/token/lookup-self', token)).status, 403);
    });
  });

  describe('policy', () => {
    it('policy write NAME FILE and from stdin, policy read prints the text, policy delete removes it', async () => {
      const text = 'path "secret/data/pol/*" {\n  capabilities = ["read"]\n}\n';
      assert.match(await ok(['policy', 'write', 'cli-pol', writeFile('pol.hcl', text)]), /Success! Uploaded policy: cli-pol/);
      assert.equal((await api.get('sys/policies/acl/cli-pol')).body.data.policy, text);
      assert.equal((await ok(['policy', 'read', 'cli-pol'])).trim(), text.trim());

      await ok(['policy', 'write', 'cli-stdin', '-'], { input: text });
      assert.equal((await api.get('sys/policies/acl/cli-stdin')).body.data.policy, text);

      await ok(['policy', 'delete', 'cli-pol']);
      assert.equal((await api.get('sys/policies/acl/cli-pol')).status, 404);
      assert.equal((await cli(['policy', 'read', 'cli-pol'])).code, 2);
    });

    it('policy write of an invalid policy exits 2 with the line in the error and stores nothing', async () => {
      const bad = writeFile('bad.hcl', 'path "a" {\n  capabilities = ["read"]\n}\npath "b" {\n  capabilities = ["fly"]\n}\n');
      const res = await cli(['policy', 'write', 'cli-bad', bad]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /line 5/);
      assert.equal((await api.get('sys/policies/acl/cli-bad')).status, 404);
    });
  });

  describe('kv', () => {
    it('put, get (table, -field, -version, json), patch, -cas', async () => {
      await ok(['kv', 'put', 'secret/cli/a', 'user=alice', 'pass=s3cret']);
      const table = await ok(['kv', 'get', 'secret/cli/a']);
      assert.match(table, /^user\s+alice$/m);
      assert.match(table, /^version\s+1$/m);
      assert.equal((await ok(['kv', 'get', '-field=pass', 'secret/cli/a'])).trim(), 's3cret');

      const stale = await cli(['kv', 'put', '-cas=0', 'secret/cli/a', 'user=mallory']);
      assert.equal(stale.code, 2);
      assert.match(stale.stderr, /check-and-set/);
      await ok(['kv', 'put', '-cas=1', 'secret/cli/a', 'user=bob']);
      await ok(['kv', 'patch', 'secret/cli/a', 'extra=1']);
      const latest = (await api.get('secret/data/cli/a')).body.data;
      assert.deepEqual(latest.data, { user: 'bob', extra: '1' });
      assert.equal(latest.metadata.version, 3);
      const v1 = JSON.parse(await ok(['kv', 'get', '-version=1', '-format=json', 'secret/cli/a']));
      assert.deepEqual(v1.data.data, { user: 'alice', pass: 's3cret' });
    });

    it('delete, undelete -versions, destroy -versions and metadata get', async () => {
      await ok(['kv', 'put', 'secret/cli/life', 'v=1']);
      await ok(['kv', 'put', 'secret/cli/life', 'v=2']);
      await ok(['kv', 'delete', 'secret/cli/life']);
      // As in Vault, a deleted version still shows its metadata (and Tresor says it was deleted).
      const deleted = await cli(['kv', 'get', 'secret/cli/life']);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /^deletion_time\s+\d{4}-/m);
      assert.doesNotMatch(deleted.stdout, /= Data =/);
      assert.match(deleted.stderr, /^Version 2 of secret\/cli\/life was deleted at \S+; "tresor kv undelete -versions=2 secret\/cli\/life" restores it\.\n$/);
      await ok(['kv', 'undelete', '-versions=2', 'secret/cli/life']);
      assert.equal((await ok(['kv', 'get', '-field=v', 'secret/cli/life'])).trim(), '2');
      await ok(['kv', 'destroy', '-versions=1', 'secret/cli/life']);
      assert.equal((await api.get('secret/data/cli/life?version=1')).status, 404);
      const meta = await ok(['kv', 'metadata', 'get', 'secret/cli/life']);
      assert.match(meta, /^current_version\s+2$/m);
      assert.match(meta, /Version 1 =+\n(?:.*\n)*?destroyed\s+true/);
    });

    it('kv put/get work on a kv v1 mount too', async () => {
      await api.post('sys/mounts/cli-v1', { type: 'kv' });
      await ok(['kv', 'put', 'cli-v1/plain', 'a=b']);
      assert.deepEqual((await api.get('cli-v1/plain')).body.data, { a: 'b' });
      assert.equal((await ok(['kv', 'get', '-field=a', 'cli-v1/plain'])).trim(), 'b');
    });
  });

  describe('listing', () => {
    it('kv list, list and policy list print the keys', async () => {
      await ok(['kv', 'put', 'secret/listing/a', 'x=1']);
      await ok(['kv', 'put', 'secret/listing/sub/b', 'x=2']);
      const kvList = await ok(['kv', 'list', 'secret/listing']);
      assert.match(kvList, /^a$/m);
      assert.match(kvList, /^sub\/$/m);
      const generic = await ok(['list', 'secret/metadata/listing']);
      assert.match(generic, /^a$/m);
      await ok(['policy', 'write', 'listed-policy', '-'], { input: 'path "secret/*" { capabilities = ["read"] }\n' });
      const policies = await ok(['policy', 'list']);
      assert.match(policies, /^listed-policy$/m);
      assert.match(policies, /^default$/m);
    });

    it('policy fmt rewrites a policy file canonically', async () => {
      const file = writeFile('fmt.hcl', 'path   "secret/*"   {capabilities=["read","list"]}\n');
      await ok(['policy', 'fmt', file]);
      const formatted = fs.readFileSync(file, 'utf8');
      assert.match(formatted, /^path "secret\/\*" \{$/m);
      assert.match(formatted, /capabilities = \["read", "list"\]/);
    });
  });

  describe('generic read/write/delete', () => {
    before(async () => {
      await api.post('sys/mounts/gen', { type: 'kv' });
    });

    it('write takes k=v, k=@file and k=- (stdin); read prints it back', async () => {
      const file = writeFile('value.txt', 'from-a-file');
      await ok(['write', 'gen/a', 'plain=1', `fromfile=@${file}`, 'fromstdin=-'], { input: 'from-stdin' });
      assert.deepEqual((await api.get('gen/a')).body.data, { plain: '1', fromfile: 'from-a-file', fromstdin: 'from-stdin' });
      assert.match(await ok(['read', 'gen/a']), /^fromfile\s+from-a-file$/m);
      assert.equal((await ok(['read', '-field=fromstdin', 'gen/a'])).trim(), 'from-stdin');
    });

    it('write - reads a JSON object from stdin', async () => {
      await ok(['write', 'gen/json', '-'], { input: JSON.stringify({ nested: { a: 1 }, s: 'x' }) });
      assert.deepEqual((await api.get('gen/json')).body.data, { nested: { a: 1 }, s: 'x' });
    });

    it('delete removes the secret; read of a missing path exits 2', async () => {
      await api.put('gen/del', { v: '1' });
      await ok(['delete', 'gen/del']);
      assert.equal((await api.get('gen/del')).status, 404);
      const res = await cli(['read', 'gen/del']);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /No value found/);
    });

    it('a token without access gets exit 2 and a permission error', async () => {
      const token = (await api.post('auth/token/create', { policies: ['default'] })).body.auth.client_token;
      const res = await cli(['write', 'gen/x', 'a=b'], { token });
      assert.equal(res.code, 2);
      assert.match(res.stderr, /permission denied/);
      assert.equal((await api.get('gen/x')).status, 404);
    });
  });
});
