import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogicalStorage } from '../engines/testing-storage.ts';
import type { LogicalBackend } from '../engines/types.ts';
import { TresorError } from './errors.ts';
import { defineBackend } from '../framework/index.ts';
import { MOUNT_TABLE_PATH, MountTable, type MountEntry } from './mounts.ts';

const base = {
  description: '',
  config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
  options: null,
  local: false,
  seal_wrap: false,
  external_entropy_access: false,
  table: 'secret' as const,
};

const answering = (type: string, data: Record<string, unknown>): LogicalBackend =>
  defineBackend(type, [{ pattern: '.*', synopsis: 'test', operations: { read: async () => ({ data }) } }]);
const tokenBackend = answering('token', { secret: 'token store' });
const resolve = (entry: MountEntry): LogicalBackend => (entry.type === 'token' ? tokenBackend : answering(entry.type, {}));

async function rejectsWith(p: Promise<unknown>, status: number, message: RegExp | string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TresorError, String(err));
    assert.equal(err.status, status);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('MountTable: which engine types may be mounted', () => {
  it('refuses the singleton types with Vault\'s 403 and unknown types with its catalog 400; stores nothing', async () => {
    const storage = new MemoryLogicalStorage();
    const table = new MountTable(storage, resolve, undefined);
    for (const type of ['token', 'system', 'identity', 'cubbyhole']) {
      await rejectsWith(table.mount({ ...base, path: `team/${type}`, type }), 403, `mount type of "${type}" is not mountable`);
    }
    await rejectsWith(table.mount({ ...base, path: 'team/x', type: 'ssh' }), 400, 'plugin not found in the catalog: ssh');
    // A huge type (found by test/bad-input.test.ts) is quoted only in part, not handed back whole.
    const huge = `x${'0123456789'.repeat(100_000)}`;
    await rejectsWith(table.mount({ ...base, path: 'team/h', type: huge }), 400, `plugin not found in the catalog: ${huge.slice(0, 64)}...`);
    await rejectsWith(table.mount({ ...base, path: 'team/t', type: 'transit', options: { version: '2' } }), 400, 'secrets engine "transit" does not allow setting a version');
    assert.equal(await storage.get(MOUNT_TABLE_PATH), undefined);
    assert.deepEqual(table.list('secret'), []);
  });

  it('mounts kv, generic and transit', async () => {
    const table = new MountTable(new MemoryLogicalStorage(), resolve, undefined);
    for (const type of ['kv', 'generic', 'transit']) await table.mount({ ...base, path: `m-${type}`, type });
    assert.deepEqual(table.list('secret').map((e) => e.type), ['generic', 'kv', 'transit']);
  });

  it('the core mounts a singleton only at its own path', async () => {
    const table = new MountTable(new MemoryLogicalStorage(), resolve, undefined);
    await rejectsWith(table.mount({ ...base, path: 'team/token', type: 'token', table: 'auth' }, { system: true }), 403, /not mountable/);
    await table.mount({ ...base, path: 'auth/token/', type: 'token', table: 'auth' }, { system: true });
  });

  it('a token-store mount stored under another path (from before the check) loads disabled, is logged, and can be removed', async () => {
    const storage = new MemoryLogicalStorage();
    const stored: MountEntry[] = [
      { ...base, path: 'auth/token/', type: 'token', table: 'auth', accessor: 'auth_token_1', uuid: 'u1' },
      { ...base, path: 'team/token/', type: 'token', accessor: 'token_2', uuid: 'u2' },
    ];
    await storage.put(MOUNT_TABLE_PATH, Buffer.from(JSON.stringify(stored)));
    const warnings: string[] = [];
    const table = new MountTable(storage, resolve, undefined, (m) => warnings.push(m));
    assert.equal(await table.load(), true);
    const real = table.route('auth/token/lookup-accessor')!;
    assert.equal(real.backend, tokenBackend);
    const copy = table.route('team/token/lookup-accessor')!;
    assert.equal(copy.entry.path, 'team/token/');
    assert.notEqual(copy.backend, tokenBackend);
    await rejectsWith(
      copy.backend.handle({ operation: 'update', path: 'lookup-accessor', data: {}, storage: copy.storage } as never),
      403,
      'mount type of "token" is not mountable',
    );
    assert.match(warnings.join('\n'), /token mount at team\/token\/ is not allowed there and is disabled/);
    await rejectsWith(table.remount('team/token', 'elsewhere'), 400, 'cannot remount "team/token/"');
    await table.unmount('team/token');
    assert.equal(table.route('team/token/lookup-accessor'), undefined);
  });
});

describe('MountTable: routing', () => {
  it('finds the mount a path falls under at a segment boundary, among many, with multi-segment mount paths', async () => {
    const table = new MountTable(new MemoryLogicalStorage(), resolve, undefined);
    for (const path of ['secret/', 'team/a/', 'deep/x/y/', 'teams/', ...Array.from({ length: 300 }, (_, i) => `m${i}/`)]) {
      await table.mount({ ...base, path, type: 'kv' });
    }
    const at = (p: string) => {
      const m = table.route(p);
      return m && [m.entry.path, m.relPath];
    };
    assert.deepEqual(at('secret/data/x'), ['secret/', 'data/x']);
    assert.deepEqual(at('secret'), ['secret/', '']);
    assert.deepEqual(at('secret/'), ['secret/', '']);
    assert.deepEqual(at('team/a/b/c/d'), ['team/a/', 'b/c/d']);
    assert.deepEqual(at('deep/x/y/z'), ['deep/x/y/', 'z']);
    assert.equal(at('deep/x/z'), undefined);
    assert.deepEqual(at('teams/x'), ['teams/', 'x']);
    assert.equal(at('team/x'), undefined);
    assert.equal(at('secretx/y'), undefined);
    assert.deepEqual(at('m299/k'), ['m299/', 'k']);
    assert.equal(at(''), undefined);
    assert.equal(at('/'), undefined);
    await table.unmount('team/a/');
    assert.equal(at('team/a/b/c'), undefined);
  });
});
