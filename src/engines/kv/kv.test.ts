import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from '../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../testing-storage.ts';
import type { LogicalResponse, Operation } from '../types.ts';
import { createKvBackend } from './index.ts';
import { optionalDurationMs } from '../../core/request-fields.ts';
import { formatGoDuration, formatTimestamp } from './params.ts';

function mount(version: '1' | '2') {
  const storage = new MemoryLogicalStorage();
  const backend = createKvBackend({ version });
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}) =>
    backend.handle(testRequest(storage, operation, path, data));
  return { storage, backend, call };
}

/** Asserts a TresorError with `status` whose message matches `message`. */
async function assertFails(promise: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TresorError, `expected a TresorError, got ${String(error)}`);
    assert.equal(error.status, status);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** Runs a request that must fail with 400 and proves it changed nothing. */
async function assertRejectedUnchanged(
  kv: ReturnType<typeof mount>,
  operation: Operation,
  path: string,
  data: Record<string, unknown>,
  message?: RegExp,
): Promise<void> {
  const before = kv.storage.snapshot();
  await assertFails(kv.call(operation, path, data), 400, message);
  assert.deepEqual(kv.storage.snapshot(), before);
}

const payload = (response: LogicalResponse | null) => {
  assert.ok(response?.data, 'expected a response with data');
  return response.data as Record<string, any>;
};

describe('kv version 1', () => {
  it('writes with 204, reads back the object, overwrites and deletes', async () => {
    const kv = mount('1');
    assert.deepEqual(await kv.call('create', 'app/db', { user: 'alice', port: 5432, nested: { a: [1, 2] } }), { status: 204 });
    assert.deepEqual(payload(await kv.call('read', 'app/db')), { user: 'alice', port: 5432, nested: { a: [1, 2] } });
    await kv.call('update', 'app/db', { user: 'bob' });
    assert.deepEqual(payload(await kv.call('read', 'app/db')), { user: 'bob' });
    assert.deepEqual(await kv.call('delete', 'app/db'), { status: 204 });
    await assertFails(kv.call('read', 'app/db'), 404);
  });

  it('reading a secret that was never written is a 404', async () => {
    await assertFails(mount('1').call('read', 'missing'), 404);
  });

  it('lists one level with folders ending in "/", and 404 when empty', async () => {
    const kv = mount('1');
    await kv.call('create', 'foo', { v: 1 });
    await kv.call('create', 'foo/bar', { v: 2 });
    await kv.call('create', 'foo/baz/qux', { v: 3 });
    assert.deepEqual(payload(await kv.call('list', '')), { keys: ['foo', 'foo/'] });
    assert.deepEqual(payload(await kv.call('list', 'foo')), { keys: ['bar', 'baz/'] });
    assert.deepEqual(payload(await kv.call('list', 'foo/')), { keys: ['bar', 'baz/'] });
    await assertFails(kv.call('list', 'nothing/'), 404);
  });

  it('reports a stored ttl as the lease duration in seconds', async () => {
    const kv = mount('1');
    await kv.call('create', 'rotating', { password: 'x', ttl: '1h' });
    const response = await kv.call('read', 'rotating');
    assert.equal(response?.leaseDuration, 3600);
    assert.equal(payload(response).ttl, '1h');
  });

  it('rejects empty data, an unparseable ttl and malformed paths without storing anything', async () => {
    const kv = mount('1');
    await kv.call('create', 'keep', { v: 1 });
    await assertRejectedUnchanged(kv, 'create', 'empty', {}, /missing data fields/);
    await assertRejectedUnchanged(kv, 'create', 'keep', { ttl: 'soon' }, /ttl/);
    await assertRejectedUnchanged(kv, 'create', 'folder/', { v: 1 }, /invalid secret path/);
    await assertRejectedUnchanged(kv, 'create', 'a//b', { v: 1 }, /invalid secret path/);
    await assertRejectedUnchanged(kv, 'create', '', { v: 1 }, /invalid secret path/);
  });

  it('answers patch with 405 because version 1 has no patch', async () => {
    await assertFails(mount('1').call('patch', 'x', { a: 1 }), 405);
  });

  it('refuses an unknown version option', () => {
    assert.throws(() => createKvBackend({ version: '3' }), (error: unknown) => error instanceof TresorError && error.status === 400);
    assert.equal(createKvBackend({}).type, 'kv');
  });
});

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

describe('kv version 2: data', () => {
  it('write returns the new version metadata and read returns data with metadata', async () => {
    const kv = mount('2');
    const written = payload(await kv.call('create', 'data/app', { data: { password: 'p1' } }));
    assert.deepEqual(Object.keys(written).sort(), ['created_time', 'custom_metadata', 'deletion_time', 'destroyed', 'version']);
    assert.equal(written.version, 1);
    assert.equal(written.deletion_time, '');
    assert.equal(written.destroyed, false);
    assert.equal(written.custom_metadata, null);
    assert.match(written.created_time, RFC3339_NANO);

    const read = payload(await kv.call('read', 'data/app'));
    assert.deepEqual(read, { data: { password: 'p1' }, metadata: written });
  });

  it('keeps every version readable by number, and the current one by default', async () => {
    const kv = mount('2');
    for (const password of ['p1', 'p2', 'p3']) await kv.call('update', 'data/app', { data: { password } });
    assert.equal(payload(await kv.call('read', 'data/app')).data.password, 'p3');
    assert.equal(payload(await kv.call('read', 'data/app', { version: 1 })).data.password, 'p1');
    // Query parameters arrive as strings.
    assert.equal(payload(await kv.call('read', 'data/app', { version: '2' })).metadata.version, 2);
    assert.equal(payload(await kv.call('read', 'data/app', { version: '0' })).metadata.version, 3);
    await assertFails(kv.call('read', 'data/app', { version: 4 }), 404);
  });

  it('reads of a missing secret are a bare 404', async () => {
    await assertFails(mount('2').call('read', 'data/none'), 404, /^$/);
  });

  it('rejects bad version numbers on read with 400', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/app', { data: { a: 1 } });
    for (const version of ['abc', -1, 1.5, '1e3']) {
      await assertFails(kv.call('read', 'data/app', { version }), 400, /version/);
    }
  });

  it('check-and-set writes only when cas equals the current version (0 = must not exist)', async () => {
    const kv = mount('2');
    assert.equal(payload(await kv.call('create', 'data/c', { data: { a: 1 }, options: { cas: 0 } })).version, 1);
    await assertRejectedUnchanged(kv, 'update', 'data/c', { data: { a: 2 }, options: { cas: 0 } },
      /check-and-set parameter did not match the current version/);
    await assertRejectedUnchanged(kv, 'update', 'data/c', { data: { a: 2 }, options: { cas: 5 } },
      /did not match/);
    assert.equal(payload(await kv.call('update', 'data/c', { data: { a: 2 }, options: { cas: 1 } })).version, 2);
  });

  it('cas_required on the secret or the mount makes cas mandatory', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/s', { data: { a: 1 } });
    await kv.call('update', 'metadata/s', { cas_required: true });
    await assertRejectedUnchanged(kv, 'update', 'data/s', { data: { a: 2 } }, /check-and-set parameter required/);
    assert.equal(payload(await kv.call('update', 'data/s', { data: { a: 2 }, options: { cas: 1 } })).version, 2);

    await kv.call('update', 'config', { cas_required: 'true' });
    await assertRejectedUnchanged(kv, 'create', 'data/other', { data: { a: 1 } }, /check-and-set parameter required/);
    assert.equal(payload(await kv.call('create', 'data/other', { data: { a: 1 }, options: { cas: 0 } })).version, 1);
  });

  it('rejects non-object data and malformed options, leaving storage untouched', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/app', { data: { a: 1 } });
    await assertRejectedUnchanged(kv, 'update', 'data/app', {}, /no data provided/);
    await assertRejectedUnchanged(kv, 'update', 'data/app', { data: 'text' }, /^data must be an object$/);
    await assertRejectedUnchanged(kv, 'update', 'data/app', { data: [1, 2] }, /^data must be an object$/);
    await assertRejectedUnchanged(kv, 'update', 'data/app', { data: { a: 2 }, options: 'cas=1' }, /options/);
    await assertRejectedUnchanged(kv, 'update', 'data/app', { data: { a: 2 }, options: { cas: -1 } }, /cas/);
    await assertRejectedUnchanged(kv, 'update', 'data/', { data: { a: 2 } }, /invalid secret path/);
  });

  it('trims the oldest versions beyond max_versions (default 10) and records oldest_version', async () => {
    const kv = mount('2');
    for (let i = 1; i <= 12; i++) await kv.call('update', 'data/many', { data: { i } });
    let metadata = payload(await kv.call('read', 'metadata/many'));
    assert.deepEqual(Object.keys(metadata.versions).map(Number).sort((a, b) => a - b), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(metadata.oldest_version, 3);
    await assertFails(kv.call('read', 'data/many', { version: 2 }), 404);
    assert.ok(!kv.storage.keys().includes('versions/many/2'), 'trimmed version data is erased');

    await kv.call('update', 'metadata/many', { max_versions: 2 });
    await kv.call('update', 'data/many', { data: { i: 13 } });
    metadata = payload(await kv.call('read', 'metadata/many'));
    assert.deepEqual(Object.keys(metadata.versions), ['12', '13']);
    assert.equal(metadata.oldest_version, 12);
    assert.deepEqual(kv.storage.keys().filter((key) => key.startsWith('versions/')), ['versions/many/12', 'versions/many/13']);
  });

  it('the mount max_versions applies when the secret sets none', async () => {
    const kv = mount('2');
    await kv.call('update', 'config', { max_versions: '3' });
    for (let i = 1; i <= 5; i++) await kv.call('update', 'data/m', { data: { i } });
    assert.deepEqual(Object.keys(payload(await kv.call('read', 'metadata/m')).versions), ['3', '4', '5']);
  });
});

describe('kv version 2: delete, undelete, destroy', () => {
  async function threeVersions() {
    const kv = mount('2');
    for (const n of [1, 2, 3]) await kv.call('update', 'data/d', { data: { n } });
    return kv;
  }

  it('delete on data/ soft-deletes the latest version; reading it is 404 with its metadata', async () => {
    const kv = await threeVersions();
    assert.deepEqual(await kv.call('delete', 'data/d'), { status: 204 });
    const response = await kv.call('read', 'data/d');
    assert.equal(response?.status, 404);
    const body = payload(response);
    assert.equal(body.data, null);
    assert.equal(body.metadata.version, 3);
    assert.match(body.metadata.deletion_time, RFC3339_NANO);
    assert.equal(body.metadata.destroyed, false);
    assert.equal(payload(await kv.call('read', 'data/d', { version: 2 })).data.n, 2);
  });

  it('delete/ and undelete/ toggle listed versions, keeping their data', async () => {
    const kv = await threeVersions();
    assert.deepEqual(await kv.call('update', 'delete/d', { versions: [1, 2] }), { status: 204 });
    assert.equal((await kv.call('read', 'data/d', { version: 1 }))?.status, 404);
    assert.equal((await kv.call('read', 'data/d', { version: 2 }))?.status, 404);
    assert.ok(kv.storage.keys().includes('versions/d/1'), 'soft delete keeps the data');

    await kv.call('update', 'undelete/d', { versions: '1' });
    const restored = payload(await kv.call('read', 'data/d', { version: 1 }));
    assert.deepEqual(restored.data, { n: 1 });
    assert.equal(restored.metadata.deletion_time, '');
    assert.equal((await kv.call('read', 'data/d', { version: 2 }))?.status, 404);
  });

  it('destroy/ erases the data for good; undelete cannot bring it back', async () => {
    const kv = await threeVersions();
    await kv.call('update', 'destroy/d', { versions: ['2'] });
    assert.ok(!kv.storage.keys().includes('versions/d/2'));
    await kv.call('update', 'undelete/d', { versions: [2] });
    const response = await kv.call('read', 'data/d', { version: 2 });
    assert.equal(response?.status, 404);
    assert.equal(payload(response).metadata.destroyed, true);
    assert.equal(payload(await kv.call('read', 'metadata/d')).versions['2'].destroyed, true);
  });

  it('rejects missing or invalid version lists without changing anything', async () => {
    const kv = await threeVersions();
    for (const action of ['delete', 'undelete', 'destroy']) {
      await assertRejectedUnchanged(kv, 'update', `${action}/d`, {}, /no version number provided/);
      await assertRejectedUnchanged(kv, 'update', `${action}/d`, { versions: [] }, /no version number provided/);
      await assertRejectedUnchanged(kv, 'update', `${action}/d`, { versions: [1, 'two'] }, /versions/);
      await assertRejectedUnchanged(kv, 'update', `${action}/d`, { versions: [0] }, /versions/);
    }
  });

  it('ignores versions the secret does not have', async () => {
    const kv = await threeVersions();
    const before = kv.storage.snapshot();
    assert.deepEqual(await kv.call('update', 'destroy/d', { versions: [9] }), { status: 204 });
    assert.deepEqual(await kv.call('update', 'delete/none', { versions: [1] }), { status: 204 });
    assert.deepEqual(kv.storage.snapshot(), before);
  });

  it('delete_version_after schedules each new version for deletion', async () => {
    const kv = mount('2');
    await kv.call('update', 'metadata/short', { delete_version_after: '1h' });
    const written = payload(await kv.call('update', 'data/short', { data: { a: 1 } }));
    const lifetime = Date.parse(written.deletion_time) - Date.parse(written.created_time);
    assert.equal(lifetime, 3_600_000);
    assert.deepEqual(payload(await kv.call('read', 'data/short')).data, { a: 1 }, 'still readable before the deadline');
  });

  it('a version past its delete_version_after deadline reads as deleted', async (t) => {
    // Vault counts delete_version_after in whole seconds: move the clock rather than wait.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const kv = mount('2');
    await kv.call('update', 'config', { delete_version_after: '1s' });
    await kv.call('update', 'data/brief', { data: { a: 1 } });
    assert.deepEqual(payload(await kv.call('read', 'data/brief')).data, { a: 1 });
    t.mock.timers.tick(1001);
    const response = await kv.call('read', 'data/brief');
    assert.equal(response?.status, 404);
    assert.equal(payload(response).data, null);
  });
});

describe('kv version 2: patch', () => {
  it('merges like RFC 7396: objects merge, null removes, other values replace', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/p', { data: { keep: 1, drop: 2, replace: [1], nested: { a: 1, b: 2 } } });
    const written = payload(await kv.call('patch', 'data/p', {
      data: { drop: null, replace: 'x', nested: { b: null, c: 3 }, added: true },
    }));
    assert.equal(written.version, 2);
    assert.deepEqual(payload(await kv.call('read', 'data/p')).data,
      { keep: 1, replace: 'x', nested: { a: 1, c: 3 }, added: true });
    assert.deepEqual(payload(await kv.call('read', 'data/p', { version: 1 })).data.drop, 2, 'old version intact');
  });

  it('needs an existing, readable current version', async () => {
    const kv = mount('2');
    await assertFails(kv.call('patch', 'data/none', { data: { a: 1 } }), 404);
    await kv.call('create', 'data/gone', { data: { a: 1 } });
    await kv.call('delete', 'data/gone');
    const before = kv.storage.snapshot();
    await assertFails(kv.call('patch', 'data/gone', { data: { a: 2 } }), 404);
    assert.deepEqual(kv.storage.snapshot(), before);
  });

  it('honours cas', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/p', { data: { a: 1 } });
    await assertRejectedUnchanged(kv, 'patch', 'data/p', { data: { a: 2 }, options: { cas: 0 } }, /did not match/);
    assert.equal(payload(await kv.call('patch', 'data/p', { data: { a: 2 }, options: { cas: 1 } })).version, 2);
  });

  it('keeps a "__proto__" key as plain data', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/p', { data: { a: 1 } });
    await kv.call('patch', 'data/p', JSON.parse('{"data": {"__proto__": {"polluted": true}}}'));
    const data = payload(await kv.call('read', 'data/p')).data;
    assert.deepEqual(JSON.parse(JSON.stringify(data)), JSON.parse('{"a": 1, "__proto__": {"polluted": true}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('kv version 2: metadata and config', () => {
  it('reads the full metadata shape', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/m', { data: { a: 1 } });
    await kv.call('update', 'data/m', { data: { a: 2 } });
    const metadata = payload(await kv.call('read', 'metadata/m'));
    assert.deepEqual(Object.keys(metadata).sort(), [
      'cas_required', 'created_time', 'current_version', 'custom_metadata', 'delete_version_after',
      'max_versions', 'oldest_version', 'updated_time', 'versions',
    ]);
    assert.equal(metadata.current_version, 2);
    assert.equal(metadata.oldest_version, 0);
    assert.equal(metadata.max_versions, 0);
    assert.equal(metadata.cas_required, false);
    assert.equal(metadata.delete_version_after, '0s');
    assert.equal(metadata.custom_metadata, null);
    assert.deepEqual(Object.keys(metadata.versions), ['1', '2']);
    assert.deepEqual(Object.keys(metadata.versions['1']).sort(), ['created_time', 'deletion_time', 'destroyed']);
    assert.match(metadata.updated_time, RFC3339_NANO);
  });

  it('writes settings and custom_metadata, creating metadata for a secret with no versions', async () => {
    const kv = mount('2');
    assert.deepEqual(await kv.call('create', 'metadata/new', {
      max_versions: 5, cas_required: true, delete_version_after: '1h30m', custom_metadata: { owner: 'ops' },
    }), { status: 204 });
    const metadata = payload(await kv.call('read', 'metadata/new'));
    assert.equal(metadata.max_versions, 5);
    assert.equal(metadata.cas_required, true);
    assert.equal(metadata.delete_version_after, '1h30m0s');
    assert.deepEqual(metadata.custom_metadata, { owner: 'ops' });
    assert.equal(metadata.current_version, 0);
    assert.deepEqual(metadata.versions, {});
    await assertFails(kv.call('read', 'data/new'), 404);

    const written = payload(await kv.call('create', 'data/new', { data: { a: 1 }, options: { cas: 0 } }));
    assert.deepEqual(written.custom_metadata, { owner: 'ops' });
  });

  it('write replaces custom_metadata while patch merges it', async () => {
    const kv = mount('2');
    await kv.call('update', 'metadata/x', { custom_metadata: { a: '1', b: '2' } });
    await kv.call('patch', 'metadata/x', { custom_metadata: { b: null, c: '3' }, max_versions: 4 });
    let metadata = payload(await kv.call('read', 'metadata/x'));
    assert.deepEqual(metadata.custom_metadata, { a: '1', c: '3' });
    assert.equal(metadata.max_versions, 4);
    await kv.call('update', 'metadata/x', { custom_metadata: { z: '9' } });
    metadata = payload(await kv.call('read', 'metadata/x'));
    assert.deepEqual(metadata.custom_metadata, { z: '9' });
    assert.equal(metadata.max_versions, 4, 'fields left out keep their value');
    await assertFails(kv.call('patch', 'metadata/absent', { max_versions: 1 }), 404);
  });

  it('rejects negative max_versions, bad durations and non-string custom_metadata, storing nothing', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/v', { data: { a: 1 } });
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { max_versions: -1 }, /max_versions/);
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { max_versions: 'many' }, /max_versions/);
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { cas_required: 'maybe' }, /cas_required/);
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { delete_version_after: '-5s' }, /delete_version_after/);
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { custom_metadata: { n: 1 } }, /strings/);
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { custom_metadata: 'a=b' }, /custom_metadata/);
    await assertRejectedUnchanged(kv, 'update', 'metadata/v', { max_versions: 3, custom_metadata: { n: 1 } }, /strings/);
    await assertRejectedUnchanged(kv, 'update', 'config', { max_versions: -2 }, /max_versions/);
  });

  it('delete removes the metadata and every version', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/gone', { data: { a: 1 } });
    await kv.call('update', 'data/gone', { data: { a: 2 } });
    await kv.call('create', 'data/stays', { data: { b: 1 } });
    assert.deepEqual(await kv.call('delete', 'metadata/gone'), { status: 204 });
    await assertFails(kv.call('read', 'metadata/gone'), 404);
    await assertFails(kv.call('read', 'data/gone', { version: 1 }), 404);
    assert.deepEqual(kv.storage.keys(), ['meta/stays', 'versions/stays/1']);
    // A fresh write starts over at version 1.
    assert.equal(payload(await kv.call('create', 'data/gone', { data: { a: 3 }, options: { cas: 0 } })).version, 1);
  });

  it('lists secrets through metadata/, one level at a time', async () => {
    const kv = mount('2');
    for (const path of ['app', 'app/db', 'app/web/tls', 'other']) await kv.call('create', `data/${path}`, { data: { a: 1 } });
    assert.deepEqual(payload(await kv.call('list', 'metadata/')), { keys: ['app', 'app/', 'other'] });
    assert.deepEqual(payload(await kv.call('list', 'metadata')), { keys: ['app', 'app/', 'other'] });
    assert.deepEqual(payload(await kv.call('list', 'metadata/app/')), { keys: ['db', 'web/'] });
    await assertFails(kv.call('list', 'metadata/nothing/'), 404);
  });

  it('config reads defaults and stores new values', async () => {
    const kv = mount('2');
    assert.deepEqual(payload(await kv.call('read', 'config')), { cas_required: false, delete_version_after: '0s', max_versions: 0 });
    assert.deepEqual(await kv.call('update', 'config', { max_versions: 7, delete_version_after: 90 }), { status: 204 });
    assert.deepEqual(payload(await kv.call('read', 'config')), { cas_required: false, delete_version_after: '1m30s', max_versions: 7 });
  });

  it('subkeys shows the shape of the data without values, down to depth', async () => {
    const kv = mount('2');
    await kv.call('create', 'data/s', { data: { a: 'secret', b: { c: 1, d: { e: 2 } } } });
    const full = payload(await kv.call('read', 'subkeys/s'));
    assert.deepEqual(full.subkeys, { a: null, b: { c: null, d: { e: null } } });
    assert.equal(full.metadata.version, 1);
    assert.deepEqual(payload(await kv.call('read', 'subkeys/s', { depth: '1' })).subkeys, { a: null, b: null });
    await kv.call('delete', 'data/s');
    const deleted = await kv.call('read', 'subkeys/s');
    assert.equal(deleted?.status, 404);
    assert.equal(payload(deleted).subkeys, null);
  });
});

describe('kv version 2: routing', () => {
  it('returns null for paths it does not handle and 405 for unsupported operations', async () => {
    const kv = mount('2');
    assert.equal(await kv.call('read', 'unknown/path'), null);
    assert.equal(await kv.call('read', 'datafoo'), null);
    await assertFails(kv.call('list', 'data/'), 405);
    await assertFails(kv.call('delete', 'config'), 405);
    await assertFails(kv.call('read', 'destroy/x'), 405);
  });

  it('concurrent writes get distinct versions', async () => {
    const kv = mount('2');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => kv.call('update', 'data/race', { data: { i }, options: { cas: i } })),
    );
    // Only the queue order decides: every cas matches because writes run one at a time.
    assert.deepEqual(results.map((response) => payload(response).version), [1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('kv formats', () => {
  it('timestamps are RFC 3339 with nine fractional digits', () => {
    assert.equal(formatTimestamp(Date.UTC(2018, 2, 22, 2, 24, 6, 945)), '2018-03-22T02:24:06.945000000Z');
  });

  it('durations parse Go syntax and seconds, and print like Go', () => {
    assert.equal(optionalDurationMs('1h30m', 'd'), 5_400_000);
    assert.equal(optionalDurationMs('1.5s', 'd'), 1500);
    assert.equal(optionalDurationMs('45', 'd'), 45_000);
    assert.equal(optionalDurationMs(2, 'd'), 2000);
    assert.equal(optionalDurationMs('2d', 'd'), 172_800_000);
    assert.throws(() => optionalDurationMs('1h30', 'd'));
    assert.throws(() => optionalDurationMs('h', 'd'));
    assert.equal(formatGoDuration(0), '0s');
    assert.equal(formatGoDuration(500), '500ms');
    assert.equal(formatGoDuration(1500), '1.5s');
    assert.equal(formatGoDuration(90_000), '1m30s');
    assert.equal(formatGoDuration(3_600_000), '1h0m0s');
  });
});
