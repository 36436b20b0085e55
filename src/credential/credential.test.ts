/**
 * The userpass and approle declarations through the backend's `handle`,
 * with in-memory storage: what is stored (a scrypt hash, never the
 * password; HMACs, never a secret ID), fields decoded by their schema (null
 * absent, "3"/"true" taken, wrong types a 400 naming the field with nothing
 * stored), unknown fields warned about, prototype keys harmless, 405 for
 * undeclared operations; plus the CIDR helpers.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { LogicalBackend, LogicalRequest, LogicalResponse, Operation } from '../engines/types.ts';
import { InmemBackend } from '../storage/inmem.ts';
import { TresorError } from '../core/errors.ts';
import { createUserpassBackend } from './userpass/index.ts';
import { createAppRoleBackend } from './approle/index.ts';
import { addressAllowed, cidrSubset, parseCidr, validCidrList } from '../core/cidr.ts';
import { SCRYPT_PARAMS } from './userpass/password.ts';

function setup(backend: LogicalBackend) {
  const storage = new InmemBackend();
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}, remoteAddress = '127.0.0.1') => {
    const req: LogicalRequest = {
      operation, path, data, storage, mountPoint: 'auth/test/', defaultLeaseTtl: 2764800, maxLeaseTtl: 2764800,
      randomBytes: async (n) => crypto.randomBytes(n), remoteAddress,
    };
    return backend.handle(req) as Promise<LogicalResponse>;
  };
  /** Every stored key with its bytes. */
  const dump = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    const walk = async (prefix: string) => {
      for (const key of await storage.list(prefix)) {
        if (key.endsWith('/')) await walk(prefix + key);
        else out.set(prefix + key, (await storage.get(prefix + key))!.toString('utf8'));
      }
    };
    await walk('');
    return out;
  };
  const refuses = async (p: Promise<unknown>, status: number, message: string | RegExp) => {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof TresorError, String(err));
      assert.equal(err.status, status, err.message);
      if (message instanceof RegExp) assert.match(err.message, message);
      else assert.equal(err.message, message);
      return true;
    });
  };
  return { storage, call, dump, refuses };
}

const IGNORED = (names: string) => `Endpoint ignored these unrecognized parameters: [${names}]`;

describe('userpass backend', () => {
  it('stores a salted scrypt hash with its parameters, never the password', async () => {
    const { call, dump } = setup(createUserpassBackend());
    await call('update', 'users/Alice', { password: 'correct horse battery', token_policies: 'dev' });
    const stored = await dump();
    assert.deepEqual([...stored.keys()], ['user/alice']);
    const text = stored.get('user/alice')!;
    assert.ok(!text.includes('correct horse'), 'no password in storage');
    const user = JSON.parse(text);
    assert.equal(user.password_hash.alg, 'scrypt');
    assert.equal(user.password_hash.N, SCRYPT_PARAMS.N);
    assert.equal(Buffer.from(user.password_hash.salt, 'base64').length, 16);
    assert.equal(Buffer.from(user.password_hash.hash, 'base64').length, 32);
    // Same password, another user: another salt, another hash.
    await call('update', 'users/bob', { password: 'correct horse battery' });
    const bob = JSON.parse((await dump()).get('user/bob')!);
    assert.notEqual(bob.password_hash.salt, user.password_hash.salt);
    assert.notEqual(bob.password_hash.hash, user.password_hash.hash);
    const login = await call('update', 'login/ALICE', { password: 'correct horse battery' });
    assert.deepEqual(login.login?.metadata, { username: 'alice' });
    assert.deepEqual(login.login?.policies, ['dev']);
  });

  it('null fields are absent, "3"/"true" are taken, wrong types are refused naming the field with nothing stored', async () => {
    const { call, dump, refuses } = setup(createUserpassBackend());
    await call('update', 'users/u', { password: 'pw', token_ttl: null, token_num_uses: '3', token_no_default_policy: 'true', token_policies: null });
    const read = (await call('read', 'users/u')).data!;
    assert.equal(read.token_num_uses, 3);
    assert.equal(read.token_no_default_policy, true);
    assert.equal(read.token_ttl, 0);
    assert.deepEqual(read.token_policies, []);
    const before = await dump();
    await refuses(call('update', 'users/u', { token_num_uses: 'many' }), 400, /token_num_uses/);
    await refuses(call('update', 'users/u', { token_ttl: {} }), 400, /token_ttl/);
    await refuses(call('update', 'users/u', { token_no_default_policy: 'perhaps' }), 400, /token_no_default_policy/);
    await refuses(call('update', 'users/u', { password: 12, token_num_uses: -1 }), 400, "'token_num_uses' cannot be negative");
    await refuses(call('update', 'users/u', { token_ttl: '2h', token_max_ttl: '1h' }), 400, "'token_ttl' cannot be greater than 'token_max_ttl'");
    await refuses(call('update', 'users/u', { token_bound_cidrs: '10.0.0.0/99' }), 400, "'token_bound_cidrs' must be a list of IP addresses or CIDR blocks");
    await refuses(call('update', 'users/u', { token_type: 'batch' }), 400, 'unsupported token type: only service tokens are available');
    await refuses(call('update', 'users/u', { token_type: 'other' }), 400, "invalid 'token_type' value");
    await refuses(call('update', 'users/v', {}), 400, 'missing password');
    await refuses(call('update', 'users/u', { password: '' }), 400, 'missing password');
    await refuses(call('update', 'users/u/password', { password: '' }), 400, 'missing password');
    await refuses(call('update', 'users/nobody/password', { password: 'x' }), 400, 'username does not exist');
    await refuses(call('update', 'users/nobody/policies', { token_policies: 'x' }), 400, 'username does not exist');
    assert.deepEqual(await dump(), before, 'nothing changed');
  });

  it('unknown fields are warned about, prototype keys do nothing, undeclared operations are 405', async () => {
    const { call, refuses } = setup(createUserpassBackend());
    await call('update', 'users/u', { password: 'pw' });
    const login = await call('update', 'login/u', JSON.parse('{"password":"pw","__proto__":{"polluted":true},"extra":1}'));
    assert.deepEqual(login.warnings, [IGNORED('__proto__ extra')]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    await refuses(call('read', 'login/u'), 405, 'unsupported operation');
    await refuses(call('delete', 'users/u/password'), 405, 'unsupported operation');
    assert.equal(await call('read', 'nothing/here'), null);
  });

  it('the deprecated fields set the token fields and read back as Vault\'s', async () => {
    const { call } = setup(createUserpassBackend());
    await call('update', 'users/old', { password: 'pw', policies: 'a,b', ttl: '1h', max_ttl: '2h', bound_cidrs: '127.0.0.1' });
    const data = (await call('read', 'users/old')).data!;
    assert.deepEqual(data.token_policies, ['a', 'b']);
    assert.deepEqual(data.policies, ['a', 'b']);
    assert.equal(data.token_ttl, 3600);
    assert.equal(data.ttl, 3600);
    assert.equal(data.max_ttl, 7200);
    assert.deepEqual(data.bound_cidrs, ['127.0.0.1']);
    // The new field given alone drops the old one.
    await call('update', 'users/old', { token_policies: 'c' });
    const after = (await call('read', 'users/old')).data!;
    assert.deepEqual(after.token_policies, ['c']);
    assert.equal(after.policies, undefined);
  });
});

describe('approle backend', () => {
  it('keeps secret IDs only as HMACs (the secret ID string is nowhere in storage)', async () => {
    const { call, dump } = setup(createAppRoleBackend());
    await call('update', 'role/app', { token_policies: 'dev' });
    const roleId = (await call('read', 'role/app/role-id')).data!.role_id as string;
    const issued = (await call('update', 'role/app/secret-id', { metadata: '{"env":"prod"}' })).data!;
    await call('update', 'role/app/custom-secret-id', { secret_id: 'my-chosen-secret-id-value' });
    const secretId = issued.secret_id as string;
    const stored = await dump();
    for (const [key, value] of stored) {
      assert.ok(!key.includes(secretId) && !value.includes(secretId), `secret ID in ${key}`);
      assert.ok(!key.includes('my-chosen-secret') && !value.includes('my-chosen-secret'), `custom secret ID in ${key}`);
      assert.ok(!key.includes(roleId), `the role ID is a storage key only as a salted hash (${key})`);
    }
    assert.equal([...stored.keys()].filter((k) => k.startsWith('secret_id/')).length, 2);
    const login = await call('update', 'login', { role_id: roleId, secret_id: secretId });
    assert.deepEqual(login.login?.metadata, { env: 'prod', role_name: 'app' });
  });

  it('wrong types are refused naming the field with nothing stored; nulls are absent; "3"/"true" taken', async () => {
    const { call, dump, refuses } = setup(createAppRoleBackend());
    await call('update', 'role/r', { secret_id_num_uses: '3', bind_secret_id: 'true', secret_id_ttl: null, token_ttl: '60' });
    const read = (await call('read', 'role/r')).data!;
    assert.equal(read.secret_id_num_uses, 3);
    assert.equal(read.bind_secret_id, true);
    assert.equal(read.secret_id_ttl, 0);
    assert.equal(read.token_ttl, 60);
    const before = await dump();
    await refuses(call('update', 'role/r', { secret_id_num_uses: 'lots' }), 400, /secret_id_num_uses/);
    await refuses(call('update', 'role/r', { bind_secret_id: 'sometimes' }), 400, /bind_secret_id/);
    await refuses(call('update', 'role/r', { secret_id_num_uses: -2 }), 400, 'secret_id_num_uses cannot be negative');
    await refuses(call('update', 'role/r', { secret_id_bound_cidrs: '10.0.0.1' }), 400, 'invalid CIDR blocks');
    await refuses(call('update', 'role/r', { bind_secret_id: false }), 400, 'at least one constraint should be enabled on the role');
    await refuses(call('update', 'role/r', { local_secret_ids: true }), 400, 'local_secret_ids can only be modified during role creation');
    await refuses(call('update', 'role/r', { role_id: '' }), 400, 'invalid role_id supplied, or failed to generate a role_id');
    await refuses(call('update', 'role/r', { token_type: 'batch' }), 400, 'unsupported token type: only service tokens are available');
    await refuses(call('update', 'role/r/secret-id', { num_uses: 4 }), 400, "num_uses cannot be higher than the role's secret_id_num_uses");
    await refuses(call('update', 'role/r/secret-id', { num_uses: 0 }), 400, "num_uses cannot be higher than the role's secret_id_num_uses");
    await refuses(call('update', 'role/r/secret-id', { num_uses: 'x' }), 400, /num_uses/);
    await refuses(call('update', 'role/r/secret-id', { cidr_list: 'nonsense' }), 400, 'failed to validate CIDR blocks');
    await refuses(call('update', 'role/r/secret-id', { metadata: '{"a":1}' }), 400, /failed to parse metadata/);
    await refuses(call('update', 'role/r/custom-secret-id', {}), 400, 'missing secret_id');
    await refuses(call('update', 'role/nope/secret-id', {}), 404, 'role "nope" does not exist');
    await refuses(call('update', 'role/r/role-id', {}), 400, 'missing role_id');
    await refuses(call('update', 'login', {}), 400, 'missing role_id');
    assert.deepEqual(await dump(), before, 'nothing changed');
  });

  it('unknown fields are warned about, prototype keys do nothing, undeclared operations are 405', async () => {
    const { call, refuses } = setup(createAppRoleBackend());
    // A bare 204 carries no warning (the framework's rule); the read answers one.
    assert.equal((await call('update', 'role/r', JSON.parse('{"enable_local_secret_ids":true,"__proto__":{"x":1}}'))).status, 204);
    assert.equal(({} as Record<string, unknown>).x, undefined);
    const res = await call('read', 'role/r', { enable_local_secret_ids: 'true' });
    assert.deepEqual(res.warnings, [IGNORED('enable_local_secret_ids')]);
    await refuses(call('read', 'login'), 405, 'unsupported operation');
    await refuses(call('delete', 'role/r/role-id'), 405, 'unsupported operation');
    await refuses(call('read', 'role/r/secret-id/lookup'), 405, 'unsupported operation');
  });
});

describe('CIDR helpers', () => {
  it('parse blocks (and plain addresses where allowed), match IPv4, mapped IPv4 and IPv6, check subsets', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { family: 'ipv4', address: '10.0.0.0', prefix: 8 });
    assert.equal(parseCidr('10.0.0.1'), undefined);
    assert.deepEqual(parseCidr('10.0.0.1', true), { family: 'ipv4', address: '10.0.0.1', prefix: 32 });
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('2001:db8::/129'), undefined);
    assert.equal(parseCidr('host/8'), undefined);
    assert.ok(validCidrList([' 10.0.0.0/8', '2001:db8::/32']));
    assert.ok(addressAllowed('10.1.2.3', ['10.0.0.0/8']));
    assert.ok(addressAllowed('::ffff:10.1.2.3', ['10.0.0.0/8']));
    assert.ok(!addressAllowed('11.0.0.1', ['10.0.0.0/8']));
    assert.ok(addressAllowed('2001:db8::5', ['2001:db8::/32']));
    assert.ok(!addressAllowed(undefined, ['0.0.0.0/0']));
    assert.ok(addressAllowed('127.0.0.1', ['127.0.0.1']));
    assert.ok(cidrSubset(['10.0.0.0/8'], ['10.1.0.0/16', '10.2.3.4/32']));
    assert.ok(!cidrSubset(['10.0.0.0/8'], ['11.0.0.0/16']));
    assert.ok(!cidrSubset(['10.1.0.0/16'], ['10.0.0.0/8']));
    assert.ok(cidrSubset([], ['1.2.3.0/24']));
  });
});
