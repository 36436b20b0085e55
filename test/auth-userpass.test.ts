/**
 * The userpass auth method over HTTP against a real `tresor server -dev`:
 * users/<name>, its password and policies paths, listing, login/<name>
 * without a token and the token it issues (Vault's auth block, the user's
 * token settings, the mount's TTLs, bound CIDRs checked against the client
 * address), the same error for a wrong password and an unknown user in about
 * the same time, refused fields changing nothing; and `tresor login
 * -method=userpass` as a real process, with the password piped and typed at
 * a real terminal (script(1)) without echo.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, TestServer, TRESOR_BIN, type Api } from './helpers/server.ts';
import { assertError, callFrom, enableAuth, must } from './helpers/auth.ts';

const IGNORED = (names: string) => `Endpoint ignored these unrecognized parameters: [${names}]`;

describe('userpass auth method, -dev server', () => {
  let server: TestServer;
  let api: Api;
  const login = (user: string, password: unknown, body: Record<string, unknown> = {}) => api.post(`auth/userpass/login/${user}`, { password, ...body }, '');

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    await enableAuth(api, 'userpass', 'userpass');
    await api.writePolicy('dev', 'path "secret/data/dev/*" {\n  capabilities = ["read"]\n}\n');
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('create, read, list, update, delete a user; the password never reads back', async () => {
    await must(api.post('auth/userpass/users/Carol', { password: 'pw-carol', token_policies: ['dev', 'ops'], token_ttl: '1h', token_max_ttl: '2h' }));
    const read = (await must(api.get('auth/userpass/users/carol'), 200)).data;
    assert.deepEqual(read, {
      token_bound_cidrs: [], token_explicit_max_ttl: 0, token_max_ttl: 7200, token_no_default_policy: false, token_num_uses: 0,
      token_period: 0, token_policies: ['dev', 'ops'], token_type: 'default', token_ttl: 3600,
    });
    await must(api.post('auth/userpass/users/dave', { password: 'pw-dave' }));
    assert.deepEqual((await must(api.list('auth/userpass/users'), 200)).data.keys, ['carol', 'dave']);
    // An update changes only what it gives: the password still works.
    await must(api.post('auth/userpass/users/carol', { token_ttl: '30m' }));
    assert.equal((await must(api.get('auth/userpass/users/carol'), 200)).data.token_ttl, 1800);
    assert.equal((await login('carol', 'pw-carol')).status, 200);
    assertError(await api.post('auth/userpass/users/erin', { token_ttl: '1h' }), 400, 'missing password');
    await must(api.delete('auth/userpass/users/dave'));
    await must(api.delete('auth/userpass/users/dave'), 204, 'deleting again is fine');
    assert.equal((await api.get('auth/userpass/users/dave')).status, 404);
    assert.deepEqual((await must(api.list('auth/userpass/users'), 200)).data.keys, ['carol']);
    assertError(await login('dave', 'pw-dave'), 400, 'invalid username or password');
  });

  it('users/<name>/password and users/<name>/policies', async () => {
    await must(api.post('auth/userpass/users/frank', { password: 'old-pw', token_policies: 'dev' }));
    await must(api.post('auth/userpass/users/frank/password', { password: 'new-pw' }));
    assertError(await login('frank', 'old-pw'), 400, 'invalid username or password');
    assert.equal((await login('frank', 'new-pw')).status, 200);
    await must(api.post('auth/userpass/users/frank/policies', { token_policies: 'ops,dev' }));
    assert.deepEqual((await must(api.get('auth/userpass/users/frank'), 200)).data.token_policies, ['ops', 'dev']);
    assert.deepEqual((await login('frank', 'new-pw')).body.auth.policies, ['default', 'dev', 'ops']);
    assertError(await api.post('auth/userpass/users/ghost/password', { password: 'x' }), 400, 'username does not exist');
    assertError(await api.post('auth/userpass/users/frank/password', {}), 400, 'missing password');
  });

  it('login needs no token and answers Vault\'s auth block; the token carries the user\'s settings', async () => {
    await must(api.post('auth/userpass/users/grace', { password: 'pw-grace', token_policies: 'dev', token_ttl: '20m', token_num_uses: 5 }));
    const res = await must(login('grace', 'pw-grace'), 200);
    assert.equal(res.mount_type, 'userpass');
    assert.equal(res.data, null);
    const auth = res.auth;
    assert.match(auth.client_token, /^hvs\.[A-Za-z0-9]{24}$/);
    assert.deepEqual(Object.keys(auth).sort(), [
      'accessor', 'client_token', 'entity_id', 'lease_duration', 'metadata', 'mfa_requirement', 'num_uses', 'orphan', 'policies', 'renewable', 'token_policies', 'token_type',
    ]);
    assert.deepEqual(auth.policies, ['default', 'dev']);
    assert.deepEqual(auth.token_policies, ['default', 'dev']);
    assert.deepEqual(auth.metadata, { username: 'grace' });
    assert.equal(auth.lease_duration, 1200);
    assert.equal(auth.renewable, true);
    assert.match(auth.entity_id, /^[0-9a-f-]{36}$/, 'the login found or made its identity entity');
    assert.equal(auth.token_type, 'service');
    assert.equal(auth.orphan, true);
    assert.equal(auth.mfa_requirement, null);
    assert.equal(auth.num_uses, 5);
    const self = (await must(api.get('auth/token/lookup-self', auth.client_token), 200)).data;
    assert.equal(self.path, 'auth/userpass/login/grace');
    assert.equal(self.display_name, 'userpass-grace');
    assert.deepEqual(self.meta, { username: 'grace' });
    assert.equal(self.orphan, true);
    assert.equal(self.num_uses, 4, 'the lookup spent one use');
    // The name is case-insensitive, as in Vault.
    assert.equal((await login('GRACE', 'pw-grace')).status, 200);
  });

  it('token settings: no default policy, periodic tokens, the max TTL caps renewals, the mount\'s default TTL', async () => {
    await must(api.post('auth/userpass/users/henry', { password: 'pw', token_policies: 'dev', token_no_default_policy: true }));
    assert.deepEqual((await login('henry', 'pw')).body.auth.policies, ['dev']);
    await must(api.post('auth/userpass/users/ivy', { password: 'pw', token_period: '10m' }));
    const periodic = (await must(login('ivy', 'pw'), 200)).auth;
    assert.equal(periodic.lease_duration, 600);
    assert.equal((await must(api.get('auth/token/lookup-self', periodic.client_token), 200)).data.period, 600);
    await must(api.post('auth/userpass/users/jack', { password: 'pw', token_ttl: '10m', token_max_ttl: '15m' }));
    const capped = (await must(login('jack', 'pw'), 200)).auth;
    const renewed = await must(api.post('auth/token/renew-self', { increment: '1h' }, capped.client_token), 200);
    assert.ok(renewed.auth.lease_duration <= 900 && renewed.auth.lease_duration > 890, `renewal capped by token_max_ttl: ${renewed.auth.lease_duration}`);
    assert.deepEqual(renewed.warnings, ['TTL of the renewed token was capped by its max TTL']);
    // No token_ttl: the mount's tuned default; a token_ttl past the mount's max is capped with Vault's warning.
    await enableAuth(api, 'short', 'userpass');
    await must(api.post('sys/auth/short/tune', { default_lease_ttl: '5m', max_lease_ttl: '1h' }));
    await must(api.post('auth/short/users/kim', { password: 'pw' }));
    assert.equal((await must(api.post('auth/short/login/kim', { password: 'pw' }, ''), 200)).auth.lease_duration, 300);
    await must(api.post('auth/short/users/kim', { token_ttl: '3h' }));
    const over = await must(api.post('auth/short/login/kim', { password: 'pw' }, ''), 200);
    assert.equal(over.auth.lease_duration, 3600);
    assert.deepEqual(over.warnings, ['TTL of "3h0m0s" exceeded the effective max_ttl of "1h0m0s"; TTL value is capped accordingly']);
    // Auth methods cannot hand out root.
    await must(api.post('auth/userpass/users/mallory', { password: 'pw', token_policies: 'root' }));
    assertError(await login('mallory', 'pw'), 400, 'auth methods cannot create root tokens');
  });

  it('token_bound_cidrs: the login and every use of the token are checked against the client address', async () => {
    await must(api.post('auth/userpass/users/local2', { password: 'pw', token_bound_cidrs: '127.0.0.2/32' }));
    assertError(await login('local2', 'pw'), 403, 'permission denied', 'login from 127.0.0.1');
    const res = await callFrom(api, '127.0.0.2', 'POST', 'auth/userpass/login/local2', { password: 'pw' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const token = res.body.auth.client_token;
    assert.equal((await callFrom(api, '127.0.0.2', 'GET', 'auth/token/lookup-self', undefined, token)).status, 200);
    assertError(await api.get('auth/token/lookup-self', token), 403, 'permission denied', 'use from 127.0.0.1');
    assert.deepEqual((await callFrom(api, '127.0.0.2', 'GET', 'auth/token/lookup-self', undefined, token)).body.data.bound_cidrs, ['127.0.0.2/32']);
  });

  it('a wrong password and an unknown user: the same 400 in about the same time (a dummy hash is checked)', async () => {
    await must(api.post('auth/userpass/users/timing', { password: 'the-right-one' }));
    const wrong = await login('timing', 'not-it');
    const unknown = await login('no-such-user', 'not-it');
    assertError(wrong, 400, 'invalid username or password');
    assert.deepEqual(unknown, wrong, 'byte-identical answers');
    const time = async (user: string) => {
      const t = performance.now();
      const res = await login(user, 'not-it');
      assert.equal(res.status, 400);
      return performance.now() - t;
    };
    const known: number[] = [];
    const missing: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time('timing'));
      missing.push(await time('nobody-at-all'));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(missing) / median(known);
    assert.ok(ratio > 0.5 && ratio < 2, `median unknown-user ${median(missing).toFixed(1)} ms vs wrong-password ${median(known).toFixed(1)} ms`);
    // Without the dummy hash an unknown user would answer in well under a millisecond of server work;
    // a missing password (refused before any lookup) shows that floor.
    const t = performance.now();
    assertError(await login('timing', ''), 400, 'missing password');
    assert.ok(performance.now() - t < median(known), 'the hash dominates the time of a refused login');
  });

  it('declared fields: nulls absent, strings weakly decoded, wrong types refused naming the field with nothing changed, unknown fields warned, 405', async () => {
    await must(api.post('auth/userpass/users/nina', { password: 'pw', token_ttl: null, token_num_uses: '2', token_no_default_policy: 'false', token_policies: null }));
    const before = (await must(api.get('auth/userpass/users/nina'), 200)).data;
    assert.equal(before.token_num_uses, 2);
    for (const [body, field] of [
      [{ token_ttl: 'forever' }, 'token_ttl'],
      [{ token_num_uses: 'two' }, 'token_num_uses'],
      [{ token_no_default_policy: 'kinda' }, 'token_no_default_policy'],
      [{ token_policies: { a: 1 } }, 'token_policies'],
      [{ password: { x: 1 } }, 'password'],
    ] as const) {
      const res = await api.post('auth/userpass/users/nina', body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.errors[0], new RegExp(field));
    }
    assertError(await api.post('auth/userpass/users/nina', { token_num_uses: -1 }), 400, "'token_num_uses' cannot be negative");
    assertError(await api.post('auth/userpass/users/nina', { token_bound_cidrs: 'everywhere' }), 400, "'token_bound_cidrs' must be a list of IP addresses or CIDR blocks");
    assertError(await api.post('auth/userpass/users/nina', { token_type: 'batch' }), 400, 'unsupported token type: only service tokens are available');
    assert.deepEqual((await must(api.get('auth/userpass/users/nina'), 200)).data, before, 'nothing changed');
    assert.equal((await login('nina', 'pw')).status, 200, 'the password is unchanged too');
    // The HTTP layer drops a "__proto__" key; "constructor" is just an unknown field.
    const warned = await api.post('auth/userpass/login/nina', '{"password":"pw","__proto__":{"policies":["root"]},"constructor":"x","otp":"1"}', '');
    assert.equal(warned.status, 200, JSON.stringify(warned.body));
    assert.deepEqual(warned.body.warnings, [IGNORED('constructor otp')]);
    assert.deepEqual(warned.body.auth.policies, ['default']);
    assertError(await api.get('auth/userpass/login/nina', ''), 405, 'unsupported operation');
    assertError(await api.get('auth/userpass/users/nina/password'), 405, 'unsupported operation');
    assertError(await login('nina', 12345), 400, 'invalid username or password', 'a number is taken as its text');
  });

  it('managing users needs a token and the ACL; login does not', async () => {
    assertError(await api.post('auth/userpass/users/oscar', { password: 'pw' }, ''), 403, 'permission denied');
    const plain = (await api.createToken({ policies: ['default'] })).client_token;
    assertError(await api.get('auth/userpass/users/carol', plain), 403, 'permission denied');
    assertError(await api.list('auth/userpass/users', plain), 403, 'permission denied');
  });

  describe('tresor login -method=userpass as a real process', () => {
    let tokenFile: string;
    before(async () => {
      tokenFile = path.join(os.tmpdir(), `tresor-auth-login-${process.pid}`);
      await must(api.post('auth/userpass/users/cli-user', { password: 'cli-secret-pw', token_policies: 'dev' }));
    });
    after(() => fs.rmSync(tokenFile, { force: true }));
    const env = () => ({ TRESOR_TOKEN_FILE: tokenFile });

    it('password piped on stdin: logs in, stores the token, never prints the password', async () => {
      const res = await runCli(['login', '-method=userpass', 'username=cli-user'], { addr: api.addr, env: env(), input: 'cli-secret-pw\n' });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Success! You are now authenticated\./);
      assert.match(res.stdout, /^token\s+hvs\.\S+$/m);
      assert.match(res.stdout, /^token_meta_username\s+cli-user$/m);
      assert.match(res.stdout, /^token_policies\s+\[default dev\]$/m);
      assert.ok(!res.stdout.includes('cli-secret-pw') && !res.stderr.includes('cli-secret-pw'));
      const stored = fs.readFileSync(tokenFile, 'utf8').trim();
      assert.equal(res.stdout.match(/^token\s+(\S+)$/m)![1], stored);
      assert.equal((fs.statSync(tokenFile).mode & 0o777).toString(8), '600');
      const self = await runCli(['token', 'lookup', '-format=json'], { addr: api.addr, env: env() });
      assert.equal(self.code, 0, self.stderr);
      assert.equal(JSON.parse(self.stdout).data.meta.username, 'cli-user');
    });

    it('password typed at a terminal: the prompt hides it', async () => {
      const command = `${TRESOR_BIN} login -method=userpass -path=userpass username=cli-user`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        env: { ...process.env, TRESOR_ADDR: api.addr, TRESOR_TOKEN_FILE: tokenFile, TRESOR_TOKEN: '', VAULT_TOKEN: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const deadline = Date.now() + 30_000;
      while (!out.includes('Password (will be hidden): ')) {
        assert.ok(Date.now() < deadline, `no prompt: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.stdin.write('cli-secret-pw\r');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.stdin.end();
      assert.equal(code, 0, out);
      assert.ok(!out.includes('cli-secret-pw'), `the password was echoed:\n${out}`);
      assert.match(out, /token_meta_username\s+cli-user/);
    });

    it('password=... and a wrong password (exit 2, Vault\'s error text); an unknown method', async () => {
      const ok = await runCli(['login', '-method=userpass', '-no-store', 'username=cli-user', 'password=cli-secret-pw', '-format=json'].filter((a) => a !== '-format=json'), { addr: api.addr, env: env() });
      assert.equal(ok.code, 0, ok.stderr);
      const bad = await runCli(['login', '-method=userpass', 'username=cli-user', 'password=nope'], { addr: api.addr, env: env() });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^Error authenticating: Error making API request\.\n\nURL: POST .*\/v1\/auth\/userpass\/login\/cli-user\nCode: 400\. Errors:\n\n\* invalid username or password/);
      const missing = await runCli(['login', '-method=userpass', 'password=x'], { addr: api.addr, env: env() });
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /'username' must be specified/);
      const unknown = await runCli(['login', '-method=approle', 'role_id=x'], { addr: api.addr, env: env() });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /Unknown auth method: approle\./);
    });
  });
});
