/**
 * The auth/token/ declarations through the backend's `handle`: fields are
 * decoded by their schema before any rule runs (null is absent, "3" and
 * "true" are taken, a wrong type is a 400 naming the field with nothing
 * stored), unknown fields draw Vault's warning, prototype keys do nothing,
 * and operations a path does not declare are 405.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { LogicalRequest, LogicalResponse, Operation } from '../../engines/types.ts';
import { InmemBackend } from '../../storage/inmem.ts';
import { TresorError } from '../errors.ts';
import type { TokenEntry } from './token-entry.ts';
import { TokenStore } from './token-store.ts';

interface Caller { token: string; entry: TokenEntry }

const IGNORED = (names: string) => `Endpoint ignored these unrecognized parameters: [${names}]`;

function setup() {
  const storage = new InmemBackend();
  const now = 1_700_000_000_000;
  const store = new TokenStore({ storage, randomBytes: async (n) => crypto.randomBytes(n), now: () => now });
  const call = (caller: Caller, operation: Operation, path: string, data: Record<string, unknown> = {}) => {
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
  const createVia = async (caller: Caller, data: Record<string, unknown>): Promise<Caller> => {
    const token = (await call(caller, 'update', 'create', data)).auth!.client_token as string;
    return { token, entry: (await store.lookup(token))! };
  };
  /** Every stored key with its bytes, to show a refused request changed nothing. */
  const snapshot = async (prefix = ''): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const name of await storage.list(prefix)) {
      if (name.endsWith('/')) Object.assign(out, await snapshot(prefix + name));
      else out[prefix + name] = (await storage.get(prefix + name))!.toString('base64');
    }
    return out;
  };
  return { store, call, createVia, snapshot };
}

async function rejectsWith(promise: Promise<unknown>, status: number, message: string | RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TresorError, `expected TresorError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('auth/token declared fields', () => {
  it('JSON null is "not given": defaults apply (renewable true, store TTL, no metadata, not orphan)', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    const nulls = Object.fromEntries(['id', 'meta', 'no_parent', 'no_default_policy', 'renewable', 'ttl', 'explicit_max_ttl',
      'period', 'display_name', 'num_uses', 'type'].map((k) => [k, null]));
    const res = await call(root, 'update', 'create', { policies: ['a'], ...nulls });
    assert.equal(res.warnings, undefined);
    const auth = res.auth!;
    assert.deepEqual(auth.policies, ['a', 'default']);
    assert.equal(auth.renewable, true);
    assert.equal(auth.lease_duration, store.defaultTtl);
    assert.equal(auth.metadata, null);
    assert.equal(auth.orphan, false);
    assert.equal(auth.num_uses, 0);
    const entry = (await store.lookup(auth.client_token as string))!;
    assert.equal(entry.displayName, 'token');
    // null policies: the parent's, as if absent.
    const child = await call({ token: auth.client_token as string, entry }, 'update', 'create', { policies: null });
    assert.deepEqual(child.auth!.policies, ['a', 'default']);
    // null token on lookup is a missing token, null increment on renew is none.
    await rejectsWith(call(root, 'update', 'lookup', { token: null }), 400, 'missing token');
    const renewed = await call(root, 'update', 'renew', { token: auth.client_token, increment: null });
    assert.equal(renewed.auth!.lease_duration, store.defaultTtl);
  });

  it('takes "3", "true", "false", "3600" and comma strings as CLIs and query strings send them', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    const res = await call(root, 'update', 'create', {
      policies: 'b, a', num_uses: '3', renewable: 'false', no_default_policy: 'true', no_parent: '1', ttl: '3600',
      explicit_max_ttl: '7200', meta: ['team=blue', 'env=dev'],
    });
    const auth = res.auth!;
    assert.deepEqual(auth.policies, ['a', 'b']);
    assert.equal(auth.num_uses, 3);
    assert.equal(auth.renewable, false);
    assert.equal(auth.orphan, true);
    assert.equal(auth.lease_duration, 3600);
    assert.deepEqual(auth.metadata, { team: 'blue', env: 'dev' });
    // Numbers and booleans where strings are declared, as Go's weak decoding takes them.
    const weak = await call(root, 'update', 'create', { policies: ['a'], display_name: 42, meta: { n: 1, ok: true } });
    assert.deepEqual(weak.auth!.metadata, { n: '1', ok: 'true' });
    const renewable = await call(root, 'update', 'create', { policies: ['a'], ttl: '1h', renewable: 'true' });
    const renew = await call(root, 'update', 'renew', { token: renewable.auth!.client_token, increment: '60' });
    assert.equal(renew.auth!.lease_duration, 60);
  });

  it('a wrong type is a 400 naming the field, not echoing the value, with nothing stored or changed', async () => {
    const { store, call, createVia, snapshot } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['a'], ttl: '1h' });
    const cases: Array<[string, Operation, Record<string, unknown>, string]> = [
      ['create', 'update', { policies: ['a'], num_uses: 'secret-many' }, 'num_uses must be an integer'],
      ['create', 'update', { policies: ['a'], num_uses: 2.5 }, 'num_uses must be an integer'],
      ['create', 'update', { policies: ['a'], renewable: 'secret-perhaps' }, 'renewable must be a boolean'],
      ['create', 'update', { policies: ['a'], no_parent: [true] }, 'no_parent must be a boolean'],
      ['create', 'update', { policies: { secret: 'x' } }, 'policies must be a string'],
      ['create', 'update', { policies: ['a'], id: { secret: 'x' } }, 'id must be a string'],
      ['create', 'update', { policies: ['a'], meta: { k: { secret: 'x' } } }, 'meta.k must be a string'],
      ['create', 'update', { policies: ['a'], ttl: { secret: 1 } }, 'ttl must be a non-negative duration such as "30s" or "1h"'],
      ['create-orphan', 'update', { policies: ['a'], period: 'secret' }, 'period must be a non-negative duration such as "30s" or "1h"'],
      ['lookup', 'update', { token: ['secret'] }, 'token must be a string'],
      ['revoke', 'update', { token: { secret: child.token } }, 'token must be a string'],
      ['revoke-accessor', 'update', { accessor: [child.entry.accessor] }, 'accessor must be a string'],
      ['renew', 'update', { token: child.token, increment: 'secret' }, 'increment must be a non-negative duration such as "30s" or "1h"'],
      ['renew-self', 'update', { increment: [1] }, 'increment must be a non-negative duration such as "30s" or "1h"'],
    ];
    for (const [path, op, data, message] of cases) {
      const before = await snapshot();
      await rejectsWith(call(path === 'renew-self' ? child : root, op, path, data), 400, message);
      assert.deepEqual(await snapshot(), before, `${path} ${JSON.stringify(data)}: storage unchanged`);
    }
    assert.ok(await store.lookup(child.token), 'the token named in the refused revoke lives');
  });

  it('fields the path does not declare draw Vault\'s warning; a 204 carries none', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const res = await call(root, 'update', 'create', { policies: ['a'], lease: '1h', bound_cidrs: 'x', bogus: 1 });
    assert.deepEqual(res.warnings, [IGNORED('bogus bound_cidrs lease')]);
    assert.equal(res.auth!.lease_duration, store.defaultTtl, 'the ignored lease did nothing');
    const capped = await call(root, 'update', 'create', { policies: ['a'], ttl: '1h', explicit_max_ttl: '1m', zz: true });
    assert.deepEqual(capped.warnings, ['TTL of the token was capped by its explicit max TTL', IGNORED('zz')]);
    const self = await call(root, 'read', 'lookup-self', { token: 'unused', extra: 'x' });
    assert.deepEqual(self.warnings, [IGNORED('extra')]);
    const victim = await createVia(root, { policies: ['a'] });
    const revoked = await call(root, 'update', 'revoke', { token: victim.token, extra: 'x' });
    assert.equal(revoked.status, 204);
    assert.equal(revoked.warnings, undefined);
  });

  it('__proto__ and constructor keys are harmless: no policy, no pollution, no crash', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    const data = JSON.parse('{"policies": ["a"], "__proto__": {"policies": ["root"], "no_parent": true},'
      + ' "constructor": {"prototype": {"polluted": true}}, "meta": {"__proto__": "x", "constructor": "y", "k": "v"}}');
    const res = await call(root, 'update', 'create', data);
    assert.deepEqual(res.auth!.policies, ['a', 'default']);
    assert.equal(res.auth!.orphan, false);
    assert.deepEqual(res.warnings, [IGNORED('__proto__ constructor')]);
    const meta = res.auth!.metadata as Record<string, string>;
    assert.equal(Object.getPrototypeOf(meta), Object.prototype);
    assert.deepEqual({ ...meta }, { constructor: 'y', k: 'v' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(await call(root, 'read', '__proto__'), null);
    assert.equal(await call(root, 'update', 'constructor'), null);
    assert.equal(await call(root, 'list', 'hasOwnProperty'), null);
  });

  it('an operation a known path does not declare is 405, with nothing done', async () => {
    const { store, call, createVia, snapshot } = setup();
    const root = await store.createRoot();
    const victim = await createVia(root, { policies: ['a'] });
    const cases: Array<[Operation, string, Record<string, unknown>]> = [
      ['delete', 'create', {}], ['read', 'create-orphan', {}], ['list', 'lookup', {}], ['read', 'revoke', { token: victim.token }],
      ['delete', 'revoke-self', {}], ['read', 'revoke-orphan', { token: victim.token }], ['update', 'accessors', {}],
      ['read', 'accessors/', {}], ['delete', 'renew', {}], ['read', 'lookup-accessor', {}],
    ];
    for (const [op, path, data] of cases) {
      const before = await snapshot();
      await rejectsWith(call(root, op, path, data), 405, 'unsupported operation');
      assert.deepEqual(await snapshot(), before, `${op} ${path}`);
    }
    assert.ok(await store.lookup(victim.token));
  });

  it('revoke-orphan and accessors/ are declared sudo; the others are not', () => {
    const { store } = setup();
    const sudo = (path: string) => store.backend.route(path)?.declaration.sudo === true;
    assert.ok(sudo('revoke-orphan'));
    assert.ok(sudo('accessors'));
    assert.ok(sudo('accessors/'));
    for (const path of ['create', 'create-orphan', 'create/web', 'roles', 'roles/web', 'lookup', 'lookup-self', 'lookup-accessor', 'renew', 'renew-self',
      'renew-accessor', 'revoke', 'revoke-self', 'revoke-accessor']) {
      assert.ok(store.backend.route(path), `${path} is declared`);
      assert.equal(sudo(path), false, path);
    }
    // Role names follow Vault's name rule.
    assert.equal(store.backend.route('create/a/b'), undefined);
  });

  it('help and OpenAPI come from the declarations', () => {
    const { store } = setup();
    const help = store.backend.help('create', 'auth/token/')!;
    assert.match(help.help, /^Request: +auth\/token\/create$/m);
    for (const field of ['policies (comma-string-slice)', 'meta (kv-pairs)', 'num_uses (int)', 'renewable (bool)', 'ttl (duration)']) {
      assert.ok(help.help.includes(field), field);
    }
    const paths = store.backend.openApiPaths('auth/token/');
    for (const p of ['create', 'create-orphan', 'lookup', 'lookup-self', 'lookup-accessor', 'renew', 'renew-self',
      'renew-accessor', 'revoke', 'revoke-self', 'revoke-accessor', 'revoke-orphan']) {
      assert.ok(paths[`/auth/token/${p}`], p);
    }
    assert.ok(Object.keys(paths).some((p) => p.startsWith('/auth/token/accessors')));
  });
});
