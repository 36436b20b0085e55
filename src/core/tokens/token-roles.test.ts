import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { LogicalRequest, LogicalResponse, Operation } from '../../engines/types.ts';
import { InmemBackend } from '../../storage/inmem.ts';
import { TresorError } from '../errors.ts';
import { openBatchToken, sealBatchToken } from './batch-tokens.ts';
import { addressAllowed } from '../cidr.ts';
import { normaliseCidrs } from './cidrs.ts';
import type { TokenEntry } from './token-entry.ts';
import { globMatch } from './token-roles.ts';
import { TokenStore } from './token-store.ts';

function setup() {
  const storage = new InmemBackend();
  const store = new TokenStore({ storage, randomBytes: async (n) => crypto.randomBytes(n) });
  const call = (caller: { token: string; entry: TokenEntry }, operation: Operation, path: string, data: Record<string, unknown> = {}) => {
    const req: LogicalRequest = {
      operation, path, data, storage, mountPoint: 'auth/token/', defaultLeaseTtl: 2764800,
      randomBytes: async (n) => crypto.randomBytes(n),
      auth: {
        clientToken: caller.token, accessor: caller.entry.accessor, policies: caller.entry.policies,
        tokenId: caller.entry.id, displayName: caller.entry.displayName, entityId: caller.entry.entityId,
      },
    };
    return store.backend.handle(req) as Promise<LogicalResponse>;
  };
  return { storage, store, call };
}

async function rejectsWith(promise: Promise<unknown>, status: number, message: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TresorError, String(err));
    assert.equal(err.status, status);
    assert.equal(err.message, message);
    return true;
  });
}

describe('token role helpers', () => {
  it('globMatch follows go-glob: * anywhere, any number of times', () => {
    const yes: Array<[string, string]> = [['*', 'x'], ['app-*', 'app-1'], ['*-dev', 'a-dev'], ['a*b*c', 'aXXbYYc'], ['ab', 'ab'], ['a*', 'a']];
    const no: Array<[string, string]> = [['app-*', 'ap'], ['a*b*c', 'acb'], ['ab', 'abc'], ['*-dev', 'dev'], ['a*a', 'a']];
    for (const [p, v] of yes) assert.ok(globMatch(p, v), `${p} ~ ${v}`);
    for (const [p, v] of no) assert.ok(!globMatch(p, v), `${p} !~ ${v}`);
  });

  it('CIDRs: normalised as Vault prints them, matched against IPv4, IPv6 and mapped addresses', () => {
    assert.deepEqual(normaliseCidrs(['127.0.0.1', '10.0.0.0/8', '10.1.2.3/32', '::1', 'fd00::/8', ' ']), ['127.0.0.1', '10.0.0.0/8', '10.1.2.3', '::1', 'fd00::/8']);
    for (const bad of ['10.0.0.0/33', 'x', '10.0.0/8', '::1/129', '1.2.3.4/']) assert.equal(normaliseCidrs([bad]), undefined, bad);
    assert.ok(addressAllowed('127.0.0.1', ['127.0.0.0/8']));
    assert.ok(addressAllowed('::ffff:127.0.0.1', ['127.0.0.1']));
    assert.ok(addressAllowed('fd00::5', ['fd00::/8']));
    assert.ok(!addressAllowed('192.168.0.1', ['10.0.0.0/8', '127.0.0.1']));
    assert.ok(!addressAllowed(undefined, ['0.0.0.0/0']));
    assert.ok(!addressAllowed('not-an-ip', ['0.0.0.0/0']));
  });

  it('batch tokens open only under their key, unaltered', () => {
    const key = crypto.randomBytes(32);
    const entry = {
      id: 'x', accessor: '', policies: ['a'], path: 'auth/token/create', meta: { k: 'v' }, displayName: 'token', numUses: 0,
      creationTime: 1, ttl: 60, explicitMaxTtl: 0, expireTime: 61_000, period: 0, renewable: false, parent: 'p', orphan: false,
      type: 'batch' as const, entityId: 'e', role: 'r', boundCidrs: ['10.0.0.0/8'],
    };
    const token = sealBatchToken(key, entry);
    assert.match(token, /^hvb\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(openBatchToken(key, token, 'x'), entry);
    assert.equal(openBatchToken(crypto.randomBytes(32), token, 'x'), undefined, 'another key');
    const body = token.slice(4);
    const flipped = `hvb.${body.slice(0, 20)}${body[20] === 'A' ? 'B' : 'A'}${body.slice(21)}`;
    assert.equal(openBatchToken(key, flipped, 'x'), undefined, 'altered');
    for (const junk of ['hvb.', 'hvb.!!', 'hvs.abc', `hvb.${'A'.repeat(20000)}`]) assert.equal(openBatchToken(key, junk, 'x'), undefined, junk.slice(0, 10));
  });
});

describe('auth/token roles through the backend', () => {
  it('a refused role write stores nothing; a new role takes Vault\'s defaults', async () => {
    const { store, storage, call } = setup();
    const root = await store.createRoot();
    const keys = async () => (await storage.list('roles/')).sort();
    await rejectsWith(call(root, 'update', 'roles/r1', { token_type: 'batch' }), 400, "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens");
    assert.deepEqual(await keys(), []);
    assert.deepEqual(await call(root, 'update', 'roles/r1', {}), { status: 204 });
    const read = (await call(root, 'read', 'roles/r1')).data!;
    assert.equal(read.renewable, true);
    assert.equal(read.orphan, false);
    assert.equal(read.token_type, 'default-service');
    assert.deepEqual(read.allowed_policies, []);
    assert.equal(read.allowed_entity_aliases, null);
    assert.deepEqual(await keys(), ['r1']);
    assert.equal(await store.backend.existenceCheck({ ...fakeReq(storage), path: 'roles/r1' }), true);
    assert.equal(await store.backend.existenceCheck({ ...fakeReq(storage), path: 'roles/none' }), false);
  });

  it('create/<role> with entity_alias asks the identity hook only once every rule passed', async () => {
    const asked: string[] = [];
    const storage = new InmemBackend();
    const store = new TokenStore({
      storage, randomBytes: async (n) => crypto.randomBytes(n),
      entityForAlias: async (name) => {
        asked.push(name);
        return { id: `ent-${name}`, disabled: name === 'off' };
      },
    });
    const root = await store.createRoot();
    const call = (path: string, data: Record<string, unknown>) => store.backend.handle({
      ...fakeReq(storage), operation: 'update', path, data,
      auth: { clientToken: root.token, accessor: root.entry.accessor, policies: ['root'], tokenId: root.entry.id, displayName: 'root', entityId: '' },
    });
    await call('roles/ea', { allowed_policies: 'a', allowed_entity_aliases: 'ok,off' });
    await rejectsWith(call('create/ea', { entity_alias: 'ok', policies: ['b'] }), 400,
      'token policies (["b" "default"]) must be subset of the role\'s allowed policies (["a" "default"]) or glob policies ([])');
    assert.deepEqual(asked, [], 'a refused create makes no entity');
    const made = await call('create/ea', { entity_alias: 'OK' });
    assert.equal(made!.auth!.entity_id, 'ent-OK');
    await rejectsWith(call('create/ea', { entity_alias: 'off' }), 403, 'entity from given entity alias is disabled');
  });
});

function fakeReq(storage: InmemBackend): LogicalRequest {
  return { operation: 'update', path: '', data: {}, storage, mountPoint: 'auth/token/', defaultLeaseTtl: 2764800, randomBytes: async (n) => crypto.randomBytes(n) };
}
