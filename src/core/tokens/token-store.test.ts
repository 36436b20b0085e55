import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import type { LogicalRequest, LogicalResponse, Operation } from '../../engines/types.ts';
import { InmemBackend } from '../../storage/inmem.ts';
import { TresorError } from '../errors.ts';
import { durationSeconds } from '../request-fields.ts';
import type { TokenEntry } from './token-entry.ts';
import { TokenStore, type TokenStoreDeps } from './token-store.ts';

const START_MS = 1_700_000_000_000;
const BASE62_TOKEN = /^hvs\.[A-Za-z0-9]{24}$/;

interface Caller { token: string; entry: TokenEntry }

function setup(options: Partial<TokenStoreDeps> = {}) {
  const storage = new InmemBackend();
  const clock = { ms: START_MS };
  const revoked: string[] = [];
  const store = new TokenStore({
    storage,
    randomBytes: async (n) => crypto.randomBytes(n),
    now: () => clock.ms,
    onRevoke: async (entry) => { revoked.push(entry.id); },
    ...options,
  });
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
  /** Creates a token through the API and returns it as a Caller. */
  const createVia = async (caller: Caller, data: Record<string, unknown> = {}, path = 'create'): Promise<Caller> => {
    const res = await call(caller, 'update', path, data);
    const token = res.auth!.client_token as string;
    return { token, entry: (await store.lookup(token))! };
  };
  const advance = (seconds: number) => { clock.ms += seconds * 1000; };
  return { storage, store, call, createVia, advance, revoked, clock };
}

/** Asserts `promise` rejects with a TresorError of `status` whose message matches `message`. */
async function rejectsWith(promise: Promise<unknown>, status: number, message: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TresorError, `expected TresorError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.match(err.message, message);
    return true;
  });
}

async function allStoredKeys(storage: InmemBackend, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for (const name of await storage.list(prefix)) {
    if (name.endsWith('/')) keys.push(...(await allStoredKeys(storage, prefix + name)));
    else keys.push(prefix + name);
  }
  return keys;
}

describe('TokenStore root tokens and lookup', () => {
  it('createRoot mints an hvs. token with only the root policy and no TTL', async () => {
    const { store } = setup();
    const { token, entry } = await store.createRoot();
    assert.match(token, BASE62_TOKEN);
    assert.match(entry.accessor, /^[A-Za-z0-9]{24}$/);
    assert.match(entry.id, /^[0-9a-f]{64}$/);
    assert.deepEqual(entry.policies, ['root']);
    assert.equal(entry.ttl, 0);
    assert.equal(entry.expireTime, 0);
    assert.equal(entry.renewable, false);
    assert.deepEqual(await store.lookup(token), entry);
  });

  it('createRoot accepts a custom id and refuses to reuse it', async () => {
    const { store } = setup();
    await store.createRoot({ id: 'root' });
    assert.deepEqual((await store.lookup('root'))?.policies, ['root']);
    await rejectsWith(store.createRoot({ id: 'root' }), 400, /duplicate/);
    await rejectsWith(store.createRoot({ id: 'has.dot' }), 400, /"\."/);
  });

  it('lookup of an unknown, empty or non-string token is undefined', async () => {
    const { store } = setup();
    await store.createRoot();
    assert.equal(await store.lookup('hvs.nope'), undefined);
    assert.equal(await store.lookup(''), undefined);
    assert.equal(await store.lookup(42 as unknown as string), undefined);
  });

  it('stores only salted hashes: no raw token or accessor hash input appears in storage', async () => {
    const { store, storage, createVia } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['app'] });
    const keys = await allStoredKeys(storage);
    assert.ok(keys.includes('salt'));
    assert.equal((await storage.get('salt'))!.length, 32);
    for (const key of keys) {
      const value = (await storage.get(key))!.toString('latin1');
      for (const raw of [root.token, child.token]) {
        assert.ok(!key.includes(raw), `raw token in key ${key}`);
        assert.ok(!value.includes(raw), `raw token in value of ${key}`);
        assert.ok(!value.includes(raw.slice(4)), `token body in value of ${key}`);
      }
    }
  });
});

describe('auth/token create', () => {
  it('returns Vault\'s auth block and adds the default policy', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    const res = await call(root, 'update', 'create', { policies: ['App', 'web'], ttl: '1h', meta: { user: 'ana' }, num_uses: 3 });
    assert.equal(res.data, undefined);
    const auth = res.auth!;
    assert.deepEqual(Object.keys(auth).sort(), ['accessor', 'client_token', 'entity_id', 'lease_duration', 'metadata',
      'mfa_requirement', 'num_uses', 'orphan', 'policies', 'renewable', 'token_policies', 'token_type'].sort());
    assert.match(auth.client_token as string, BASE62_TOKEN);
    assert.deepEqual(auth.policies, ['app', 'default', 'web']);
    assert.deepEqual(auth.token_policies, ['app', 'default', 'web']);
    assert.deepEqual(auth.metadata, { user: 'ana' });
    assert.equal(auth.lease_duration, 3600);
    assert.equal(auth.renewable, true);
    assert.equal(auth.token_type, 'service');
    assert.equal(auth.orphan, false);
    assert.equal(auth.mfa_requirement, null);
    assert.equal(auth.num_uses, 3);
  });

  it('a child without policies inherits its parent\'s; no_default_policy leaves default out', async () => {
    const { store, createVia } = setup();
    const root = await store.createRoot();
    const parent = await createVia(root, { policies: ['a', 'b'] });
    const inherited = await createVia(parent);
    assert.deepEqual(inherited.entry.policies, ['a', 'b', 'default']);
    const bare = await createVia(parent, { policies: ['a'], no_default_policy: true });
    assert.deepEqual(bare.entry.policies, ['a']);
  });

  it('a root caller creating without policies or TTL gets a non-expiring root token', async () => {
    const { store, createVia } = setup();
    const child = await createVia(await store.createRoot());
    assert.deepEqual(child.entry.policies, ['root']);
    assert.equal(child.entry.expireTime, 0);
    assert.equal(child.entry.renewable, false);
  });

  it('refuses policies beyond the caller\'s own with a 400', async () => {
    const { store, call, createVia } = setup();
    const limited = await createVia(await store.createRoot(), { policies: ['app'] });
    await createVia(limited, { policies: ['app', 'default'] });
    await rejectsWith(call(limited, 'update', 'create', { policies: ['admin'] }), 400, /subset of parent/);
    await rejectsWith(call(limited, 'update', 'create', { policies: ['root'] }), 400, /subset of parent/);
  });

  it('only root may set no_parent, id or period; anyone may use create-orphan', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const limited = await createVia(root, { policies: ['app'] });
    await rejectsWith(call(limited, 'update', 'create', { no_parent: true }), 400, /orphan/);
    await rejectsWith(call(limited, 'update', 'create', { id: 'mine' }), 400, /token id/);
    await rejectsWith(call(limited, 'update', 'create', { period: '1h' }), 400, /periodic/);

    const orphan = await createVia(limited, {}, 'create-orphan');
    assert.equal(orphan.entry.orphan, true);
    assert.equal(orphan.entry.parent, '');
    assert.equal(orphan.entry.path, 'auth/token/create-orphan');

    const custom = await createVia(root, { id: 'my-custom-token', no_parent: true, policies: ['x'] });
    assert.equal(custom.token, 'my-custom-token');
    assert.equal(custom.entry.orphan, true);
  });

  it('caps the TTL at explicit_max_ttl and at the store max, with warnings', async () => {
    const { store, call } = setup({ maxTtl: 7200 });
    const root = await store.createRoot();
    const explicit = await call(root, 'update', 'create', { policies: ['a'], ttl: '3h', explicit_max_ttl: '1h' });
    assert.equal(explicit.auth!.lease_duration, 3600);
    assert.match(explicit.warnings!.join(), /explicit max TTL/);
    const storeMax = await call(root, 'update', 'create', { policies: ['a'], ttl: '10h' });
    assert.equal(storeMax.auth!.lease_duration, 7200);
    const byDefault = await call(root, 'update', 'create', { policies: ['a'] });
    assert.equal(byDefault.auth!.lease_duration, 7200);
  });

  it('sanitises display_name into token-<name>', async () => {
    const { store, createVia } = setup();
    const child = await createVia(await store.createRoot(), { policies: ['a'], display_name: 'my app!' });
    assert.equal(child.entry.displayName, 'token-my-app');
  });

  it('rejects malformed fields with a 400 naming the field', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ttl: 'soon' }, /ttl/],
      [{ ttl: -5 }, /ttl/],
      [{ explicit_max_ttl: '1y' }, /explicit_max_ttl/],
      [{ num_uses: -1 }, /num_uses/],
      [{ num_uses: 'many' }, /num_uses/],
      // Weak decoding takes 5 as "5" and {a: 1} as {a: "1"}, as Vault does; nested values it cannot take.
      [{ policies: { a: 'b' } }, /policies/],
      [{ policies: [['a']] }, /policies/],
      [{ meta: { a: { b: 'c' } } }, /meta\.a/],
      [{ meta: 'x' }, /meta/],
      [{ renewable: 'perhaps' }, /renewable/],
      [{ type: 'default' }, /^invalid 'token_type' value$/],
    ];
    for (const [data, message] of cases) {
      await rejectsWith(call(root, 'update', 'create', { policies: ['a'], ...data }), 400, message);
      await rejectsWith(call(root, 'update', 'create', data), 400, message);
    }
  });
});

describe('auth/token lookups', () => {
  it('lookup and lookup-self return Vault\'s data with the raw id; lookup-accessor hides it', async () => {
    const { store, call, createVia, advance } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['a'], ttl: '1h', display_name: 'svc', period: '' });
    advance(100);
    const res = await call(root, 'update', 'lookup', { token: child.token });
    const data = res.data!;
    assert.deepEqual(Object.keys(data).sort(), ['accessor', 'creation_time', 'creation_ttl', 'display_name', 'entity_id',
      'expire_time', 'explicit_max_ttl', 'id', 'issue_time', 'meta', 'num_uses', 'orphan', 'path', 'policies',
      'renewable', 'ttl', 'type'].sort());
    assert.equal(data.id, child.token);
    assert.equal(data.accessor, child.entry.accessor);
    assert.equal(data.creation_time, START_MS / 1000);
    assert.equal(data.creation_ttl, 3600);
    assert.equal(data.ttl, 3500);
    assert.equal(data.expire_time, new Date(START_MS + 3600_000).toISOString());
    assert.equal(data.issue_time, new Date(START_MS).toISOString());
    assert.equal(data.path, 'auth/token/create');
    assert.equal(data.display_name, 'token-svc');
    assert.equal(data.type, 'service');

    const self = await call(child, 'read', 'lookup-self');
    assert.equal(self.data!.id, child.token);
    const rootSelf = await call(root, 'read', 'lookup-self');
    assert.equal(rootSelf.data!.expire_time, null);

    const viaAccessor = await call(root, 'update', 'lookup-accessor', { accessor: child.entry.accessor });
    assert.equal(viaAccessor.data!.id, '');
    assert.equal(viaAccessor.data!.accessor, child.entry.accessor);
  });

  it('lookup of a bad token is 403, a missing token field 400, an unknown accessor 400', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    await rejectsWith(call(root, 'update', 'lookup', { token: 'hvs.bogus' }), 403, /bad token/);
    await rejectsWith(call(root, 'update', 'lookup', {}), 400, /missing token/);
    await rejectsWith(call(root, 'update', 'lookup-accessor', { accessor: 'nope' }), 400, /invalid accessor/);
  });

  it('unknown paths give null and wrong operations 405', async () => {
    const { store, call } = setup();
    const root = await store.createRoot();
    assert.equal(await call(root, 'read', 'no-such-path'), null);
    assert.equal(await call(root, 'read', 'constructor'), null);
    await rejectsWith(call(root, 'delete', 'create'), 405, /unsupported operation/);
  });

  it('accessors lists every accessor for root and is forbidden to others', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['a'] });
    const res = await call(root, 'list', 'accessors');
    assert.deepEqual(res.data!.keys, [root.entry.accessor, child.entry.accessor].sort());
    await rejectsWith(call(child, 'list', 'accessors'), 403, /permission denied/);
  });
});

describe('auth/token revocation', () => {
  it('revoking a token revokes its descendants but not orphans, calling onRevoke for each', async () => {
    const { store, call, createVia, revoked } = setup();
    const root = await store.createRoot();
    const parent = await createVia(root, { policies: ['a'] });
    const child = await createVia(parent);
    const grandchild = await createVia(child);
    const orphan = await createVia(parent, {}, 'create-orphan');
    assert.equal((await call(root, 'update', 'revoke', { token: parent.token }))!.status, 204);
    for (const gone of [parent, child, grandchild]) assert.equal(await store.lookup(gone.token), undefined);
    assert.ok(await store.lookup(orphan.token));
    assert.ok(await store.lookup(root.token));
    assert.deepEqual(revoked, [grandchild.entry.id, child.entry.id, parent.entry.id]);
  });

  it('revoke-self and revoke-accessor revoke the named token', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const a = await createVia(root, { policies: ['a'] });
    const b = await createVia(root, { policies: ['b'] });
    await call(a, 'update', 'revoke-self');
    assert.equal(await store.lookup(a.token), undefined);
    await call(root, 'update', 'revoke-accessor', { accessor: b.entry.accessor });
    assert.equal(await store.lookup(b.token), undefined);
    assert.equal(await store.lookupAccessor(b.entry.accessor), undefined);
  });

  it('revoke-orphan keeps the children alive as orphans (root only)', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const parent = await createVia(root, { policies: ['a'] });
    const child = await createVia(parent);
    await rejectsWith(call(parent, 'update', 'revoke-orphan', { token: parent.token }), 403, /permission denied/);
    await call(root, 'update', 'revoke-orphan', { token: parent.token });
    assert.equal(await store.lookup(parent.token), undefined);
    const survivor = await call(root, 'update', 'lookup', { token: child.token });
    assert.equal(survivor.data!.orphan, true);
    await call(root, 'update', 'revoke', { token: root.token });
    assert.ok(await store.lookup(child.token), 'orphan survives revoking the old ancestor');
  });

  it('revoked tokens leave no entry, accessor, parent index or expiry marker behind', async () => {
    const { store, storage, createVia } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['a'] });
    await createVia(child);
    await store.revokeTree(root.entry.id);
    // Only the store's own keys remain: its salt and the marker that its expiry index is complete.
    assert.deepEqual(await allStoredKeys(storage), ['expiry-index', 'salt']);
  });
});

describe('token use limits and expiry', () => {
  it('num_uses counts down and the last use revokes the token', async () => {
    const { store, createVia, revoked } = setup();
    const limited = await createVia(await store.createRoot(), { policies: ['a'], num_uses: 2 });
    assert.equal(await store.use(limited.entry), false);
    assert.equal((await store.lookup(limited.token))!.numUses, 1);
    // The last use: no other request can use the token, but the one spending it is served...
    assert.equal(await store.use(limited.entry), true);
    assert.equal(await store.lookup(limited.token), undefined);
    assert.ok(await store.requestEntry(limited.entry.id));
    await rejectsWith(store.use(limited.entry), 403, /permission denied/);
    // ...and revokes it when done.
    await store.revokeTree(limited.entry.id);
    assert.deepEqual(revoked, [limited.entry.id]);
    assert.equal(await store.requestEntry(limited.entry.id), undefined);
  });

  it('a renewal that arrives after the token was revoked does not bring it back', async () => {
    const { store, createVia } = setup();
    const t = await createVia(await store.createRoot(), { policies: ['a'], ttl: '1h' });
    // The entry a request authenticated with, just before an operator revoked the token.
    const entry = (await store.lookup(t.token))!;
    await store.revokeTree(entry.id);
    await rejectsWith(store.renew(entry, 3600), 403, /permission denied/);
    assert.equal(await store.lookup(t.token), undefined);
    assert.equal(await store.lookupAccessor(entry.accessor), undefined);
  });

  it('concurrent uses never spend more than num_uses', async () => {
    const { store, createVia } = setup();
    const limited = await createVia(await store.createRoot(), { policies: ['a'], num_uses: 3 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => store.use({ ...limited.entry })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  });

  it('unlimited tokens are unchanged by use', async () => {
    const { store } = setup();
    const root = await store.createRoot();
    await store.use(root.entry);
    assert.deepEqual(await store.lookup(root.token), root.entry);
  });

  it('an expired token is invisible at once, and so are its children', async () => {
    const { store, createVia, advance } = setup();
    const root = await store.createRoot();
    const parent = await createVia(root, { policies: ['a'], ttl: '1h' });
    const child = await createVia(parent, { ttl: '5h' });
    advance(3599);
    assert.ok(await store.lookup(parent.token));
    advance(1);
    assert.equal(await store.lookup(parent.token), undefined);
    assert.equal(await store.lookup(child.token), undefined);
    await rejectsWith(store.use(parent.entry), 403, /permission denied/);
  });

  it('sweepExpired deletes expired tokens and their descendants', async () => {
    const { store, storage, createVia, advance, revoked } = setup();
    const root = await store.createRoot();
    const parent = await createVia(root, { policies: ['a'], ttl: '10m' });
    const child = await createVia(parent, { ttl: '1h' });
    const keeper = await createVia(root, { policies: ['a'], ttl: '1h' });
    advance(601);
    assert.equal(await store.sweepExpired(), 1);
    assert.deepEqual(revoked.sort(), [parent.entry.id, child.entry.id].sort());
    assert.deepEqual((await storage.list('id/')).sort(), [root.entry.id, keeper.entry.id].sort());
  });

  it('the expiry timer revokes expired tokens in the background', async () => {
    const { store, storage, createVia, advance } = setup();
    const short = await createVia(await store.createRoot(), { policies: ['a'], ttl: '1s' });
    advance(2);
    store.startExpiryTimer(5);
    try {
      for (let i = 0; i < 200 && (await storage.get(`id/${short.entry.id}`)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(await storage.get(`id/${short.entry.id}`), undefined);
    } finally {
      store.stop();
    }
  });
});

describe('token renewal', () => {
  it('renew extends by the increment, capped by explicit_max_ttl with a warning', async () => {
    const { store, call, createVia, advance } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['a'], ttl: '1h', explicit_max_ttl: '2h' });
    advance(1800);
    const small = await call(root, 'update', 'renew', { token: child.token, increment: '20m' });
    assert.equal(small.auth!.lease_duration, 1200);
    assert.equal(small.auth!.client_token, child.token);
    assert.equal((await store.lookup(child.token))!.expireTime, START_MS + (1800 + 1200) * 1000);
    const big = await call(child, 'update', 'renew-self', { increment: '3h' });
    assert.equal(big.auth!.lease_duration, 5400);
    assert.match(big.warnings!.join(), /explicit max TTL/);
    advance(5400);
    assert.equal(await store.lookup(child.token), undefined);
  });

  it('renew without an increment reuses the creation TTL, capped by the store max', async () => {
    const { store, call, createVia, advance } = setup({ maxTtl: 5000 });
    const child = await createVia(await store.createRoot(), { policies: ['a'], ttl: '1h' });
    advance(1000);
    const res = await call(child, 'update', 'renew-self');
    assert.equal(res.auth!.lease_duration, 3600);
    advance(3000);
    const capped = await call(child, 'update', 'renew-self');
    assert.equal(capped.auth!.lease_duration, 1000);
  });

  it('periodic tokens renew to their period whatever the increment', async () => {
    const { store, call, createVia, advance } = setup({ maxTtl: 60 });
    const periodic = await createVia(await store.createRoot(), { policies: ['a'], period: '30m' });
    assert.equal(periodic.entry.ttl, 1800);
    advance(1000);
    const res = await call(periodic, 'update', 'renew-self', { increment: '10h' });
    assert.equal(res.auth!.lease_duration, 1800);
    const data = (await call(periodic, 'read', 'lookup-self')).data!;
    assert.equal(data.period, 1800);
  });

  it('non-renewable and non-expiring tokens refuse renewal with a 400', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const fixed = await createVia(root, { policies: ['a'], ttl: '1h', renewable: false });
    await rejectsWith(call(root, 'update', 'renew', { token: fixed.token }), 400, /not renewable/);
    await rejectsWith(call(root, 'update', 'renew-self'), 400, /not renewable/);
  });

  it('renew-accessor renews without revealing the token', async () => {
    const { store, call, createVia } = setup();
    const root = await store.createRoot();
    const child = await createVia(root, { policies: ['a'], ttl: '1h' });
    const res = await call(root, 'update', 'renew-accessor', { accessor: child.entry.accessor, increment: 60 });
    assert.equal(res.auth!.client_token, '');
    assert.equal(res.auth!.lease_duration, 60);
  });
});

describe('durationSeconds', () => {
  it('accepts seconds and Vault duration strings', () => {
    const cases: Array<[unknown, number]> = [
      [undefined, 0], ['', 0], [90, 90], ['90', 90], ['10s', 10], ['30m', 1800], ['1h', 3600],
      ['1h30m', 5400], ['1.5h', 5400], ['7d', 604800], ['1500ms', 1],
    ];
    for (const [input, seconds] of cases) assert.equal(durationSeconds(input, 'ttl'), seconds, String(input));
  });

  it('rejects negative and unknown-unit values with a 400', () => {
    for (const input of [-1, '-1h', '1x', 'h', '1 h', {}, true]) {
      assert.throws(() => durationSeconds(input, 'increment'), (err: unknown) =>
        err instanceof TresorError && err.status === 400 && /increment/.test(err.message), String(input));
    }
  });
});
