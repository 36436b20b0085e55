/**
 * Response wrapping against a real `tresor server -dev`: X-Vault-Wrap-TTL on
 * kv reads, token creation and sys/wrapping/wrap; sys/wrapping/unwrap,
 * lookup and rewrap; single use, expiry, wrong tokens; the built-in
 * response-wrapping policy; policies' wrap TTL bounds; and that a wrapped
 * secret never travels in the clear.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Api, runCli, TestServer } from './helpers/server.ts';
import { RESPONSE_WRAPPING_POLICY_TEXT } from '../src/core/acl/index.ts';

const INVALID = { errors: ['wrapping token is not valid or does not exist'] };
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Reply {
  status: number;
  text: string;
  body: any;
}

describe('response wrapping (-dev server)', () => {
  let server: TestServer;
  let api: Api;

  before(async () => {
    server = await TestServer.startDev();
    api = server.api;
    assert.equal((await api.put('secret/data/app', { data: { password: 'hunter2-wrapped' } })).status, 200);
  });
  after(async () => {
    await server?.kill();
    server?.cleanup();
  });

  /** One request with optional token, body and extra headers; keeps the raw text. */
  async function call(method: string, path: string, opts: { token?: string; body?: unknown; wrap?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = 'token' in opts ? opts.token : 'root';
    if (token) headers['X-Vault-Token'] = token;
    if (opts.wrap !== undefined) headers['X-Vault-Wrap-TTL'] = opts.wrap;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${api.addr}/v1/${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
  }

  const accessorCount = async () => (await api.list('auth/token/accessors')).body.data.keys.length as number;

  /** Asserts Vault's wrap envelope and returns its wrap_info. */
  function wrapInfoOf(res: Reply, creationPath: string, ttl: number): any {
    assert.equal(res.status, 200, res.text);
    const { wrap_info: info, ...rest } = res.body;
    assert.deepEqual(rest, { request_id: '', lease_id: '', renewable: false, lease_duration: 0, data: null, warnings: null, auth: null, mount_type: '' });
    assert.deepEqual(Object.keys(info), ['token', 'accessor', 'ttl', 'creation_time', 'creation_path', 'wrapped_accessor']);
    assert.match(info.token, /^hvs\./);
    assert.match(info.accessor, /^[A-Za-z0-9]{24}$/);
    assert.equal(info.ttl, ttl);
    assert.match(info.creation_time, RFC3339_NANO);
    assert.ok(Math.abs(Date.parse(info.creation_time) - Date.now()) < 60_000);
    assert.equal(info.creation_path, creationPath);
    return info;
  }

  const unwrapAsRoot = (token: string) => call('PUT', 'sys/wrapping/unwrap', { body: { token } });

  describe('wrapping answers', () => {
    it('wraps a kv read: a single-use orphan token with exactly the response-wrapping policy; the secret is not in the answer', async () => {
      const res = await call('GET', 'secret/data/app', { wrap: '5m' });
      const info = wrapInfoOf(res, 'secret/data/app', 300);
      assert.equal(info.wrapped_accessor, '');
      assert.ok(!res.text.includes('hunter2'), 'the secret must not be sent in the clear');

      const look = await api.post('auth/token/lookup', { token: info.token });
      assert.equal(look.status, 200, JSON.stringify(look.body));
      const t = look.body.data;
      assert.deepEqual(t.policies, ['response-wrapping']);
      assert.equal(t.num_uses, 1);
      assert.equal(t.orphan, true);
      assert.equal(t.renewable, false);
      assert.equal(t.creation_ttl, 300);
      assert.equal(t.explicit_max_ttl, 300);
      assert.equal(t.path, 'secret/data/app');
      assert.equal(t.accessor, info.accessor);

      const opened = await unwrapAsRoot(info.token);
      assert.equal(opened.status, 200, opened.text);
      assert.match(opened.body.request_id, UUID);
      assert.equal(opened.body.wrap_info, null);
      assert.deepEqual(opened.body.data.data, { password: 'hunter2-wrapped' });
      assert.equal(opened.body.data.metadata.version, 1);

      assert.deepEqual(await unwrapAsRoot(info.token), { status: 400, text: JSON.stringify(INVALID), body: INVALID });
      assert.equal((await api.post('auth/token/lookup-accessor', { accessor: info.accessor })).status, 400, 'the used token is revoked');
    });

    it('wraps a token create: auth is null, wrapped_accessor names the new token; the wrapping token unwraps itself', async () => {
      const before = await accessorCount();
      const res = await call('POST', 'auth/token/create', { body: { policies: ['default'], ttl: '1h' }, wrap: '60s' });
      const info = wrapInfoOf(res, 'auth/token/create', 60);
      assert.match(info.wrapped_accessor, /^[A-Za-z0-9]{24}$/);
      assert.notEqual(info.wrapped_accessor, info.accessor);
      assert.equal((res.text.match(/hvs\./g) ?? []).length, 1, 'only the wrapping token is in the answer');
      assert.equal(await accessorCount(), before + 2, 'the new token and its wrapping token');

      // As hvac's auth_cubbyhole and `vault unwrap` without an argument do: the wrapping token is the client token.
      const opened = await call('PUT', 'sys/wrapping/unwrap', { token: info.token });
      assert.equal(opened.status, 200, opened.text);
      assert.equal(opened.body.auth.accessor, info.wrapped_accessor);
      assert.deepEqual(opened.body.auth.policies, ['default']);
      const self = await api.get('auth/token/lookup-self', opened.body.auth.client_token);
      assert.equal(self.status, 200);
      assert.equal(self.body.data.accessor, info.wrapped_accessor);
      assert.deepEqual(await call('PUT', 'sys/wrapping/unwrap', { token: info.token }), { status: 400, text: JSON.stringify(INVALID), body: INVALID });
      assert.equal(await accessorCount(), before + 1, 'the wrapping token is gone');
    });

    it('sys/wrapping/wrap wraps the request fields as data; without a wrap TTL it is refused', async () => {
      const res = await call('POST', 'sys/wrapping/wrap', { body: { secret: 's3cr3t-wrap', n: 1, nested: { a: [1, 'b'] } }, wrap: '60s' });
      const info = wrapInfoOf(res, 'sys/wrapping/wrap', 60);
      assert.ok(!res.text.includes('s3cr3t-wrap'));
      const opened = await unwrapAsRoot(info.token);
      assert.equal(opened.status, 200, opened.text);
      assert.deepEqual(opened.body.data, { secret: 's3cr3t-wrap', n: 1, nested: { a: [1, 'b'] } });

      const before = await accessorCount();
      assert.deepEqual((await call('POST', 'sys/wrapping/wrap', { body: { secret: 'x' } })).body, { errors: ['endpoint requires response wrapping to be used'] });
      assert.equal((await call('POST', 'sys/wrapping/wrap', { body: { secret: 'x' }, wrap: '0' })).status, 400);
      assert.equal(await accessorCount(), before);
    });

    it('does not wrap a 204, and answers a list with no keys 404 instead of wrapping it; neither makes a token', async () => {
      const before = await accessorCount();
      const write = await call('PUT', 'cubbyhole/note', { body: { v: 'x' }, wrap: '60s' });
      assert.deepEqual([write.status, write.text], [204, '']);
      const emptyList = await call('GET', 'secret/metadata/nothing-here/?list=true', { wrap: '60s' });
      assert.deepEqual([emptyList.status, emptyList.body], [404, { errors: [] }]);
      assert.equal(await accessorCount(), before);
    });

    it('wraps a list that has keys (creation_path names the folder)', async () => {
      const res = await call('GET', 'secret/metadata?list=true', { wrap: '60s' });
      const info = wrapInfoOf(res, 'secret/metadata/', 60);
      assert.deepEqual((await unwrapAsRoot(info.token)).body.data.keys, ['app']);
    });

    it('does not wrap raw sys answers such as seal-status', async () => {
      const res = await call('GET', 'sys/seal-status', { wrap: '60s' });
      assert.equal(res.status, 200);
      assert.equal(res.body.sealed, false);
      assert.equal(res.body.wrap_info, undefined);
    });
  });

  describe('unwrap', () => {
    const wrapSecret = async (ttl = '60s', secret = 'unwrap-me') => {
      const res = await call('POST', 'sys/wrapping/wrap', { body: { secret }, wrap: ttl });
      assert.equal(res.status, 200, res.text);
      return res.body.wrap_info as { token: string; accessor: string; creation_time: string };
    };

    it('works exactly once, also when two unwraps race', async () => {
      const { token } = await wrapSecret();
      const [a, b] = await Promise.all([unwrapAsRoot(token), unwrapAsRoot(token)]);
      const statuses = [a.status, b.status].sort();
      assert.deepEqual(statuses, [200, 400], `${a.text} / ${b.text}`);
      const loser = a.status === 400 ? a : b;
      assert.deepEqual(loser.body, INVALID);
    });

    it('refuses an expired wrapping token', async () => {
      const { token } = await wrapSecret('1');
      await sleep(1500);
      assert.deepEqual((await unwrapAsRoot(token)).body, INVALID);
      assert.deepEqual((await call('PUT', 'sys/wrapping/lookup', { token: undefined, body: { token } })).body, INVALID);
    });

    it('refuses wrong tokens with Vault\'s texts, and a refusal spends nothing', async () => {
      const { token } = await wrapSecret('60s', 'still-here');
      const other = await api.createToken({ policies: ['default'] });
      assert.deepEqual(await unwrapAsRoot('hvs.notAWrappingTokenAtAll000'), { status: 400, text: JSON.stringify(INVALID), body: INVALID });
      assert.deepEqual((await unwrapAsRoot('root')).body, INVALID, 'a non-wrapping token');
      assert.deepEqual((await unwrapAsRoot(other.client_token)).body, INVALID, 'a default-policy token');
      assert.deepEqual((await call('PUT', 'sys/wrapping/unwrap', {})).body, INVALID, 'the root client token is not a wrapping token');
      assert.deepEqual((await call('PUT', 'sys/wrapping/unwrap', { token: undefined })), { status: 403, text: '{"errors":["error validating wrapping token: token is empty"]}', body: { errors: ['error validating wrapping token: token is empty'] } });
      assert.deepEqual((await call('PUT', 'sys/wrapping/unwrap', { body: { token: '' } })).body, { errors: ['error validating wrapping token: empty token in request body'] });
      const notString = await call('PUT', 'sys/wrapping/unwrap', { body: { token: 12345 } });
      assert.deepEqual([notString.status, notString.body], [403, { errors: ['error validating wrapping token: could not decode token in request body'] }]);
      // A valid wrapping token, but the caller has no (valid) token of its own: Vault's 403, and the wrap survives.
      assert.deepEqual(await call('PUT', 'sys/wrapping/unwrap', { token: undefined, body: { token } }), { status: 403, text: '{"errors":["permission denied"]}', body: { errors: ['permission denied'] } });
      assert.equal((await call('PUT', 'sys/wrapping/unwrap', { token: 'hvs.bogus', body: { token } })).status, 403);
      assert.equal((await call('GET', 'sys/wrapping/unwrap', { body: undefined })).status, 405);
      assert.deepEqual((await unwrapAsRoot(token)).body.data, { secret: 'still-here' });
    });

    it('a caller without update on sys/wrapping/unwrap is refused and the wrap survives', async () => {
      const { token } = await wrapSecret('60s', 'guarded');
      await api.writePolicy('kv-only', 'path "secret/*" {\n  capabilities = ["read"]\n}\n');
      const limited = await api.createToken({ policies: ['kv-only'], no_default_policy: true });
      assert.deepEqual((await call('PUT', 'sys/wrapping/unwrap', { token: limited.client_token, body: { token } })).body, { errors: ['permission denied'] });
      assert.deepEqual((await unwrapAsRoot(token)).body.data, { secret: 'guarded' });
    });

    it('the wrapping token can do nothing else; reading cubbyhole/response directly spends it (with Vault\'s warning)', async () => {
      const { token } = await wrapSecret('60s', 'direct');
      assert.equal((await call('GET', 'secret/data/app', { token })).status, 403);
      const second = await wrapSecret('60s', 'direct');
      const read = await call('GET', 'cubbyhole/response', { token: second.token });
      assert.equal(read.status, 200, read.text);
      assert.deepEqual(JSON.parse(read.body.data.response).data, { secret: 'direct' });
      assert.deepEqual(read.body.warnings, ["Reading from 'cubbyhole/response' is deprecated. Please use sys/wrapping/unwrap to unwrap responses, as it provides additional security checks and other benefits."]);
      assert.deepEqual((await unwrapAsRoot(second.token)).body, INVALID);
    });
  });

  describe('lookup', () => {
    it('answers creation_path, creation_time and creation_ttl without a client token, and never spends the token', async () => {
      const wrapped = await call('GET', 'secret/data/app', { wrap: '2m' });
      const info = wrapInfoOf(wrapped, 'secret/data/app', 120);
      const expected = { creation_path: 'secret/data/app', creation_time: info.creation_time, creation_ttl: 120 };
      const anonymous = await call('PUT', 'sys/wrapping/lookup', { token: undefined, body: { token: info.token } });
      assert.equal(anonymous.status, 200, anonymous.text);
      assert.deepEqual(anonymous.body.data, expected);
      assert.equal(anonymous.body.wrap_info, null);
      // The wrapping token as the client token, by GET and by POST: still not spent.
      assert.deepEqual((await call('GET', 'sys/wrapping/lookup', { token: info.token })).body.data, expected);
      assert.deepEqual((await call('POST', 'sys/wrapping/lookup', { token: info.token })).body.data, expected);
      assert.deepEqual((await call('PUT', 'sys/wrapping/lookup', { body: { token: info.token } })).body.data, expected);
      assert.deepEqual((await unwrapAsRoot(info.token)).body.data.data, { password: 'hunter2-wrapped' });
    });

    it('refuses a non-wrapping or unknown token (400) and a missing one (403)', async () => {
      assert.deepEqual((await call('PUT', 'sys/wrapping/lookup', { body: { token: 'root' } })).body, INVALID);
      assert.deepEqual((await call('PUT', 'sys/wrapping/lookup', {})).body, INVALID, 'the root client token');
      assert.deepEqual((await call('PUT', 'sys/wrapping/lookup', { token: undefined, body: { token: 'hvs.unknown' } })).body, INVALID);
      const missing = await call('GET', 'sys/wrapping/lookup', { token: undefined });
      assert.deepEqual([missing.status, missing.body], [403, { errors: ['error validating wrapping token: token is empty'] }]);
    });
  });

  describe('rewrap', () => {
    it('issues a new wrapping token for the same answer with the original TTL and path; the old one is spent', async () => {
      const first = wrapInfoOf(await call('GET', 'secret/data/app', { wrap: '5m' }), 'secret/data/app', 300);
      const res = await call('PUT', 'sys/wrapping/rewrap', { body: { token: first.token } });
      const next = wrapInfoOf(res, 'secret/data/app', 300);
      assert.notEqual(next.token, first.token);
      assert.equal(next.wrapped_accessor, '');
      assert.ok(!res.text.includes('hunter2'));
      assert.deepEqual((await unwrapAsRoot(first.token)).body, INVALID);
      const lookupNext = await call('PUT', 'sys/wrapping/lookup', { body: { token: next.token } });
      assert.deepEqual(lookupNext.body.data, { creation_path: 'secret/data/app', creation_time: next.creation_time, creation_ttl: 300 });
      const opened = await unwrapAsRoot(next.token);
      assert.deepEqual(opened.body.data.data, { password: 'hunter2-wrapped' });
      assert.deepEqual((await unwrapAsRoot(next.token)).body, INVALID);
    });

    it('a shorter X-Vault-Wrap-TTL on the rewrap wins; a spent token cannot be rewrapped', async () => {
      const first = (await call('POST', 'sys/wrapping/wrap', { body: { v: 1 }, wrap: '10m' })).body.wrap_info;
      const next = wrapInfoOf(await call('PUT', 'sys/wrapping/rewrap', { body: { token: first.token }, wrap: '90s' }), 'sys/wrapping/wrap', 90);
      assert.deepEqual((await call('PUT', 'sys/wrapping/rewrap', { body: { token: first.token } })).body, INVALID);
      assert.deepEqual((await unwrapAsRoot(next.token)).body.data, { v: 1 });
    });
  });

  describe('policies', () => {
    it('response-wrapping is built in: readable, not listed, not writable, deletable or assignable', async () => {
      const read = await api.get('sys/policies/acl/response-wrapping');
      assert.equal(read.status, 200);
      assert.equal(read.body.data.policy, RESPONSE_WRAPPING_POLICY_TEXT);
      assert.ok(!(await api.list('sys/policies/acl')).body.data.keys.includes('response-wrapping'));
      const escalation = 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}\n';
      assert.deepEqual(await api.put('sys/policies/acl/response-wrapping', { policy: escalation }), { status: 400, body: { errors: ['cannot update "response-wrapping" policy'] } });
      assert.deepEqual(await api.delete('sys/policies/acl/response-wrapping'), { status: 400, body: { errors: ['cannot delete "response-wrapping" policy'] } });
      assert.equal((await api.get('sys/policies/acl/response-wrapping')).body.data.policy, RESPONSE_WRAPPING_POLICY_TEXT);
      const before = await accessorCount();
      for (const policies of [['response-wrapping'], ['default', 'Response-Wrapping']]) {
        assert.deepEqual(await api.post('auth/token/create', { policies }), { status: 400, body: { errors: ['cannot assign policy "response-wrapping"'] } });
      }
      assert.equal(await accessorCount(), before, 'no look-alike wrapping token was made');
    });

    it('min_wrapping_ttl and max_wrapping_ttl bound the wrap TTL; within them the answer is wrapped, never in the clear', async () => {
      await api.writePolicy('wrap-bounds', 'path "secret/data/app" {\n  capabilities = ["read"]\n  min_wrapping_ttl = "1m"\n  max_wrapping_ttl = "5m"\n}\n');
      const token = (await api.createToken({ policies: ['wrap-bounds'] })).client_token;
      const before = await accessorCount();
      for (const wrap of [undefined, '30s', '10m', '301']) {
        const res = await call('GET', 'secret/data/app', { token, wrap });
        assert.deepEqual([res.status, res.body], [403, { errors: ['permission denied'] }], `wrap ${wrap}`);
      }
      assert.equal(await accessorCount(), before);
      const res = await call('GET', 'secret/data/app', { token, wrap: '2m' });
      const info = wrapInfoOf(res, 'secret/data/app', 120);
      assert.ok(!res.text.includes('hunter2'));
      // The default policy lets the same token unwrap it.
      const opened = await call('PUT', 'sys/wrapping/unwrap', { token, body: { token: info.token } });
      assert.deepEqual(opened.body.data.data, { password: 'hunter2-wrapped' });
    });
  });

  describe('CLI (-wrap-ttl, tresor unwrap)', () => {
    const cli = (args: string[], token: string | undefined = 'root', env: NodeJS.ProcessEnv = {}) => runCli(args, { addr: api.addr, token, env });

    it('kv get -wrap-ttl prints only the wrap info; tresor unwrap TOKEN prints the secret once', async () => {
      const table = await cli(['kv', 'get', '-wrap-ttl=2m', 'secret/app']);
      assert.equal(table.code, 0, table.stderr);
      assert.ok(!table.stdout.includes('hunter2'), table.stdout);
      for (const key of ['wrapping_token:', 'wrapping_accessor:', 'wrapping_token_ttl:', 'wrapping_token_creation_time:', 'wrapping_token_creation_path:']) {
        assert.match(table.stdout, new RegExp(`^${key}\\s`, 'm'), key);
      }
      assert.match(table.stdout, /^wrapping_token_ttl:\s+2m$/m);
      assert.match(table.stdout, /^wrapping_token_creation_path:\s+secret\/data\/app$/m);
      assert.match(table.stdout, /^wrapping_token_creation_time:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/m);

      const field = await cli(['kv', 'get', '-wrap-ttl=2m', '-field=wrapping_token', 'secret/app']);
      assert.equal(field.code, 0, field.stderr);
      const token = field.stdout.trim();
      assert.match(token, /^hvs\.[A-Za-z0-9]+$/);
      const opened = await cli(['unwrap', '-format=json', token]);
      assert.equal(opened.code, 0, opened.stderr);
      assert.deepEqual(JSON.parse(opened.stdout).data.data, { password: 'hunter2-wrapped' });
      const again = await cli(['unwrap', token]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /^Error unwrapping: Error making API request\.[\s\S]*Code: 400\. Errors:\n\n\* wrapping token is not valid or does not exist/);
    });

    it('write sys/wrapping/wrap wraps for 5m by default; unwrap with the wrapping token as the client token; -field', async () => {
      const wrapped = await cli(['write', '-format=json', 'sys/wrapping/wrap', 'motto=carpe-diem']);
      assert.equal(wrapped.code, 0, wrapped.stderr);
      const info = JSON.parse(wrapped.stdout).wrap_info;
      assert.equal(info.ttl, 300);
      assert.equal(info.creation_path, 'sys/wrapping/wrap');
      const opened = await cli(['unwrap', '-field=motto'], info.token);
      assert.deepEqual([opened.code, opened.stdout, opened.stderr], [0, 'carpe-diem\n', '']);

      const list = await cli(['list', '-wrap-ttl=1m', 'secret/metadata']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^wrapping_token_creation_path:\s+secret\/metadata\/$/m);
      const listToken = /^wrapping_token:\s+(\S+)$/m.exec(list.stdout)![1];
      const keys = await cli(['unwrap', listToken]);
      assert.equal(keys.code, 0, keys.stderr);
      assert.deepEqual(keys.stdout.trim().split('\n'), ['Keys', '----', 'app']);
    });

    it('token create -wrap-ttl (and VAULT_WRAP_TTL) wraps the new token; a bad -wrap-ttl is a usage error', async () => {
      const created = await cli(['token', 'create', '-wrap-ttl=60s', '-format=json', '-policy=default']);
      assert.equal(created.code, 0, created.stderr);
      const body = JSON.parse(created.stdout);
      assert.equal(body.auth, null);
      assert.match(body.wrap_info.wrapped_accessor, /^[A-Za-z0-9]{24}$/);
      const accessor = await cli(['unwrap', '-field=token_accessor', body.wrap_info.token]);
      assert.deepEqual([accessor.code, accessor.stdout.trim()], [0, body.wrap_info.wrapped_accessor]);

      const viaEnv = await cli(['token', 'create', '-field=wrapping_token_ttl', '-policy=default'], 'root', { VAULT_WRAP_TTL: '90s' });
      assert.deepEqual([viaEnv.code, viaEnv.stdout.trim()], [0, '90']);

      const bad = await cli(['kv', 'get', '-wrap-ttl=soon', 'secret/app']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^invalid value for flag -wrap-ttl/);
    });
  });
});
