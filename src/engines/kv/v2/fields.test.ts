/**
 * KV v2 as declared paths: the field schemas decode every request once
 * (null = absent, weak decoding of strings, typed 400s that change nothing),
 * unknown fields earn Vault's warning, and operations a path does not
 * declare are 405.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TresorError } from '../../../core/errors.ts';
import { MemoryLogicalStorage, testRequest } from '../../testing-storage.ts';
import type { LogicalResponse, Operation } from '../../types.ts';
import { createKvBackend } from '../index.ts';

function mount() {
  const storage = new MemoryLogicalStorage();
  const backend = createKvBackend({ version: '2' });
  const call = (operation: Operation, path: string, data: Record<string, unknown> = {}) =>
    backend.handle(testRequest(storage, operation, path, data));
  return { storage, backend, call };
}

const data = (response: LogicalResponse | null) => {
  assert.ok(response?.data, 'expected a response with data');
  return response.data as Record<string, any>;
};

const SECRET_VALUE = 'hunter2-do-not-echo';

/** A 400 whose message is exactly `message` (so it names the field and never the value), with storage unchanged. */
async function refused(kv: ReturnType<typeof mount>, operation: Operation, path: string, body: Record<string, unknown>, message: string | RegExp) {
  const before = kv.storage.snapshot();
  await assert.rejects(kv.call(operation, path, body), (error: unknown) => {
    assert.ok(error instanceof TresorError, String(error));
    assert.equal(error.status, 400);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.ok(!error.message.includes(SECRET_VALUE), 'the value is not echoed');
    return true;
  });
  assert.deepEqual(kv.storage.snapshot(), before, 'nothing stored changed');
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    assert.ok(error instanceof TresorError, String(error));
    return error.status;
  }
}

describe('kv v2 declared fields: null is absent', () => {
  it('null options, version and depth are as if left out', async () => {
    const kv = mount();
    assert.equal(data(await kv.call('update', 'data/n', { data: { a: 1 }, options: null })).version, 1);
    assert.equal(data(await kv.call('read', 'data/n', { version: null })).metadata.version, 1);
    assert.deepEqual(data(await kv.call('read', 'subkeys/n', { depth: null, version: null })).subkeys, { a: null });
  });

  it('null settings keep their stored value on metadata and config writes', async () => {
    const kv = mount();
    await kv.call('update', 'metadata/n', { max_versions: 4, cas_required: true, delete_version_after: '1h', custom_metadata: { o: 'x' } });
    await kv.call('update', 'metadata/n', { max_versions: null, cas_required: null, delete_version_after: null, custom_metadata: null });
    const metadata = data(await kv.call('read', 'metadata/n'));
    assert.equal(metadata.max_versions, 4);
    assert.equal(metadata.cas_required, true);
    assert.equal(metadata.delete_version_after, '1h0m0s');
    assert.deepEqual(metadata.custom_metadata, { o: 'x' });

    await kv.call('update', 'config', { max_versions: 6 });
    await kv.call('update', 'config', { max_versions: null, cas_required: null, delete_version_after: null });
    assert.deepEqual(data(await kv.call('read', 'config')), { cas_required: false, delete_version_after: '0s', max_versions: 6 });
  });

  it('null data on a write and null versions are "not given": Vault\'s 400s', async () => {
    const kv = mount();
    await kv.call('update', 'data/n', { data: { a: 1 } });
    await refused(kv, 'update', 'data/n', { data: null }, 'no data provided');
    await refused(kv, 'patch', 'data/n', { data: null }, 'no data provided');
    await refused(kv, 'update', 'destroy/n', { versions: null }, 'no version number provided');
  });
});

describe('kv v2 declared fields: weak decoding', () => {
  it('takes "3" and "true" strings for ints and bools', async () => {
    const kv = mount();
    await kv.call('update', 'config', { max_versions: '3', cas_required: 'true', delete_version_after: '90' });
    assert.deepEqual(data(await kv.call('read', 'config')), { cas_required: true, delete_version_after: '1m30s', max_versions: 3 });
    await kv.call('update', 'metadata/w', { max_versions: '2', cas_required: 'false', delete_version_after: '2h' });
    const metadata = data(await kv.call('read', 'metadata/w'));
    assert.equal(metadata.max_versions, 2);
    assert.equal(metadata.cas_required, false);
    assert.equal(metadata.delete_version_after, '2h0m0s');

    assert.equal(data(await kv.call('update', 'data/w', { data: { a: 1 }, options: { cas: '0' } })).version, 1);
    assert.equal(data(await kv.call('update', 'data/w', { data: { a: 2 }, options: { cas: '1' } })).version, 2);
    assert.equal(data(await kv.call('read', 'data/w', { version: '1' })).data.a, 1);
    assert.deepEqual(data(await kv.call('read', 'subkeys/w', { depth: '1', version: '2' })).subkeys, { a: null });
  });

  it('takes versions as "1,2", as a list of digit strings, or as one number', async () => {
    const kv = mount();
    for (const n of [1, 2, 3]) await kv.call('update', 'data/v', { data: { n } });
    await kv.call('update', 'delete/v', { versions: '1,2' });
    await kv.call('update', 'undelete/v', { versions: ['1'] });
    await kv.call('update', 'destroy/v', { versions: 3 });
    const versions = data(await kv.call('read', 'metadata/v')).versions;
    assert.equal(versions['1'].deletion_time, '');
    assert.notEqual(versions['2'].deletion_time, '');
    assert.equal(versions['3'].destroyed, true);
  });

  it('takes custom_metadata and options as JSON text (how query strings and the CLI send maps)', async () => {
    const kv = mount();
    await kv.call('update', 'metadata/j', { custom_metadata: '{"team":"ops"}' });
    assert.deepEqual(data(await kv.call('read', 'metadata/j')).custom_metadata, { team: 'ops' });
    assert.equal(data(await kv.call('update', 'data/j', { data: '{"a":"b"}', options: '{"cas":0}' })).version, 1);
    assert.deepEqual(data(await kv.call('read', 'data/j')).data, { a: 'b' });
  });
});

describe('kv v2 declared fields: wrong types', () => {
  it('are a 400 naming the field, never its value, and store nothing', async () => {
    const kv = mount();
    await kv.call('update', 'data/t', { data: { a: 1 } });
    await kv.call('update', 'metadata/t', { max_versions: 5 });
    await refused(kv, 'update', 'config', { max_versions: SECRET_VALUE }, 'max_versions must be an integer');
    await refused(kv, 'update', 'config', { cas_required: SECRET_VALUE }, 'cas_required must be a boolean');
    await refused(kv, 'update', 'config', { delete_version_after: SECRET_VALUE }, /^delete_version_after must be /);
    await refused(kv, 'update', 'metadata/t', { max_versions: 1.5 }, 'max_versions must be an integer');
    await refused(kv, 'update', 'metadata/t', { cas_required: [true] }, 'cas_required must be a boolean');
    await refused(kv, 'update', 'metadata/t', { delete_version_after: { s: 1 } }, /^delete_version_after must be /);
    await refused(kv, 'update', 'metadata/t', { custom_metadata: SECRET_VALUE }, 'custom_metadata must be an object');
    // A bad field refuses the whole write, even alongside good ones.
    await refused(kv, 'update', 'metadata/t', { max_versions: 2, custom_metadata: [1] }, 'custom_metadata must be an object');
    await refused(kv, 'update', 'data/t', { data: SECRET_VALUE }, 'data must be an object');
    await refused(kv, 'update', 'data/t', { data: { a: 2 }, options: 5 }, 'options must be an object');
    await refused(kv, 'update', 'data/t', { data: { a: 2 }, options: { cas: SECRET_VALUE } }, 'error parsing check-and-set parameter');
    await refused(kv, 'patch', 'data/t', { data: [SECRET_VALUE] }, 'data must be an object');
    await refused(kv, 'update', 'destroy/t', { versions: [1, SECRET_VALUE] }, 'versions must be an integer');
    await refused(kv, 'update', 'delete/t', { versions: { one: 1 } }, /^versions must be /);
    await assert.rejects(kv.call('read', 'data/t', { version: SECRET_VALUE }), /version must be an integer/);
    await assert.rejects(kv.call('read', 'subkeys/t', { depth: 'deep' }), /depth must be an integer/);
    assert.equal(data(await kv.call('read', 'data/t')).data.a, 1);
  });

  it('keeps the range checks the types cannot express', async () => {
    const kv = mount();
    await kv.call('update', 'data/r', { data: { a: 1 } });
    await refused(kv, 'update', 'config', { max_versions: -1 }, 'max_versions must be a non-negative integer');
    await refused(kv, 'update', 'metadata/r', { max_versions: '-3' }, 'max_versions must be a non-negative integer');
    await refused(kv, 'update', 'data/r', { data: { a: 2 }, options: { cas: -1 } }, 'options.cas must be a non-negative integer');
    await refused(kv, 'update', 'destroy/r', { versions: '0,1' }, '"versions" must hold version numbers of 1 or more');
    await assert.rejects(kv.call('read', 'data/r', { version: -1 }), /version must be a non-negative integer/);
    await assert.rejects(kv.call('read', 'subkeys/r', { depth: -1 }), /depth must be a non-negative integer/);
  });
});

describe('kv v2 declared fields: unknown fields', () => {
  it('earn Vault\'s warning on answers with a body, sorted, and are not stored', async () => {
    const kv = mount();
    const written = await kv.call('update', 'data/u', { data: { a: 1 }, zeta: SECRET_VALUE, alpha: 1 });
    assert.deepEqual(written?.warnings, ['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
    const read = await kv.call('read', 'data/u', { bogus: '1' });
    assert.deepEqual(read?.warnings, ['Endpoint ignored these unrecognized parameters: [bogus]']);
    assert.deepEqual(data(read).data, { a: 1 });
    const metadata = await kv.call('read', 'metadata/u', { extra: 'x' });
    assert.deepEqual(metadata?.warnings, ['Endpoint ignored these unrecognized parameters: [extra]']);
    // A 204 has no body to carry one.
    assert.deepEqual(await kv.call('update', 'config', { max_versions: 3, unknown: true }), { status: 204 });
    assert.ok(!kv.storage.snapshot().some(([, value]) => Buffer.from(value, 'base64').toString().includes(SECRET_VALUE)));
  });

  it('declared fields draw no warning', async () => {
    const kv = mount();
    const written = await kv.call('update', 'data/q', { data: { a: 1 }, options: { cas: 0 } });
    assert.equal(written?.warnings, undefined);
    assert.equal((await kv.call('read', 'data/q', { version: '1' }))?.warnings, undefined);
    assert.equal((await kv.call('read', 'subkeys/q', { version: '1', depth: '0' }))?.warnings, undefined);
  });
});

describe('kv v2 declared fields: __proto__ and constructor', () => {
  it('are plain data inside data and custom_metadata, and unknown fields at the top', async () => {
    const kv = mount();
    const body = JSON.parse('{"data": {"__proto__": {"polluted": true}, "constructor": "c"}, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    const written = await kv.call('update', 'data/p', body);
    assert.deepEqual(written?.warnings, ['Endpoint ignored these unrecognized parameters: [__proto__ constructor]']);
    const read = data(await kv.call('read', 'data/p')).data;
    assert.deepEqual(Object.keys(read).sort(), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(read), Object.prototype);
    assert.equal(read.constructor, 'c');

    await kv.call('update', 'metadata/p', JSON.parse('{"custom_metadata": {"__proto__": "x", "constructor": "y"}}'));
    const custom = data(await kv.call('read', 'metadata/p')).custom_metadata;
    assert.deepEqual(JSON.parse(JSON.stringify(custom)), JSON.parse('{"__proto__": "x", "constructor": "y"}'));
    await kv.call('patch', 'metadata/p', JSON.parse('{"custom_metadata": {"__proto__": null}}'));
    assert.deepEqual(JSON.parse(JSON.stringify(data(await kv.call('read', 'metadata/p')).custom_metadata)), { constructor: 'y' });

    // An options map holding a "__proto__" key carries no cas.
    assert.equal(data(await kv.call('update', 'data/p', { data: { b: 1 }, options: JSON.parse('{"__proto__": {"cas": 99}}') })).version, 2);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('kv v2 declared paths', () => {
  it('answer 405 for an operation a known path does not declare, 404 (null) for unknown paths', async () => {
    const kv = mount();
    assert.equal(await status(kv.call('list', 'data/x')), 405);
    assert.equal(await status(kv.call('patch', 'config')), 405);
    assert.equal(await status(kv.call('list', 'config')), 405);
    assert.equal(await status(kv.call('update', 'subkeys/x', { depth: 1 })), 405);
    assert.equal(await status(kv.call('delete', 'destroy/x')), 405);
    assert.equal(await status(kv.call('read', 'undelete/x')), 405);
    assert.equal(await status(kv.call('patch', 'delete/x', { versions: [1] })), 405);
    assert.equal(await kv.call('read', 'configs'), null);
    assert.equal(await kv.call('read', 'metadataX/y'), null);
  });

  it('data and metadata tell create from update by whether the secret\'s metadata exists', async () => {
    const kv = mount();
    const exists = (path: string) => kv.backend.existenceCheck(testRequest(kv.storage, 'update', path, {}));
    assert.equal(await exists('data/e'), false);
    assert.equal(await exists('metadata/e'), false);
    await kv.call('update', 'metadata/e', { max_versions: 2 });
    assert.equal(await exists('data/e'), true, 'metadata without versions is an existing secret, as in Vault');
    assert.equal(await exists('metadata/e'), true);
    assert.equal(await exists('data/'), false);
    assert.equal(await exists('config'), undefined, 'config has no existence check: every write is an update');
    assert.equal(await exists('destroy/e'), undefined);
    assert.equal(kv.backend.distinguishesCreate('data/e'), false);
  });

  it('help and OpenAPI describe every path from the declarations', () => {
    const kv = mount();
    const help = kv.backend.help('data/app', 'secret/');
    assert.ok(help);
    for (const field of ['data', 'options', 'version', 'path']) assert.match(help.help, new RegExp(`^${field} \\(`, 'm'));
    const paths = Object.keys(kv.backend.openApiPaths('secret/')).sort();
    for (const p of ['/secret/config', '/secret/data/{path}', '/secret/metadata/{path}', '/secret/delete/{path}', '/secret/undelete/{path}', '/secret/destroy/{path}', '/secret/subkeys/{path}']) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
  });
});

describe('kv v2 delete_version_after, in whole seconds as Vault counts it', () => {
  it('a negative mount setting turns age-based deletion off, and reads back as "-1s"', async () => {
    const kv = mount();
    await kv.call('update', 'config', { delete_version_after: '-5m' });
    assert.equal(data(await kv.call('read', 'config')).delete_version_after, '-1s');
    await kv.call('update', 'metadata/off', { delete_version_after: '1h' });
    assert.equal(data(await kv.call('update', 'data/off', { data: { a: 1 } })).deletion_time, '');
    await kv.call('update', 'config', { delete_version_after: 0 });
    assert.equal(data(await kv.call('read', 'config')).delete_version_after, '0s');
    assert.notEqual(data(await kv.call('update', 'data/off', { data: { a: 2 } })).deletion_time, '');
  });

  it('the shorter of the mount\'s and the secret\'s setting applies', async () => {
    const kv = mount();
    const lifetime = (written: Record<string, any>) => Date.parse(written.deletion_time) - Date.parse(written.created_time);
    await kv.call('update', 'config', { delete_version_after: '2h' });
    await kv.call('update', 'metadata/short', { delete_version_after: '1h' });
    await kv.call('update', 'metadata/long', { delete_version_after: '3h' });
    assert.equal(lifetime(data(await kv.call('update', 'data/short', { data: { a: 1 } }))), 3_600_000);
    assert.equal(lifetime(data(await kv.call('update', 'data/long', { data: { a: 1 } }))), 7_200_000);
    assert.equal(lifetime(data(await kv.call('update', 'data/unset', { data: { a: 1 } }))), 7_200_000);
  });

  it('a secret\'s setting cannot be negative', async () => {
    const kv = mount();
    await refused(kv, 'update', 'metadata/neg', { delete_version_after: '-1s' }, /^delete_version_after must be a non-negative duration/);
  });
});

describe('kv v2 metadata list exclude_deleted', () => {
  it('leaves out secrets whose current version is deleted, keeping folders', async () => {
    const kv = mount();
    for (const path of ['live', 'gone', 'dir/x']) await kv.call('update', `data/${path}`, { data: { a: 1 } });
    await kv.call('delete', 'data/gone');
    assert.deepEqual(data(await kv.call('list', 'metadata/')).keys, ['dir/', 'gone', 'live']);
    assert.deepEqual(data(await kv.call('list', 'metadata/', { exclude_deleted: 'true' })).keys, ['dir/', 'live']);
    await kv.call('update', 'undelete/gone', { versions: [1] });
    assert.deepEqual(data(await kv.call('list', 'metadata/', { exclude_deleted: true })).keys, ['dir/', 'gone', 'live']);
  });
});
