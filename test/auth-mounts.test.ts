/**
 * Auth method mounts against a real `tresor server -dev`: sys/auth,
 * sys/auth/<path> and its tune with Vault's fields, errors and sudo; every
 * refused field changing nothing; disabling a method revoking every token it
 * issued; the per-address login rate limit and its options; logins counted
 * as anonymous by the body limit; and `tresor auth ...` as real processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, TestServer, type Api } from './helpers/server.ts';
import { assertError, callFrom, enableAuth, must } from './helpers/auth.ts';

describe('auth mounts (sys/auth) and the login rate limit, -dev server', () => {
  let server: TestServer;
  let api: Api;
  const authTable = async () => (await must(api.get('sys/auth'), 200)).data as Record<string, any>;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  it('enable, list and read: Vault\'s fields, the table also at the top level', async () => {
    await must(api.post('sys/auth/people', { type: 'userpass', description: 'humans', config: { default_lease_ttl: '1h', max_lease_ttl: '2h', listing_visibility: 'unauth' } }));
    const res = await must(api.get('sys/auth'), 200);
    const entry = res.data['people/'];
    assert.equal(entry.type, 'userpass');
    assert.equal(entry.description, 'humans');
    assert.match(entry.accessor, /^auth_userpass_[0-9a-f]{8}$/);
    assert.match(entry.uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(entry.config, { default_lease_ttl: 3600, max_lease_ttl: 7200, force_no_cache: false, token_type: 'default-service', listing_visibility: 'unauth' });
    assert.equal(entry.local, false);
    assert.equal(entry.seal_wrap, false);
    assert.equal(res['people/'].type, 'userpass', 'Vault repeats the table at the top level');
    assert.equal(res.data['token/'].type, 'token');
    assert.equal(res.data['token/'].config.token_type, 'default-service');
    const one = await must(api.get('sys/auth/people'), 200);
    assert.equal(one.data.accessor, entry.accessor);
    assertError(await api.get('sys/auth/nothing-here'), 400, 'No auth engine at nothing-here/');
  });

  it('refused enables answer Vault\'s errors and mount nothing', async () => {
    const before = Object.keys(await authTable()).sort();
    await must(api.post('sys/auth/taken', { type: 'approle' }));
    const withTaken = Object.keys(await authTable()).sort();
    assertError(await api.post('sys/auth/taken', { type: 'userpass' }), 409, 'path is already in use at taken/');
    assertError(await api.post('sys/auth/taken/deeper', { type: 'userpass' }), 409, 'path is already in use at taken/');
    assertError(await api.post('sys/auth/x1', {}), 400, 'backend type must be specified as a string');
    assertError(await api.post('sys/auth/x2', { type: 'token' }), 400, 'token credential backend cannot be instantiated');
    assertError(await api.post('sys/auth/x3', { type: 'ldap' }), 400, 'plugin not found in the catalog: ldap');
    assertError(await api.post('sys/auth/x4', { type: 'kv' }), 400, 'plugin not found in the catalog: kv');
    assertError(await api.post('sys/auth/x5', { type: 'userpass', options: { version: '2' } }), 400, 'auth method "userpass" does not allow setting a version');
    assertError(await api.post('sys/auth/x6', { type: 'userpass', config: { default_lease_ttl: '2h', max_lease_ttl: '1h' } }), 400, 'given default lease TTL greater than given max lease TTL');
    assertError(await api.post('sys/auth/x7', { type: 'userpass', config: { default_lease_ttl: '9999h' } }), 400, 'given default lease TTL greater than system max lease TTL of 2764800');
    assertError(await api.post('sys/auth/x8', { type: 'userpass', config: { default_lease_ttl: 'soon' } }), 400, 'unable to parse default TTL');
    assertError(await api.post('sys/auth/x9', { type: 'userpass', config: { listing_visibility: 'loud' } }), 400, 'invalid listing_visibility');
    assertError(await api.post('sys/auth/x10', { type: 'userpass', config: { token_type: 'batch' } }), 400, 'unsupported token type: only service tokens are available');
    assertError(await api.post('sys/auth/x11', { type: 'userpass', config: { token_type: 'weird' } }), 400, "invalid value for 'token_type'");
    assertError(await api.post('sys/auth/x12', { type: 'userpass', options: { login_rate_limit: 'fast' } }), 400, 'options.login_rate_limit must be a non-negative number of logins per second');
    assertError(await api.post('sys/auth/x13', { type: 'userpass', options: { login_rate_burst: '0' } }), 400, 'options.login_rate_burst must be a positive integer');
    assertError(await api.post('sys/auth/x14', { type: 'userpass', local: 'maybe' }), 400, /local/);
    assertError(await api.post('sys/auth/x15', { type: 'userpass', config: 'not-json' }), 400, /config/);
    assert.deepEqual(Object.keys(await authTable()).sort(), withTaken);
    assert.ok(withTaken.length === before.length + 1);
  });

  it('tune: read Vault\'s fields, change them, refuse bad values without changing anything', async () => {
    await must(api.post('sys/auth/tuned', { type: 'userpass' }));
    const fresh = (await must(api.get('sys/auth/tuned/tune'), 200)).data;
    assert.deepEqual(fresh, { description: '', default_lease_ttl: 2764800, max_lease_ttl: 2764800, force_no_cache: false, token_type: 'default-service' });
    await must(api.post('sys/auth/tuned/tune', {
      default_lease_ttl: '1h', max_lease_ttl: '3h', description: 'tuned', listing_visibility: 'unauth', token_type: 'service',
      options: { login_rate_burst: '7' },
    }));
    const tuned = (await must(api.get('sys/auth/tuned/tune'), 200)).data;
    assert.deepEqual(tuned, {
      description: 'tuned', default_lease_ttl: 3600, max_lease_ttl: 10800, force_no_cache: false, token_type: 'service',
      listing_visibility: 'unauth', options: { login_rate_burst: '7' },
    });
    assertError(await api.post('sys/auth/tuned/tune', { max_lease_ttl: '30m' }), 400, 'backend max lease TTL of 1800 would be less than backend default lease TTL of 3600');
    assertError(await api.post('sys/auth/tuned/tune', { token_type: 'default-batch' }), 400, 'unsupported token type: only service tokens are available');
    assertError(await api.post('sys/auth/tuned/tune', { listing_visibility: 'everyone' }), 400, 'invalid listing_visibility');
    assertError(await api.post('sys/auth/tuned/tune', { options: { login_rate_limit: '-1' } }), 400, 'options.login_rate_limit must be a non-negative number of logins per second');
    assertError(await api.post('sys/auth/tuned/tune', { default_lease_ttl: 'later' }), 400, 'unable to parse default TTL');
    assertError(await api.post('sys/auth/token/tune', { token_type: 'service' }), 400, "'token_type' cannot be set for 'token' or 'ns_token' auth mounts");
    assertError(await api.post('sys/auth/nowhere/tune', { description: 'x' }), 400, 'tune of path "auth/nowhere/" failed: no mount entry found');
    assertError(await api.get('sys/auth/nowhere/tune'), 400, 'cannot fetch sysview for path "auth/nowhere/"');
    assert.deepEqual((await must(api.get('sys/auth/tuned/tune'), 200)).data, tuned, 'the refused tunes changed nothing');
    // An empty option value removes the option, as in Vault.
    await must(api.post('sys/auth/tuned/tune', { options: { login_rate_burst: '' } }));
    assert.equal((await must(api.get('sys/auth/tuned/tune'), 200)).data.options, undefined);
  });

  it('sys/auth/* needs sudo, as in Vault; listing sys/auth does not', async () => {
    await api.writePolicy('auth-admin', 'path "sys/auth/*" {\n  capabilities = ["create", "read", "update", "delete"]\n}\npath "sys/auth" {\n  capabilities = ["read"]\n}\n');
    await api.writePolicy('auth-sudo', 'path "sys/auth/*" {\n  capabilities = ["create", "read", "update", "delete", "sudo"]\n}\n');
    const plain = (await api.createToken({ policies: ['auth-admin'] })).client_token;
    const sudo = (await api.createToken({ policies: ['auth-sudo'] })).client_token;
    assertError(await api.post('sys/auth/by-plain', { type: 'userpass' }, plain), 403, 'permission denied');
    assertError(await api.get('sys/auth/tuned/tune', plain), 403, 'permission denied');
    assert.equal((await api.get('sys/auth', plain)).status, 200);
    assert.equal((await authTable())['by-plain/'], undefined);
    await must(api.post('sys/auth/by-sudo', { type: 'userpass' }, sudo));
    await must(api.delete('sys/auth/by-sudo', undefined, sudo));
  });

  it('disabling an auth method revokes every token it issued (and their children); re-enabling brings none back', async () => {
    await enableAuth(api, 'gone', 'userpass');
    await must(api.post('auth/gone/users/ann', { password: 'pw-ann', token_policies: 'minter' }));
    await api.writePolicy('minter', 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n');
    const first = (await must(api.post('auth/gone/login/ann', { password: 'pw-ann' }), 200)).auth;
    const second = (await must(api.post('auth/gone/login/ann', { password: 'pw-ann' }), 200)).auth;
    const child = (await must(api.post('auth/token/create', { policies: ['default'] }, first.client_token), 200)).auth;
    const other = (await api.createToken({ policies: ['default'] })).client_token;
    for (const t of [first.client_token, second.client_token, child.client_token]) assert.equal((await api.get('auth/token/lookup-self', t)).status, 200);
    const accessorsBefore: string[] = (await must(api.list('auth/token/accessors'), 200)).data.keys;
    assert.ok(accessorsBefore.includes(first.accessor) && accessorsBefore.includes(child.accessor));

    await must(api.delete('sys/auth/gone'));
    for (const t of [first.client_token, second.client_token, child.client_token]) {
      assertError(await api.get('auth/token/lookup-self', t), 403, 'permission denied', 'a token of the disabled mount');
    }
    const accessorsAfter: string[] = (await must(api.list('auth/token/accessors'), 200)).data.keys;
    for (const a of [first.accessor, second.accessor, child.accessor]) assert.ok(!accessorsAfter.includes(a), 'the token is revoked, not just refused');
    assert.equal((await api.get('auth/token/lookup-self', other)).status, 200, 'tokens of other mounts live on');
    assert.match(server.output, /disabled auth\/gone\/, revoked 2 token\(s\)/);

    await enableAuth(api, 'gone', 'userpass');
    assertError(await api.get('auth/token/lookup-self', first.client_token), 403, 'permission denied');
    assertError(await api.post('auth/gone/login/ann', { password: 'pw-ann' }), 400, 'invalid username or password', 'the users went with the mount');
    await must(api.delete('sys/auth/never-was'), 204, 'disabling nothing succeeds');
    assertError(await api.delete('sys/auth/token'), 400, 'token credential backend cannot be disabled');
  });

  it('logins are rate-limited per client address (429 after the burst), per the mount\'s options', async () => {
    await enableAuth(api, 'limited', 'userpass', { login_rate_burst: '3', login_rate_limit: '0.01' });
    await must(api.post('auth/limited/users/lim', { password: 'right' }));
    for (let i = 0; i < 3; i++) assertError(await api.post('auth/limited/login/lim', { password: 'wrong' }), 400, 'invalid username or password');
    const refused = await api.post('auth/limited/login/lim', { password: 'right' });
    assertError(refused, 429, 'request path "auth/limited/login/lim": rate limit quota exceeded', 'past the burst even the right password waits');
    assertError(await api.post('auth/limited/login/someone-else', { password: 'x' }), 429, /rate limit quota exceeded/, 'the bucket is per address, not per user');
    // Another source address has its own bucket.
    assert.equal((await callFrom(api, '127.0.0.2', 'POST', 'auth/limited/login/lim', { password: 'right' })).status, 200);
    // Other mounts are not affected.
    await enableAuth(api, 'unlimited', 'userpass');
    await must(api.post('auth/unlimited/users/u', { password: 'p' }));
    assert.equal((await api.post('auth/unlimited/login/u', { password: 'p' })).status, 200);
    // login_rate_limit=0 turns the limit off.
    await must(api.post('sys/auth/limited/tune', { options: { login_rate_limit: '0' } }));
    for (let i = 0; i < 4; i++) assert.equal((await api.post('auth/limited/login/lim', { password: 'wrong' })).status, 400);
    assert.equal((await api.post('auth/limited/login/lim', { password: 'right' })).status, 200);
  });

  it('the defaults limit a login storm: 20 at once, then 5 per second', async () => {
    await must(api.post('sys/auth/defaults', { type: 'approle' }));
    const statuses = await Promise.all(Array.from({ length: 24 }, () => api.post('auth/defaults/login', { role_id: 'nope', secret_id: 'nope' })));
    const limited = statuses.filter((r) => r.status === 429).length;
    // 20 pass at once; the refill (5/s) lets one more through for every 200 ms the storm lasts.
    assert.ok(limited >= 1 && limited <= 4, `24 at once from one address: ${limited} refused`);
    assert.ok(statuses.filter((r) => r.status === 400).every((r) => r.body.errors[0] === 'invalid role or secret ID'));
  });

  it('a login body counts as anonymous: past 256 KiB it is refused even with a token', async () => {
    await enableAuth(api, 'big', 'userpass');
    const big = { password: 'x'.repeat(300 * 1024) };
    assertError(await api.post('auth/big/login/u', big, 'root'), 413, 'http: request body too large');
    assertError(await api.post('auth/big/login/u', big, ''), 413, 'http: request body too large');
    // The same body to an authenticated path with a live token is read.
    assertError(await api.post('auth/big/users/u', { ...big, token_ttl: 'bad' }, 'root'), 400, /token_ttl/);
  });

  it('tresor auth enable / list / tune / disable as real processes', async () => {
    const cli = (args: string[]) => runCli(args, { addr: api.addr, token: 'root' });
    const enabled = await cli(['auth', 'enable', '-path=cli-up', '-description=from the cli', '-default-lease-ttl=30m', '-options=login_rate_burst=9', 'userpass']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(enabled.stdout.trim(), 'Success! Enabled userpass auth method at: cli-up/');
    const listed = await cli(['auth', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^Path\s+Type\s+Accessor\s+Description/m);
    assert.match(listed.stdout, /^cli-up\/\s+userpass\s+auth_userpass_[0-9a-f]{8}\s+from the cli$/m);
    assert.match(listed.stdout, /^token\/\s+token\s+/m);
    const detailed = await cli(['auth', 'list', '-detailed']);
    assert.match(detailed.stdout, /^cli-up\/\s+userpass\s+auth_userpass_[0-9a-f]{8}\s+1800\s+system\s+default-service\s+replicated/m);
    const json = JSON.parse((await cli(['auth', 'list', '-format=json'])).stdout);
    assert.deepEqual(json['cli-up/'].options, { login_rate_burst: '9' });
    const tuned = await cli(['auth', 'tune', '-max-lease-ttl=2h', '-description=tuned', 'cli-up']);
    assert.equal(tuned.code, 0, tuned.stderr);
    assert.equal(tuned.stdout.trim(), 'Success! Tuned the auth method at: cli-up/');
    const tune = (await must(api.get('sys/auth/cli-up/tune'), 200)).data;
    assert.equal(tune.max_lease_ttl, 7200);
    assert.equal(tune.default_lease_ttl, 1800);
    assert.equal(tune.description, 'tuned');
    const refused = await cli(['auth', 'enable', 'token']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /Code: 400\. Errors:\n\n\* token credential backend cannot be instantiated/);
    const disabled = await cli(['auth', 'disable', 'cli-up/']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.stdout.trim(), 'Success! Disabled the auth method (if it existed) at: cli-up/');
    assert.equal((await authTable())['cli-up/'], undefined);
  });
});
